"""Canonical JSON against RFC 8785's own examples, plus round-trip properties."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditflow.ledger.canonical import canonical_json, loads, sha256_hex


def test_rfc8785_section_3_2_2_example() -> None:
    value = json.loads(
        '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],'
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
    )
    assert canonical_json(value) == expected.encode("utf-8")


def test_rfc8785_sorting_by_utf16_code_units() -> None:
    value = {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
             "1": "One", "\U0001f600": "Emoji: Grinning Face", "\u0080": "Control", "\u00f6": "Latin Small Letter O With Diaeresis"}
    keys = list(json.loads(canonical_json(value)))
    assert keys == ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0.0, "0"), (-0.0, "0"), (1.0, "1"), (100.0, "100"), (-1.5, "-1.5"), (0.1, "0.1"),
        (1e21, "1e+21"), (1e20, "100000000000000000000"), (1e-7, "1e-7"), (1e-6, "0.000001"),
        (1.5e-7, "1.5e-7"), (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
        (9007199254740992.0, "9007199254740992"), (295147905179352830000.0, "295147905179352830000"),
        (1e23, "1e+23"), (123456789.125, "123456789.125"), (-2.5e-5, "-0.000025"), (4800, "4800"),
    ],
)
def test_number_serialisation_matches_ecmascript(number: float, text: str) -> None:
    assert canonical_json(number) == text.encode()


def test_rejects_what_json_cannot_carry() -> None:
    for bad in (math.nan, math.inf, {1: "x"}, {"t": (1, {2})}, object(), 2**60 + 1):
        with pytest.raises((TypeError, ValueError)):
            canonical_json(bad)


def test_sha256_hex_of_canonical_form_ignores_key_order_and_whitespace() -> None:
    assert sha256_hex({"b": 1, "a": [1.0, "x"]}) == sha256_hex(json.loads('{ "a" : [1, "x"], "b" : 1.0 }'))
    assert sha256_hex(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_round_trip_and_idempotent(value: object) -> None:
    out = canonical_json(value)
    parsed = loads(out)
    assert canonical_json(parsed) == out
    assert parsed == value


def test_large_doubles_survive_a_round_trip() -> None:
    for value in (1e17, 2.0**60, -9007199254740994.0, 2**60):
        out = canonical_json(value)
        assert canonical_json(loads(out)) == out
    assert canonical_json(2**60) == b"1152921504606847000"
