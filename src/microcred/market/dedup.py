"""Duplicate postings: exact (same normalised text) and near (MinHash + LSH on word shingles).

The same vacancy is often posted on several boards with small edits. Jaccard similarity of
word 3-shingles estimated by a 64-permutation MinHash, with LSH banding (16 bands × 4 rows)
to find candidates in O(1); a candidate counts as a near-duplicate when the estimated Jaccard
reaches :data:`NEAR_THRESHOLD`. Pure functions over strings and integers, deterministic.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

PERMUTATIONS = 64
BANDS = 16
ROWS = PERMUTATIONS // BANDS
SHINGLE = 3
NEAR_THRESHOLD = 0.8
_rng = np.random.default_rng(20240601)
_A = _rng.integers(1, 1 << 63, size=PERMUTATIONS, dtype=np.uint64) | np.uint64(1)
_B = _rng.integers(0, 1 << 63, size=PERMUTATIONS, dtype=np.uint64)
_WORD = re.compile(r"\w+")

Signature = npt.NDArray[np.uint64]


def normalised_words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def exact_key(*parts: str | None) -> str:
    """A digest of the normalised text: whitespace, case and punctuation do not matter."""
    joined = "\x1f".join(" ".join(normalised_words(part or "")) for part in parts)
    return hashlib.blake2b(joined.encode(), digest_size=16).hexdigest()


def _shingle_hashes(words: list[str]) -> npt.NDArray[np.uint64]:
    """32-bit hashes of the word 3-shingles (crc32 per word, mixed per position)."""
    ids = np.fromiter(
        (zlib.crc32(word.encode()) for word in words), dtype=np.uint64, count=len(words)
    )
    if len(ids) < SHINGLE:
        ids = np.concatenate([ids, np.zeros(SHINGLE - len(ids), dtype=np.uint64)])
    mixed = ids[:-2] * np.uint64(0x9E3779B1) ^ ids[1:-1] * np.uint64(0x85EBCA77) ^ ids[2:]
    return np.unique(mixed & np.uint64(0xFFFFFFFF))


def minhash(text: str) -> Signature:
    """64 minimum hash values; two signatures agree in a share ≈ their texts' Jaccard."""
    shingles = _shingle_hashes(normalised_words(text))
    # Multiply-shift hashing: (a·x + b mod 2^64) >> 32, one random odd a per permutation.
    with np.errstate(over="ignore"):
        hashed = (_A[:, None] * shingles[None, :] + _B[:, None]) >> np.uint64(32)
    return np.asarray(hashed.min(axis=1), dtype=np.uint64)


def similarity(first: Signature, second: Signature) -> float:
    return float(np.mean(first == second))


def band_keys(signature: Signature) -> list[int]:
    """One 64-bit key per LSH band (band index mixed in so bands never collide)."""
    keys: list[int] = []
    for band in range(BANDS):
        chunk = signature[band * ROWS : (band + 1) * ROWS].tobytes() + bytes([band])
        keys.append(int.from_bytes(hashlib.blake2b(chunk, digest_size=8).digest(), "little") >> 1)
    return keys


@dataclass
class DuplicateIndex:
    """Seen postings: exact keys and LSH buckets; ``check`` answers and remembers."""

    exact: set[str] = field(default_factory=set)
    buckets: dict[int, int] = field(default_factory=dict)
    signatures: list[Signature] = field(default_factory=list)
    threshold: float = NEAR_THRESHOLD

    def check(self, key: str, signature: Signature) -> str | None:
        """``"exact"``, ``"near"`` or None (new: remembered for later checks)."""
        if key in self.exact:
            return "exact"
        keys = band_keys(signature)
        for band_key in keys:
            seen = self.buckets.get(band_key)
            if seen is not None and similarity(signature, self.signatures[seen]) >= self.threshold:
                return "near"
        self.exact.add(key)
        position = len(self.signatures)
        self.signatures.append(signature)
        for band_key in keys:
            self.buckets.setdefault(band_key, position)
        return None

    def remember(self, keys: Iterable[str], signatures: Iterable[Signature]) -> None:
        """Load what earlier runs stored, so a re-run or a second file is checked against it."""
        for key, signature in zip(keys, signatures, strict=True):
            self.check(key, signature)
