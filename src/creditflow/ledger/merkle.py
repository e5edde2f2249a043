"""RFC 6962 Merkle tree: hashing, tree heads of any size, inclusion and consistency proofs.

This is the writer's side. `MerkleTree` keeps every complete subtree (level by level) so the
root of any prefix and any proof cost O(log^2 n) after an O(n) build; `CompactRange` is the
O(log n) state a writer needs to extend a tree without reading its leaves. The verification
functions re-exported here live in `rfc9162.py` and do not share this code.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from creditflow.ledger.rfc9162 import verify_consistency, verify_inclusion

__all__ = [
    "EMPTY_ROOT",
    "CompactRange",
    "MerkleTree",
    "leaf_hash",
    "node_hash",
    "verify_consistency",
    "verify_inclusion",
]

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """MTH of a one-element list: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """An append-only list of leaf hashes with cached complete subtrees."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        for h in leaf_hashes:
            self.append_hash(h)

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def leaf(self, index: int) -> bytes:
        return self._levels[0][index]

    def append_hash(self, h: bytes) -> int:
        """Add a leaf hash; returns its index."""
        if len(h) != 32:
            raise ValueError("leaf hash must be 32 bytes")
        index = self.size
        self._levels[0].append(h)
        level, i = 0, index
        while i & 1:  # completes a subtree one level up
            if len(self._levels) == level + 1:
                self._levels.append([])
            self._levels[level + 1].append(node_hash(self._levels[level][i - 1], self._levels[level][i]))
            level, i = level + 1, i >> 1
        return index

    def append_data(self, data: bytes) -> int:
        return self.append_hash(leaf_hash(data))

    def _range(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) where start is aligned as RFC 6962's recursion guarantees."""
        n = end - start
        if n == 0:
            return EMPTY_ROOT
        if n & (n - 1) == 0 and start % n == 0:
            return self._levels[n.bit_length() - 1][start // n]
        k = _split(n)
        return node_hash(self._range(start, start + k), self._range(start + k, end))

    def _check_size(self, size: int) -> None:
        if size < 0 or size > self.size:
            raise ValueError(f"tree size {size} outside 0..{self.size}")

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first `size` leaves (all when None)."""
        size = self.size if size is None else size
        self._check_size(size)
        return self._range(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(m, D[0:size]) of RFC 6962 section 2.1.1."""
        size = self.size if size is None else size
        self._check_size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf {index} is not in a tree of size {size}")
        return self._path(index, 0, size)

    def _path(self, m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = _split(n)
        if m < k:
            return self._path(m, start, start + k) + [self._range(start + k, end)]
        return self._path(m - k, start + k, end) + [self._range(start, start + k)]

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """PROOF(size1, D[0:size2]) of RFC 6962 section 2.1.2 (empty when trivial)."""
        size2 = self.size if size2 is None else size2
        self._check_size(size2)
        if not 0 <= size1 <= size2:
            raise ValueError(f"cannot prove {size1} -> {size2}")
        if size1 == 0 or size1 == size2:
            return []
        return self._subproof(size1, 0, size2, True)

    def _subproof(self, m: int, start: int, end: int, complete: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if complete else [self._range(start, end)]
        k = _split(n)
        if m <= k:
            return self._subproof(m, start, start + k, complete) + [self._range(start + k, end)]
        return self._subproof(m - k, start + k, end, False) + [self._range(start, start + k)]


class CompactRange:
    """The roots of the complete subtrees of a tree of `size` leaves, largest first.

    Enough to compute the root and to append, without the leaves: what the log writer stores
    next to each signed head so that appending stays O(log n) whatever the log's length.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if bin(size).count("1") != len(hashes):
            raise ValueError("a compact range holds one hash per set bit of its size")
        self.size = size
        self.hashes = list(hashes)

    def append(self, h: bytes) -> None:
        self.hashes.append(h)
        n = self.size
        while n & 1:
            right = self.hashes.pop()
            left = self.hashes.pop()
            self.hashes.append(node_hash(left, right))
            n >>= 1
        self.size += 1

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        r = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            r = node_hash(h, r)
        return r
