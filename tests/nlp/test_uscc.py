"""GB 32100-2015 unified social credit code checksum."""

import pytest

from creditflow.nlp.uscc import check_char, is_valid_uscc, make_uscc


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L", " 91350100m000100y43 "])
def test_real_codes_validate(code):
    assert is_valid_uscc(code)


@pytest.mark.parametrize("code", [
    "91350100M000100Y44",  # wrong check character
    "91350100M000100Y4",  # too short
    "91350100M000100Y433",  # too long
    "9135010OM000100Y43",  # letter O is not in the charset / division code not numeric
    "91350100I000100Y43",  # I is not in the charset
    "",
])
def test_invalid_codes(code):
    assert not is_valid_uscc(code)


def test_non_string():
    assert not is_valid_uscc(None)  # type: ignore[arg-type]


def test_every_single_character_change_is_caught():
    code = "91350100M000100Y43"
    charset = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for i in range(18):
        for c in charset:
            if c != code[i]:
                changed = code[:i] + c + code[i + 1:]
                assert not is_valid_uscc(changed), changed


def test_make_uscc_roundtrip():
    code = make_uscc("91440300MA5DC1234")
    assert len(code) == 18 and is_valid_uscc(code)
    assert code[-1] == check_char(code[:17])
