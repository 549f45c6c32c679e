"""Kubernetes resource quantities, parsed once at the edge.

Grammar (k8s.io/apimachinery/pkg/api/resource): a signed decimal number followed by an
optional suffix, either a binary SI suffix (Ki Mi Gi Ti Pi Ei), a decimal SI suffix
(n u m "" k M G T P E) or a decimal exponent (e3, E-2).

Every quantity is range-checked before any arithmetic: at most :data:`MAX_DIGITS` digits and a
decimal exponent within +-:data:`MAX_EXPONENT`, so no input can overflow the decimal context
or spend seconds converting a huge number; whole-number results must fit int64.
"""

from __future__ import annotations

import math
import re
from decimal import Context, Decimal

from .errors import InputError
from .limits import INT64_MAX

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"), "": Decimal(1),
            "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"),
            "P": Decimal("1e15"), "E": Decimal("1e18")}
# ASCII digits only: \d would also accept Arabic-Indic and other Unicode digits.
_PATTERN = re.compile(
    r"^(?P<num>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$", re.ASCII)
MAX_DIGITS = 40      # digits of the number before its suffix (int64 has 19)
MAX_EXPONENT = 30    # |e| of a decimal exponent suffix (1e30 is far beyond any resource)
_SHOWN = 40          # characters of a bad value quoted in a message
# Precision for exact results: 40 digits times 2^60 (19 digits) times 1000 stays within 80 digits.
_EXACT = Context(prec=80)


def shown(value) -> str:
    """``value`` as quoted in a message, cut to a readable length."""
    text = str(value)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + f"... ({len(text)} characters)"


def parse_quantity(value, field: str = "quantity", *, file: str | None = None,
                   row: int | None = None) -> Decimal:
    """Return the quantity as an exact Decimal in base units (cores, bytes, devices)."""
    where = {"file": file, "row": row, "field": field}
    if isinstance(value, bool):
        raise InputError(f"expected a Kubernetes quantity, got {value!r}", **where)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"expected a finite quantity, got {value!r}", **where)
        value = repr(value)                     # 1e+308 is then checked like the text "1e+308"
    elif isinstance(value, int):
        if abs(value) > INT64_MAX:              # cheap: comparing ints does not convert them to text
            raise _out_of_range(value, where, "base units")
        return Decimal(value)
    text = str(value).strip() if value is not None else ""
    match = _PATTERN.match(text)
    if not match:
        raise InputError(
            f"'{shown(value)}' is not a Kubernetes quantity (expected e.g. 100m, 1.5, 2Ki, 16Gi, 1e3, 500M)", **where)
    digits = sum(ch.isdigit() for ch in match["num"])
    suffix = match["suffix"] or ""
    exponent = suffix[1:] if suffix not in _BINARY and suffix not in _DECIMAL else ""   # e3, E-2 (not Ei, E)
    if digits > MAX_DIGITS or (exponent and _too_large_exponent(exponent)):
        raise _out_of_range(value, where)
    number = Decimal(match["num"])
    if suffix in _BINARY:
        return _EXACT.multiply(number, _BINARY[suffix])
    if suffix in _DECIMAL:
        return _EXACT.multiply(number, _DECIMAL[suffix])
    return _EXACT.scaleb(number, int(exponent))


def _too_large_exponent(text: str) -> bool:
    digits = text.lstrip("+-").lstrip("0")
    return len(digits) > 3 or int(digits or "0") > MAX_EXPONENT


def _out_of_range(value, where, unit: str | None = None) -> InputError:
    if unit:
        expected = f"at most {INT64_MAX} {unit} (64-bit)"
    else:
        expected = f"at most {MAX_DIGITS} digits and an exponent within -{MAX_EXPONENT}..{MAX_EXPONENT}"
    return InputError(f"'{shown(value)}' is out of range; expected {expected}, e.g. 100m, 16Gi, 1e3", **where)


def cpu_milli(value, field: str = "cpu", **where) -> int:
    """CPU quantity -> milli-cores, rounded up as Kubernetes does (1.0001 -> 1001m)."""
    milli = _EXACT.multiply(parse_quantity(value, field, **where), 1000)
    _fits_int64(milli, value, field, where, "milli-cores")
    return _non_negative(math.ceil(milli), value, field, where)


def memory_mib(value, field: str = "memory", **where) -> float:
    """Memory quantity -> MiB (may be fractional: 500M is 476.837... MiB)."""
    mib = _EXACT.divide(parse_quantity(value, field, **where), 1 << 20)
    _fits_int64(mib, value, field, where, "MiB")
    return _non_negative(float(mib), value, field, where)


def count(value, field: str = "count", **where) -> int:
    """Device-count quantity (nvidia.com/gpu) -> whole number."""
    number = parse_quantity(value, field, **where)
    _fits_int64(number, value, field, where, "devices")
    if number != number.to_integral_value():
        raise InputError(f"'{shown(value)}' must be a whole number of devices", field=field, **where)
    return _non_negative(int(number), value, field, where)


def _fits_int64(number: Decimal, value, field, where, unit: str) -> None:
    if abs(number) > INT64_MAX:
        raise _out_of_range(value, {**where, "field": field}, unit)


def _non_negative(number, value, field, where):
    if number < 0:
        raise InputError(f"'{shown(value)}' is negative; expected a quantity >= 0", field=field, **where)
    return number
