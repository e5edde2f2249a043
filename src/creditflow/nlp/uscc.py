"""Unified social credit code (统一社会信用代码, GB 32100-2015) validation.

Why a module of its own: the NLP document path, the dealer intake checks and the
decision rules all need to tell a well-formed registration number from a typo or a
forgery, and they must agree on exactly one implementation of the checksum.
"""

from __future__ import annotations

import re

#: The 31 characters GB 32100-2015 allows (no I, O, S, V, Z).
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(CHARSET)}
#: Position weights W_i = 3^(i-1) mod 31 for the first 17 characters.
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def check_char(first17: str) -> str:
    """The check character (position 18) for the first 17 characters of a code."""
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


def is_valid_uscc(code: str) -> bool:
    """True if `code` is an 18-character USCC whose check character is right.

    Lower case and surrounding whitespace are tolerated (OCR and typing both produce
    them); anything else outside the charset, a non-numeric administrative-division
    part (positions 3-8) or a wrong check character makes the code invalid.
    """
    if not isinstance(code, str):
        return False
    code = code.strip().upper()
    if len(code) != 18 or not _SHAPE.match(code):
        return False
    return check_char(code[:17]) == code[17]


def make_uscc(first17: str) -> str:
    """Complete 17 characters into a valid code (used by test-data generators)."""
    first17 = first17.upper()
    return first17 + check_char(first17)
