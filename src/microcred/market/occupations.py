"""Job title → occupation (ESCO or O*NET-SOC), from occupation labels and alternate titles.

Titles carry noise that no taxonomy label has: seniority ("Senior", "Lead", "II"), gender
markers ("(m/w/d)"), contract terms. We strip it, try an exact label match (by the taxonomy's
match key), then the longest exact tail ("Night Shift Forklift Operator" → "forklift
operator"), then the closest label by edit ratio above :data:`FUZZY_CUTOFF`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz, process
from sqlalchemy import select
from sqlalchemy.orm import Session

from microcred.skills.index import match_key
from microcred.skills.models import Occupation

FUZZY_CUTOFF = 86.0
_SEGMENT = re.compile(r"\s+[-–|:]\s+|\s*[(,/]")
_NOISE = re.compile(
    r"\((?:[mwfdxhi]\s*/\s*)+[mwfdxhi]\)|\b(?:senior|sr|junior|jr|lead|principal|head of|"
    r"chief|trainee|intern|graduate|entry level|mid level|staff|associate|assistant to|"
    r"full[- ]time|part[- ]time|contract|temporary|permanent|remote|hybrid|"
    r"i{1,3}|iv|level \d)\b\.?|[\d/|]+",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class OccupationLabel:
    uri: str
    preferred_label: str
    alt_labels: tuple[str, ...] = ()
    code: str | None = None


@dataclass(frozen=True, slots=True)
class OccupationMatch:
    uri: str
    label: str
    code: str | None
    score: float


def clean_title(title: str) -> str:
    """The job title without seniority, gender markers, numbers and contract terms."""
    return " ".join(_NOISE.sub(" ", title).replace("-", " ").split())


@dataclass
class OccupationClassifier:
    occupations: list[OccupationLabel]
    by_key: dict[str, int] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)
    key_owner: list[int] = field(default_factory=list)

    @classmethod
    def build(cls, occupations: Iterable[OccupationLabel]) -> OccupationClassifier:
        classifier = cls(occupations=list(occupations))
        labelled = [
            (position, label)
            for preferred_first in (True, False)
            for position, occupation in enumerate(classifier.occupations)
            for label in (
                (occupation.preferred_label,) if preferred_first else occupation.alt_labels
            )
        ]
        for position, label in labelled:
            key = match_key(label)
            if key and key not in classifier.by_key:
                classifier.by_key[key] = position
                classifier.keys.append(key)
                classifier.key_owner.append(position)
        return classifier

    def classify(self, title: str | None) -> OccupationMatch | None:
        if not title or not self.occupations:
            return None
        return self._classify(title)

    @lru_cache(maxsize=50_000)  # noqa: B019 - one classifier per process, titles repeat a lot
    def _classify(self, title: str) -> OccupationMatch | None:
        head = _SEGMENT.split(title, maxsplit=1)[0]
        for candidate in (title, clean_title(title), clean_title(head)):
            key = match_key(candidate)
            if key in self.by_key:
                return self._match(self.by_key[key], 1.0)
        key = match_key(clean_title(head))
        words = key.split()
        if not words:
            return None
        tails = [" ".join(words[start:]) for start in range(1, len(words))]
        for tail in tails[:-1]:
            if tail in self.by_key:
                return self._match(self.by_key[tail], round(0.9 * len(tail) / len(key), 4))
        found = process.extractOne(key, self.keys, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        if found is not None:
            _, score, index = found
            return self._match(self.key_owner[index], round(score / 100.0 * 0.9, 4))
        if tails and tails[-1] in self.by_key:
            return self._match(self.by_key[tails[-1]], 0.4)
        return None

    def _match(self, position: int, score: float) -> OccupationMatch:
        occupation = self.occupations[position]
        return OccupationMatch(occupation.uri, occupation.preferred_label, occupation.code, score)

    def __hash__(self) -> int:
        return id(self)


def occupations_from_session(session: Session) -> list[OccupationLabel]:
    """Every occupation (ISCO groups excluded), in URI order."""
    rows = session.execute(
        select(Occupation.uri, Occupation.preferred_label, Occupation.alt_labels, Occupation.code)
        .where(Occupation.is_group.is_(False))
        .order_by(Occupation.uri)
    )
    return [OccupationLabel(uri, label, tuple(alt or ()), code) for uri, label, alt, code in rows]
