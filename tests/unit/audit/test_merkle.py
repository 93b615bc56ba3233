"""RFC 9162 Merkle tree: the published Certificate Transparency vectors, and properties."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apprentice.audit.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

VECTORS = json.loads((Path(__file__).parents[2] / "vectors" / "rfc6962_merkle.json").read_text())
LEAVES = [bytes.fromhex(h) for h in VECTORS["leaves_hex"]]


def _tree() -> MerkleTree:
    return MerkleTree(leaf_hash(d) for d in LEAVES)


def _reference_root(hashes: list[bytes]) -> bytes:
    """MTH straight from the RFC's recursive definition (the slow way, for comparison)."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return node_hash(_reference_root(hashes[:k]), _reference_root(hashes[k:]))


def test_published_roots_for_every_size() -> None:
    tree = _tree()
    assert tree.root(0).hex() == VECTORS["empty_root"] == EMPTY_ROOT.hex()
    for size, root in VECTORS["roots"].items():
        assert tree.root(int(size)).hex() == root


@pytest.mark.parametrize("case", VECTORS["inclusion"], ids=lambda c: f"{c['index']}@{c['size']}")
def test_published_inclusion_proofs(case: dict) -> None:  # type: ignore[type-arg]
    tree = _tree()
    proof = tree.inclusion_proof(case["index"], case["size"])
    assert [p.hex() for p in proof] == case["proof"]
    root = bytes.fromhex(VECTORS["roots"][str(case["size"])])
    leaf, index, size = leaf_hash(LEAVES[case["index"]]), case["index"], case["size"]
    assert verify_inclusion(leaf, index, size, proof, root)
    # Same proof, wrong position or wrong root: refused.
    assert not verify_inclusion(leaf, index + 1, size, proof, root)
    assert not verify_inclusion(leaf, index, size, proof, EMPTY_ROOT)


@pytest.mark.parametrize("case", VECTORS["consistency"], ids=lambda c: f"{c['old']}-{c['new']}")
def test_published_consistency_proofs(case: dict) -> None:  # type: ignore[type-arg]
    tree = _tree()
    proof = tree.consistency_proof(case["old"], case["new"])
    assert [p.hex() for p in proof] == case["proof"]
    old, new = (bytes.fromhex(VECTORS["roots"][str(case[k])]) for k in ("old", "new"))
    assert verify_consistency(case["old"], case["new"], old, new, proof)
    if proof:
        assert not verify_consistency(case["old"], case["new"], new, old, proof)
        assert not verify_consistency(case["old"], case["new"], old, new, proof[:-1])
        assert not verify_consistency(case["old"], case["new"], old, new, [*proof, old])


def test_edge_cases_of_consistency() -> None:
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 5, EMPTY_ROOT, a, [])
    assert verify_consistency(3, 3, a, a, [])
    assert not verify_consistency(3, 3, a, b, [])
    assert not verify_consistency(3, 3, a, a, [a])
    assert not verify_consistency(4, 3, a, b, [a])
    assert not verify_consistency(1, 2, a, b, [])
    with pytest.raises(ValueError):
        _tree().consistency_proof(5, 3)
    with pytest.raises(ValueError):
        _tree().inclusion_proof(8, 8)


def test_a_leaf_cannot_pose_as_an_inner_node() -> None:
    tree = _tree()
    inner = tree.root(2)  # the node over leaves 0 and 1
    # Presenting that node's children as a "leaf" of a one-leaf tree does not give the same root.
    forged = MerkleTree([leaf_hash(leaf_hash(LEAVES[0]) + leaf_hash(LEAVES[1]))]).root()
    assert forged != inner


hashes = st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=70)


@settings(max_examples=150, deadline=None)
@given(leaves=hashes, data=st.data())
def test_every_inclusion_proof_verifies_and_any_flipped_bit_fails(leaves: list[bytes],
                                                                  data: st.DataObject) -> None:
    tree = MerkleTree(leaves)
    size = data.draw(st.integers(1, len(leaves)))
    index = data.draw(st.integers(0, size - 1))
    root = tree.root(size)
    assert root == _reference_root(leaves[:size])
    proof = tree.inclusion_proof(index, size)
    assert verify_inclusion(leaves[index], index, size, proof, root)
    if proof:
        which, bit = data.draw(st.integers(0, len(proof) - 1)), data.draw(st.integers(0, 255))
        bad = list(proof)
        bad[which] = _flip(bad[which], bit)
        assert not verify_inclusion(leaves[index], index, size, bad, root)
    wrong_leaf = _flip(leaves[index], data.draw(st.integers(0, 255)))
    assert not verify_inclusion(wrong_leaf, index, size, proof, root)


@settings(max_examples=150, deadline=None)
@given(leaves=hashes, data=st.data())
def test_every_consistency_proof_verifies_and_any_flipped_bit_fails(leaves: list[bytes],
                                                                    data: st.DataObject) -> None:
    tree = MerkleTree(leaves)
    new = data.draw(st.integers(1, len(leaves)))
    old = data.draw(st.integers(1, new))
    proof = tree.consistency_proof(old, new)
    old_root, new_root = tree.root(old), tree.root(new)
    assert verify_consistency(old, new, old_root, new_root, proof)
    if proof:
        which, bit = data.draw(st.integers(0, len(proof) - 1)), data.draw(st.integers(0, 255))
        bad = list(proof)
        bad[which] = _flip(bad[which], bit)
        assert not verify_consistency(old, new, old_root, new_root, bad)
        # A different history of the same old size is not consistent with the new tree.
        other = MerkleTree([_flip(leaves[0], 0), *leaves[1:old]]).root()
        assert not verify_consistency(old, new, other, new_root, proof)


def test_growing_tree_matches_the_definition_at_every_size() -> None:
    leaves = [leaf_hash(str(i).encode()) for i in range(300)]
    tree = MerkleTree()
    for i, h in enumerate(leaves):
        tree.append(h)
        if i % 7 == 0 or i < 40:
            assert tree.root() == _reference_root(leaves[:i + 1])


def _flip(value: bytes, bit: int) -> bytes:
    out = bytearray(value)
    out[bit // 8 % len(out)] ^= 1 << (bit % 8)
    return bytes(out)
