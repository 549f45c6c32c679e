from decimal import Decimal

import pytest

from fragviz.errors import InputError
from fragviz.quantity import count, cpu_milli, memory_mib, parse_quantity


@pytest.mark.parametrize("text, expected", [
    ("100m", Decimal("0.1")), ("1.5", Decimal("1.5")), ("2Ki", Decimal(2048)), ("16Gi", Decimal(16 * 2**30)),
    ("1e3", Decimal(1000)), ("500M", Decimal(500_000_000)), ("1E-2", Decimal("0.01")), (".5", Decimal("0.5")),
    ("+2", Decimal(2)), ("3k", Decimal(3000)), ("1Ti", Decimal(2**40)), ("250u", Decimal("0.00025")), ("0", Decimal(0)),
    (4, Decimal(4)), (0.25, Decimal("0.25")),
])
def test_parse_quantity_grammar(text, expected):
    assert parse_quantity(text) == expected


def test_unit_conversions():
    assert cpu_milli("100m") == 100
    assert cpu_milli("1.5") == 1500
    assert cpu_milli("1.0001") == 1001          # rounded up like Kubernetes
    assert memory_mib("16Gi") == 16384
    assert memory_mib("2Ki") == pytest.approx(2 / 1024)
    assert memory_mib("500M") == pytest.approx(500e6 / 2**20)
    assert count("8") == 8
    assert count("1e1") == 10


@pytest.mark.parametrize("bad", ["12x", "", "Gi", "1.2.3", "1 Gi", "abc", "1e", None, True, float("nan")])
def test_bad_quantity_names_field_and_value(bad):
    with pytest.raises(InputError) as err:
        parse_quantity(bad, "spec.containers[0].resources.requests.cpu", file="pods.json", row=3)
    text = str(err.value)
    assert "spec.containers[0].resources.requests.cpu" in text and "pods.json" in text and "row 3" in text


def test_negative_and_fractional_devices_rejected():
    with pytest.raises(InputError, match="negative"):
        cpu_milli("-1")
    with pytest.raises(InputError, match="whole number"):
        count("1.5", field="nvidia.com/gpu")
