"""Canonical JSON (RFC 8785, JCS) so that a record hashes the same everywhere, forever.

Why our own ~60 lines instead of a package: the evidence log's hashes must not change when a
dependency changes its float formatting, and JCS is small enough to pin down here and test
against the RFC's examples. Rules: object keys sorted by UTF-16 code units, no whitespace,
strings escaped minimally (JSON's mandatory escapes only), UTF-8 output, numbers written as
ECMAScript's `Number.prototype.toString` writes them (shortest round-trip digits; integral
floats without a fraction, so 1.0 -> 1; exponent form outside 1e-7..1e21).

Only JSON types are accepted (dict with str keys, list/tuple, str, int, float, bool, None):
anything else is a bug in the caller and raises TypeError rather than being stringified.
Integers beyond +-2**53 that are not exactly a double are refused (JCS numbers are IEEE
doubles; silently rounding an amount in an evidence record would be worse than failing).
Read canonical text back with `loads`, which turns integer literals beyond 2**53 into
floats, so that parse -> canonical_json gives the same bytes again.
"""

from __future__ import annotations

import hashlib
import json
import math
from decimal import Decimal
from typing import Any

MAX_SAFE_INTEGER = 2**53 - 1


def _number(value: float) -> str:
    if math.isnan(value) or math.isinf(value):
        raise ValueError("NaN and Infinity have no JSON representation")
    if value == 0:
        return "0"  # also -0.0, as ECMAScript does
    sign = "-" if value < 0 else ""
    _, digit_tuple, exponent = Decimal(repr(abs(value))).as_tuple()
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    stripped = digits.rstrip("0")
    exponent = int(exponent) + (len(digits) - len(stripped))
    digits = stripped
    k = len(digits)
    n = exponent + k  # value = 0.<digits> * 10**n
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = digits[:n] + "." + digits[n:]
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        e = n - 1
        mantissa = digits if k == 1 else digits[0] + "." + digits[1:]
        body = f"{mantissa}e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + body


def _encode(obj: Any, out: list[str]) -> None:
    if obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, int):
        if abs(obj) <= MAX_SAFE_INTEGER:
            out.append(str(int(obj)))
        elif float(obj) == obj:  # a double in disguise (e.g. a parsed 1e17): write it as one
            out.append(_number(float(obj)))
        else:
            raise ValueError(f"integer {obj} is not exactly representable as an IEEE double")
    elif isinstance(obj, float):
        out.append(_number(obj))
    elif isinstance(obj, str):
        out.append(json.dumps(obj, ensure_ascii=False))
    elif isinstance(obj, dict):
        for key in obj:
            if not isinstance(key, str):
                raise TypeError(f"object keys must be str, got {type(key).__name__}")
        out.append("{")
        for i, key in enumerate(sorted(obj, key=lambda k: k.encode("utf-16-be"))):
            if i:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _encode(obj[key], out)
        out.append("}")
    elif isinstance(obj, (list, tuple)):
        out.append("[")
        for i, item in enumerate(obj):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"{type(obj).__name__} is not a JSON type; convert it before hashing")


def canonical_json(obj: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of a JSON value."""
    out: list[str] = []
    _encode(obj, out)
    return "".join(out).encode("utf-8")


def _parse_int(literal: str) -> int | float:
    value = int(literal)
    return value if abs(value) <= MAX_SAFE_INTEGER else float(literal)


def loads(text: str | bytes) -> Any:
    """Parse JSON with JCS number semantics (every number is a double)."""
    return json.loads(text, parse_int=_parse_int)


def sha256_hex(obj: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of `obj`; bytes are hashed as they are."""
    data = obj if isinstance(obj, (bytes, bytearray, memoryview)) else canonical_json(obj)
    return hashlib.sha256(data).hexdigest()
