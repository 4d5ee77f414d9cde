"""In-memory label index for fast skill and occupation search (exact, prefix, fuzzy).

Pure code over plain data: the service builds one index per taxonomy version and caches it.
Labels are compared by a *match key*: casefolded, accents and punctuation removed, and each word
reduced by a small inflection rule (plural, -ing, final e) so "managing projects" finds
"manage project". Fuzzy matching uses rapidfuzz over the distinct keys.
"""

from __future__ import annotations

import math
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz, process

MatchKind = Literal["exact", "prefix", "fuzzy"]

_NOT_WORD = re.compile(r"[^\w+#]+")

EXACT_PREFERRED = 1.0
EXACT_ALTERNATIVE = 0.97
PREFIX_CEILING = 0.95
PREFIX_FLOOR = 0.6
WORD_PREFIX_FACTOR = 0.85
FUZZY_CEILING = 0.85
FUZZY_CUTOFF = 72.0
MIN_FUZZY_QUERY = 3
PREFIX_SCAN = 3000


def normalise(text: str) -> str:
    """Casefold, strip accents, turn punctuation (except + and #, as in C++ and C#) into spaces."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    no_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NOT_WORD.sub(" ", no_marks.replace("_", " ")).split())


def stem(word: str) -> str:
    """A deliberately small inflection rule: enough for plurals and -ing forms of ESCO labels."""
    if len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
    elif len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes")):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


def match_key(text: str) -> str:
    """The form two labels share when a user would call them the same."""
    return " ".join(stem(word) for word in normalise(text).split())


@dataclass(frozen=True)
class IndexEntry:
    """One concept to index: its URI, labels and what a filter may ask about it."""

    uri: str
    preferred_label: str
    alt_labels: Sequence[str] = ()
    kind: str | None = None
    is_group: bool = False


@dataclass(frozen=True)
class Hit:
    uri: str
    label: str
    matched_label: str
    score: float
    match: MatchKind


@dataclass
class _Posting:
    entry: int
    label: str
    preferred: bool


@dataclass
class LabelIndex:
    """Exact lookups by key, prefix lookups by bisecting sorted keys, fuzzy over distinct keys."""

    entries: list[IndexEntry]
    by_key: dict[str, list[_Posting]] = field(default_factory=dict)
    sorted_keys: list[str] = field(default_factory=list)
    word_starts: list[tuple[str, str]] = field(default_factory=list)
    fuzzy_keys: list[str] = field(default_factory=list)
    fuzzy_lengths: list[int] = field(default_factory=list)

    @classmethod
    def build(cls, entries: Iterable[IndexEntry]) -> LabelIndex:
        index = cls(entries=list(entries))
        for position, entry in enumerate(index.entries):
            seen: set[str] = set()
            labels = [(entry.preferred_label, True)] + [(a, False) for a in entry.alt_labels]
            for label, preferred in labels:
                key = match_key(label)
                if not key or key in seen:
                    continue
                seen.add(key)
                index.by_key.setdefault(key, []).append(_Posting(position, label, preferred))
        index.sorted_keys = sorted(index.by_key)
        starts: list[tuple[str, str]] = []
        for key in index.sorted_keys:
            words = key.split(" ")
            for start in range(1, len(words)):
                starts.append((" ".join(words[start:]), key))
        starts.sort()
        index.word_starts = starts
        index.fuzzy_keys = sorted(index.sorted_keys, key=len)
        index.fuzzy_lengths = [len(key) for key in index.fuzzy_keys]
        return index

    def __len__(self) -> int:
        return len(self.entries)

    def search(
        self,
        query: str,
        limit: int = 20,
        kind: str | None = None,
        include_groups: bool = False,
    ) -> list[Hit]:
        """Best hit per concept, best first; exact beats prefix beats fuzzy."""
        key = match_key(query)
        if not key or limit <= 0:
            return []
        best: dict[int, Hit] = {}

        def admissible(position: int) -> bool:
            entry = self.entries[position]
            if kind is not None and entry.kind != kind:
                return False
            return include_groups or not entry.is_group

        def offer(posting: _Posting, score: float, match: MatchKind) -> None:
            if not admissible(posting.entry):
                return
            current = best.get(posting.entry)
            if current is None or score > current.score:
                entry = self.entries[posting.entry]
                best[posting.entry] = Hit(
                    uri=entry.uri,
                    label=entry.preferred_label,
                    matched_label=posting.label,
                    score=round(score, 4),
                    match=match,
                )

        for posting in self.by_key.get(key, []):
            offer(posting, EXACT_PREFERRED if posting.preferred else EXACT_ALTERNATIVE, "exact")

        wanted = max(limit * 4, 40)
        for label_key in self._with_prefix(self.sorted_keys, key, PREFIX_SCAN):
            if label_key == key:
                continue
            score = _prefix_score(key, label_key, PREFIX_CEILING)
            for posting in self.by_key[label_key]:
                offer(posting, score, "prefix")
        if len(best) < limit:
            for suffix, label_key in self._with_prefix_pairs(key, PREFIX_SCAN):
                score = _prefix_score(key, suffix, PREFIX_CEILING) * WORD_PREFIX_FACTOR
                for posting in self.by_key[label_key]:
                    offer(posting, score, "prefix")

        exact_found = any(hit.match == "exact" for hit in best.values())
        if not exact_found and len(best) < limit and len(key) >= MIN_FUZZY_QUERY:
            for label_key, similarity, _ in process.extract(
                key,
                self._fuzzy_candidates(len(key)),
                scorer=fuzz.ratio,
                limit=wanted,
                score_cutoff=FUZZY_CUTOFF,
            ):
                score = FUZZY_CEILING * similarity / 100.0
                for posting in self.by_key[label_key]:
                    offer(posting, score, "fuzzy")

        ranked = sorted(
            best.values(), key=lambda hit: (-hit.score, len(hit.matched_label), hit.label)
        )
        return ranked[:limit]

    def _fuzzy_candidates(self, length: int) -> list[str]:
        """Only keys whose length allows the cut-off: ratio = 2·matches / (len a + len b)."""
        cutoff = FUZZY_CUTOFF / 100.0
        shortest = math.ceil(length * cutoff / (2 - cutoff))
        longest = math.floor(length * (2 - cutoff) / cutoff)
        low = bisect_left(self.fuzzy_lengths, shortest)
        high = bisect_right(self.fuzzy_lengths, longest)
        return self.fuzzy_keys[low:high]

    @staticmethod
    def _with_prefix(keys: list[str], prefix: str, limit: int) -> list[str]:
        found: list[str] = []
        position = bisect_left(keys, prefix)
        while position < len(keys) and keys[position].startswith(prefix) and len(found) < limit:
            found.append(keys[position])
            position += 1
        return found

    def _with_prefix_pairs(self, prefix: str, limit: int) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        position = bisect_left(self.word_starts, (prefix, ""))
        starts = self.word_starts
        while position < len(starts) and starts[position][0].startswith(prefix):
            found.append(starts[position])
            if len(found) >= limit:
                break
            position += 1
        return found


def _prefix_score(query_key: str, label_key: str, ceiling: float) -> float:
    """Longer shares of the label score higher: "project man" ranks "project manager" first."""
    coverage = len(query_key) / max(len(label_key), 1)
    return PREFIX_FLOOR + (ceiling - PREFIX_FLOOR) * coverage
