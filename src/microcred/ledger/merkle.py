"""RFC 9162 §2.1 Merkle tree hashing, inclusion and consistency proofs — pure functions.

Every hash a proof needs is the hash of a subtree the RFC recursion splits off. Such a subtree
is a run of *complete* aligned subtrees (node ``(level, index)`` covers leaves
``[index·2^level, (index+1)·2^level)``), so a store of complete-subtree hashes answers any root
or proof for any past tree size in O(log n) lookups; complete subtrees never change once built.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from microcred.ledger.errors import LedgerError, ProofError

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

NodeId = tuple[int, int]
"""A complete subtree: (level, index); level 0 is a leaf."""

Range = tuple[int, int]
"""Leaves [start, end) of a subtree the RFC recursion splits off."""

NodeLookup = Callable[[Sequence[NodeId]], Mapping[NodeId, bytes]]
"""Fetches stored complete-subtree hashes in one go (a database query, a dict)."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(size: int) -> int:
    """The largest power of two strictly below ``size`` (``size`` > 1): where the RFC splits."""
    return 1 << ((size - 1).bit_length() - 1)


def complete_subtrees(start: int, end: int) -> list[NodeId]:
    """The complete aligned subtrees covering leaves [start, end), left to right."""
    nodes: list[NodeId] = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else (end - start).bit_length()
        while (1 << level) > end - start:
            level -= 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def fold_right(hashes: Sequence[bytes]) -> bytes:
    """Hash of a subtree from its complete parts, largest first (how RFC trees combine)."""
    if not hashes:
        return EMPTY_ROOT
    accumulated = hashes[-1]
    for left in reversed(hashes[:-1]):
        accumulated = node_hash(left, accumulated)
    return accumulated


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The subtrees whose hashes form PATH(index, D[0:size]), deepest first."""
    if size <= 0 or not 0 <= index < size:
        raise ProofError(f"Leaf {index} is not in a tree of {size} leaves.", field="leaf_index")
    ranges: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The subtrees whose hashes form PROOF(first, D[0:second]), deepest first."""
    if first < 0 or second < first:
        raise ProofError(
            f"No consistency proof from a tree of {first} leaves to one of {second}: "
            "the second tree must be at least as large.",
            field="first",
        )
    if first == 0 or first == second:
        return []
    ranges: list[Range] = []
    start, end, remaining, starts_at_root_edge = 0, second, first, True
    while remaining != end - start:
        k = split_point(end - start)
        if remaining <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            remaining -= k
            starts_at_root_edge = False
    if not starts_at_root_edge:
        ranges.append((start, end))
    ranges.reverse()
    return ranges


def hashes_for(ranges: Sequence[Range], lookup: NodeLookup) -> list[bytes]:
    """Resolve subtree ranges to hashes with a single batched lookup."""
    covers = [complete_subtrees(start, end) for start, end in ranges]
    wanted = sorted({node for cover in covers for node in cover})
    found = lookup(wanted) if wanted else {}
    missing = [node for node in wanted if node not in found]
    if missing:
        raise LedgerError(f"The log store lacks subtree {missing[0]}: it is incomplete.")
    return [fold_right([found[node] for node in cover]) for cover in covers]


def root_from_lookup(size: int, lookup: NodeLookup) -> bytes:
    if size == 0:
        return EMPTY_ROOT
    return hashes_for([(0, size)], lookup)[0]


def _check_hashes(proof: Sequence[bytes], what: str) -> None:
    for position, item in enumerate(proof):
        if len(item) != HASH_SIZE:
            raise ProofError(
                f"The {what} proof's hash #{position + 1} is {len(item)} bytes, not {HASH_SIZE}.",
                field="proof",
            )


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2: raise ProofError unless ``proof`` puts ``leaf`` under ``root``."""
    expected = len(inclusion_ranges(index, size))
    _check_hashes(proof, "inclusion")
    if len(proof) != expected:
        raise ProofError(
            f"The inclusion proof has {len(proof)} hashes, but leaf {index} of a tree of {size} "
            f"leaves needs {expected}: it is truncated or was made for another tree size.",
            field="proof",
        )
    fn, sn, result = index, size - 1, leaf
    for sibling in proof:
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0 or result != root:
        raise ProofError(
            f"The inclusion proof for leaf {index} does not lead to the root hash of the "
            f"{size}-leaf checkpoint: the leaf, the proof or the checkpoint was altered.",
            field="proof",
        )


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: raise :class:`ProofError` unless the second tree extends the first."""
    expected = len(consistency_ranges(first, second))
    _check_hashes(proof, "consistency")
    if len(proof) != expected:
        raise ProofError(
            f"The consistency proof has {len(proof)} hashes, but a proof from {first} to "
            f"{second} leaves needs {expected}: it is truncated or for other tree sizes.",
            field="proof",
        )
    if first == 0:
        return
    if first == second:
        if first_root != second_root:
            raise ProofError(
                f"Two different root hashes for the same tree size {first}: the log forked.",
                field="proof",
            )
        return
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    first_result = second_result = path[0]
    for item in path[1:]:
        if sn == 0:
            raise _not_an_extension(first, second)
        if fn & 1 or fn == sn:
            first_result = node_hash(item, first_result)
            second_result = node_hash(item, second_result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            second_result = node_hash(second_result, item)
        fn >>= 1
        sn >>= 1
    if sn != 0 or first_result != first_root or second_result != second_root:
        raise _not_an_extension(first, second)


def _not_an_extension(first: int, second: int) -> ProofError:
    return ProofError(
        f"The tree of {second} leaves is not an extension of the tree of {first} leaves: "
        "the log's history was rewritten.",
        field="proof",
    )


@dataclass
class TreeEdge:
    """The right edge (compact range) of a tree: the hashes of its maximal complete subtrees.

    Appending needs only this edge, so the log head keeps it and an append is O(log n).
    """

    size: int = 0
    peaks: list[bytes] = field(default_factory=list)

    def root(self) -> bytes:
        return fold_right(self.peaks)

    def append(self, leaf: bytes) -> list[tuple[NodeId, bytes]]:
        """Add a leaf hash; returns the complete subtrees it finishes (the leaf itself first)."""
        index, level, current = self.size, 0, leaf
        created: list[tuple[NodeId, bytes]] = [((0, index), leaf)]
        while index & 1:
            current = node_hash(self.peaks.pop(), current)
            index >>= 1
            level += 1
            created.append(((level, index), current))
        self.peaks.append(current)
        self.size += 1
        return created

    def encode_peaks(self) -> bytes:
        return b"".join(self.peaks)

    @classmethod
    def decode(cls, size: int, packed: bytes) -> TreeEdge:
        peaks = [packed[i : i + HASH_SIZE] for i in range(0, len(packed), HASH_SIZE)]
        if len(peaks) != bin(size).count("1") or len(packed) % HASH_SIZE:
            raise LedgerError("The stored log head is corrupt: its edge does not match its size.")
        return cls(size, peaks)


@dataclass
class MemoryTree:
    """A whole log in memory (tests, benchmarks, monitors that mirror a log)."""

    edge: TreeEdge = field(default_factory=TreeEdge)
    nodes: dict[NodeId, bytes] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return self.edge.size

    def append(self, leaf: bytes) -> int:
        self.nodes.update(self.edge.append(leaf))
        return self.edge.size - 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def _lookup(self, wanted: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        return {node: self.nodes[node] for node in wanted if node in self.nodes}

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ProofError(f"The log has {self.size} leaves, not {size}.", field="tree_size")

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        self._check_size(size)
        return root_from_lookup(size, self._lookup)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        self._check_size(size)
        return hashes_for(inclusion_ranges(index, size), self._lookup)

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        self._check_size(second)
        return hashes_for(consistency_ranges(first, second), self._lookup)
