"""Proof verification exactly as RFC 9162 sections 2.1.3.2 and 2.1.4.2 describe it.

Kept apart from `merkle.py` on purpose: the code that checks a proof shares nothing with the
code that builds the tree except SHA-256 itself, so a bug in the writer cannot be mirrored by
the same bug in the verifier. Functions return bool and never raise on bad input: a proof
from outside is data, and "does not verify" is the answer to every malformed one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_SIZE = 32


def _children(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _well_formed(*hashes: object) -> bool:
    return all(isinstance(h, (bytes, bytearray)) and len(h) == HASH_SIZE for h in hashes)


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """True when `proof` shows the leaf with `leaf_hash` at `index` is in the tree `root`."""
    if not _well_formed(leaf_hash, root, *proof):
        return False
    if index < 0 or index >= tree_size:
        return False
    fn, sn = index, tree_size - 1
    r = bytes(leaf_hash)
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _children(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _children(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    size1: int, size2: int, root1: bytes, root2: bytes, proof: Sequence[bytes]
) -> bool:
    """True when `proof` shows the tree (size1, root1) is a prefix of the tree (size2, root2).

    Edge cases follow common practice (transparency-dev/merkle): equal sizes need an empty
    proof and equal roots; an empty old tree is consistent with anything, with an empty proof.
    """
    if not _well_formed(root1, root2, *proof):
        return False
    if size1 < 0 or size2 < size1:
        return False
    if size1 == size2:
        return len(proof) == 0 and root1 == root2
    if size1 == 0:
        return len(proof) == 0
    if len(proof) == 0:
        return False
    path = list(proof)
    if size1 & (size1 - 1) == 0:  # exact power of two: the old root is itself a node
        path.insert(0, bytes(root1))
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _children(c, fr)
            sr = _children(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _children(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == root1 and sr == root2 and sn == 0
