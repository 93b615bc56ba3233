"""The Merkle tree of the audit log: RFC 9162 §2.1 hashing, inclusion and consistency proofs.

    leaf hash   SHA-256(0x00 ‖ entry bytes)
    node hash   SHA-256(0x01 ‖ left ‖ right)
    MTH({})     SHA-256("")
    MTH(D[n])   node(MTH(D[0:k]), MTH(D[k:n])), k the largest power of two < n

The 0x00/0x01 prefixes keep a leaf from ever being passed off as an inner node (a second
preimage), and the unbalanced split makes the tree of n leaves a prefix of every larger tree,
which is what a consistency proof shows.

:class:`MerkleTree` keeps every *complete* subtree hash (the leaves, every aligned pair, every
aligned run of four, …) in one flat ``bytearray`` per level, 32 bytes a node: about 64 bytes
per leaf in all (64 MB for 10^6 entries). With that:

    append a leaf        O(1) amortised (one node hash per completed pair)
    root at any size     O(log n)        (left spine of complete subtrees + one fold)
    inclusion proof      O(log² n) worst case, usually O(log n)
    consistency proof    O(log² n) worst case

Every range the RFC's recursive definitions ask for is either a complete aligned subtree
(looked up) or a right edge that splits into one complete subtree plus a smaller right edge,
so nothing is ever rehashed from the leaves. The verifiers are the RFC's iterative
algorithms (§2.1.3.2, §2.1.4.2) and need nothing but the proof.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """An append-only RFC 9162 tree over leaf hashes (not thread-safe; callers lock)."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[bytearray] = [bytearray()]
        self._size = 0
        for h in leaf_hashes:
            self.append(h)

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf: bytes) -> None:
        """Add one leaf *hash* (see :func:`leaf_hash`) and complete the subtrees it closes."""
        if len(leaf) != HASH_SIZE:
            raise ValueError("a leaf hash is 32 bytes")
        self._levels[0] += leaf
        index, level = self._size, 0
        self._size += 1
        while index & 1:  # a right child completes its parent
            parent = node_hash(self._node(level, index - 1), self._node(level, index))
            level += 1
            if level == len(self._levels):
                self._levels.append(bytearray())
            self._levels[level] += parent
            index >>= 1

    def leaf(self, index: int) -> bytes:
        self._check(index + 1)
        return self._node(0, index)

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (default: all)."""
        size = self._size if size is None else size
        self._check(size)
        return EMPTY_ROOT if size == 0 else self._range(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1."""
        size = self._size if size is None else size
        self._check(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf {index} is not in a tree of size {size}")
        proof: list[bytes] = []
        start, end, m = 0, size, index
        # Iterative form of the recursion; siblings are collected top-down, returned bottom-up.
        while end - start > 1:
            k = _split(end - start)
            if m < k:
                proof.append(self._range(start + k, end))
                end = start + k
            else:
                proof.append(self._range(start, start + k))
                start, m = start + k, m - k
        proof.reverse()
        return proof

    def consistency_proof(self, old: int, new: int | None = None) -> list[bytes]:
        """PROOF(old, D[0:new]) of RFC 9162 §2.1.4.1 (empty when old is 0 or equal to new)."""
        new = self._size if new is None else new
        self._check(new)
        if not 0 <= old <= new:
            raise ValueError(f"no consistency proof from size {old} to the smaller size {new}")
        if old in (0, new):
            return []
        proof: list[bytes] = []
        start, end, m, whole = 0, new, old, True
        while m != end - start:
            k = _split(end - start)
            if m <= k:
                proof.append(self._range(start + k, end))
                end = start + k
            else:
                proof.append(self._range(start, start + k))
                start, m, whole = start + k, m - k, False
        if not whole:
            proof.append(self._range(start, end))
        proof.reverse()
        return proof

    # -- internals ----------------------------------------------------------------------
    def _check(self, size: int) -> None:
        if not 0 <= size <= self._size:
            raise ValueError(f"size {size} is beyond the {self._size} leaves in the tree")

    def _node(self, level: int, index: int) -> bytes:
        offset = index * HASH_SIZE
        return bytes(self._levels[level][offset:offset + HASH_SIZE])

    def _range(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for the ranges the RFC recursion produces (start aligned)."""
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:
            return self._node(n.bit_length() - 1, start // n)
        k = _split(n)
        return node_hash(self._range(start, start + k), self._range(start + k, end))


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show leaf hash ``leaf`` at ``index`` under ``root``?"""
    if not 0 <= index < size or len(leaf) != HASH_SIZE or len(root) != HASH_SIZE:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if len(p) != HASH_SIZE or sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2: is the tree (new_size, new_root) an append-only extension of the
    tree (old_size, old_root)?"""
    if not 0 <= old_size <= new_size or any(len(p) != HASH_SIZE for p in proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof  # the empty tree is a prefix of every tree
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root
