"""RFC 9162 hashing and proofs: known answers, an independent naive implementation, bad proofs."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from microcred.ledger.errors import ProofError
from microcred.ledger.merkle import (
    EMPTY_ROOT,
    MemoryTree,
    TreeEdge,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

# RFC 6962 reference data (as used by certificate-transparency-go and Trillian's tests).
LEAVES = [
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]  # fmt: skip
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
h = bytes.fromhex


def reference_tree(count: int = 8) -> MemoryTree:
    tree = MemoryTree()
    tree.extend(leaf_hash(h(item)) for item in LEAVES[:count])
    return tree


# --- an independent, naive implementation of RFC 9162 §2.1 over lists ------------------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_root(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = _k(len(leaves))
    return node_hash(naive_root(leaves[:k]), naive_root(leaves[k:]))


def naive_path(m: int, leaves: list[bytes]) -> list[bytes]:
    if len(leaves) == 1:
        return []
    k = _k(len(leaves))
    if m < k:
        return [*naive_path(m, leaves[:k]), naive_root(leaves[k:])]
    return [*naive_path(m - k, leaves[k:]), naive_root(leaves[:k])]


def naive_subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [naive_root(leaves)]
    k = _k(n)
    if m <= k:
        return [*naive_subproof(m, leaves[:k], complete), naive_root(leaves[k:])]
    return [*naive_subproof(m - k, leaves[k:], False), naive_root(leaves[:k])]


def _hashes(count: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(count)]


# --- known answers ---------------------------------------------------------------------------


def test_roots_match_the_rfc6962_reference_data_at_every_size() -> None:
    tree = MemoryTree()
    assert tree.root() == EMPTY_ROOT
    for size, (item, root) in enumerate(zip(LEAVES, ROOTS, strict=True), start=1):
        tree.append(leaf_hash(h(item)))
        assert tree.root().hex() == root
        assert tree.edge.root().hex() == root
        assert tree.root(size).hex() == root


def test_inclusion_proof_matches_the_reference_answer() -> None:
    tree = reference_tree()
    expected = [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]
    assert [p.hex() for p in tree.inclusion_proof(5, 8)] == expected
    verify_inclusion(5, 8, leaf_hash(h(LEAVES[5])), tree.inclusion_proof(5, 8), h(ROOTS[7]))
    assert tree.inclusion_proof(2, 3) == [h(ROOTS[1])]


def test_consistency_proofs_match_the_reference_answers() -> None:
    tree = reference_tree()
    assert [p.hex() for p in tree.consistency_proof(6, 8)] == [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]
    assert [p.hex() for p in tree.consistency_proof(2, 5)] == [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ]
    verify_consistency(6, 8, h(ROOTS[5]), h(ROOTS[7]), tree.consistency_proof(6, 8))


# --- properties against the naive implementation ---------------------------------------------


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=1, max_value=300), st.data())
def test_proofs_equal_the_naive_rfc_definition_and_verify(size: int, data: st.DataObject) -> None:
    leaves = _hashes(size)
    tree = MemoryTree()
    tree.extend(leaves)
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    old = data.draw(st.integers(min_value=1, max_value=size))
    root, old_root = naive_root(leaves), naive_root(leaves[:old])

    assert tree.root() == root == tree.edge.root()
    assert tree.root(old) == old_root
    inclusion = tree.inclusion_proof(index, size)
    assert inclusion == naive_path(index, leaves)
    verify_inclusion(index, size, leaves[index], inclusion, root)
    consistency = tree.consistency_proof(old, size)
    assert consistency == naive_subproof(old, leaves, True)
    verify_consistency(old, size, old_root, root, consistency)


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=2, max_value=200), st.data())
def test_any_altered_proof_hash_is_rejected(size: int, data: st.DataObject) -> None:
    tree = MemoryTree()
    tree.extend(_hashes(size))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    proof = tree.inclusion_proof(index, size)
    position = data.draw(st.integers(min_value=0, max_value=len(proof) - 1))
    altered = list(proof)
    altered[position] = bytes([altered[position][0] ^ 1]) + altered[position][1:]
    with pytest.raises(ProofError, match="does not lead"):
        verify_inclusion(index, size, _hashes(size)[index], altered, tree.root())
    old = data.draw(st.integers(min_value=1, max_value=size - 1))
    consistency = tree.consistency_proof(old, size)
    altered_consistency = [bytes(32), *consistency[1:]]
    with pytest.raises(ProofError, match="rewritten"):
        verify_consistency(old, size, tree.root(old), tree.root(), altered_consistency)


def test_tree_edge_survives_encoding_and_rejects_a_corrupt_head() -> None:
    edge = TreeEdge()
    for leaf in _hashes(13):
        edge.append(leaf)
    again = TreeEdge.decode(13, edge.encode_peaks())
    assert again.root() == edge.root() == naive_root(_hashes(13))
    with pytest.raises(Exception, match="corrupt"):
        TreeEdge.decode(15, edge.encode_peaks())


# --- bad input: clear failures, never a trace ------------------------------------------------


def test_a_proof_for_another_tree_size_fails_clearly() -> None:
    tree = reference_tree()
    proof_for_seven = tree.inclusion_proof(2, 7)
    with pytest.raises(ProofError, match=r"another tree size|does not lead"):
        verify_inclusion(2, 8, leaf_hash(h(LEAVES[2])), proof_for_seven, h(ROOTS[7]))


def test_a_truncated_proof_fails_clearly() -> None:
    tree = reference_tree()
    proof = tree.inclusion_proof(5, 8)
    with pytest.raises(ProofError, match=r"has 2 hashes.*needs 3.*truncated"):
        verify_inclusion(5, 8, leaf_hash(h(LEAVES[5])), proof[:-1], h(ROOTS[7]))
    with pytest.raises(ProofError, match="truncated"):
        verify_consistency(6, 8, h(ROOTS[5]), h(ROOTS[7]), tree.consistency_proof(6, 8)[:2])
    with pytest.raises(ProofError, match="not 32"):
        verify_inclusion(5, 8, leaf_hash(h(LEAVES[5])), [proof[0][:31], *proof[1:]], h(ROOTS[7]))


def test_impossible_sizes_are_refused() -> None:
    tree = reference_tree()
    with pytest.raises(ProofError, match="not in a tree"):
        tree.inclusion_proof(8, 8)
    with pytest.raises(ProofError, match="at least as large"):
        tree.consistency_proof(5, 3)
    with pytest.raises(ProofError, match="has 8 leaves"):
        tree.consistency_proof(3, 9)
    with pytest.raises(ProofError, match="forked"):
        verify_consistency(4, 4, h(ROOTS[3]), h(ROOTS[4]), [])
