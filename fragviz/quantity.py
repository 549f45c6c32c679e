"""Kubernetes resource quantities, parsed once at the edge.

Grammar (k8s.io/apimachinery/pkg/api/resource): a signed decimal number followed by an
optional suffix, either a binary SI suffix (Ki Mi Gi Ti Pi Ei), a decimal SI suffix
(n u m "" k M G T P E) or a decimal exponent (e3, E-2).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

from .errors import InputError

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
            "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
            "P": Decimal("1e15"), "E": Decimal("1e18")}
_PATTERN = re.compile(
    r"^(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$")


def parse_quantity(value, field: str = "quantity", *, file: str | None = None,
                   row: int | None = None) -> Decimal:
    """Return the quantity as an exact Decimal in base units (cores, bytes, devices)."""
    if isinstance(value, bool):
        raise InputError(f"expected a Kubernetes quantity, got {value!r}", file=file, row=row, field=field)
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"expected a finite quantity, got {value!r}", file=file, row=row, field=field)
        return Decimal(repr(value))
    text = str(value).strip() if value is not None else ""
    match = _PATTERN.match(text)
    if not match:
        raise InputError(
            f"'{value}' is not a Kubernetes quantity (expected e.g. 100m, 1.5, 2Ki, 16Gi, 1e3, 500M)",
            file=file, row=row, field=field)
    try:
        number = Decimal(match["num"])
    except InvalidOperation as exc:  # pragma: no cover - the regex already guards this
        raise InputError(f"'{value}' is not a number", file=file, row=row, field=field) from exc
    suffix = match["suffix"] or ""
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    return number * (Decimal(10) ** int(suffix[1:]))


def cpu_milli(value, field: str = "cpu", **where) -> int:
    """CPU quantity -> milli-cores, rounded up as Kubernetes does (1.0001 -> 1001m)."""
    return _non_negative(math.ceil(parse_quantity(value, field, **where) * 1000), value, field, where)


def memory_mib(value, field: str = "memory", **where) -> float:
    """Memory quantity -> MiB (may be fractional: 500M is 476.837... MiB)."""
    mib = parse_quantity(value, field, **where) / (1 << 20)
    return _non_negative(float(mib), value, field, where)


def count(value, field: str = "count", **where) -> int:
    """Device-count quantity (nvidia.com/gpu) -> whole number."""
    number = parse_quantity(value, field, **where)
    if number != number.to_integral_value():
        raise InputError(f"'{value}' must be a whole number of devices", field=field, **where)
    return _non_negative(int(number), value, field, where)


def _non_negative(number, value, field, where):
    if number < 0:
        raise InputError(f"'{value}' is negative; expected a quantity >= 0", field=field, **where)
    return number
