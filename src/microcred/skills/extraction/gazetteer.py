"""Gazetteer matching: every preferred and alternative label, found in text by word keys.

Labels and text are reduced to the same word keys (:func:`..text.token_key`), so matching is
case-, accent- and inflection-tolerant. The scan is longest-match-first and left to right, so
"project management software" wins over "project management" and spans never overlap. Labels
that are a single very common word ("it", "go", "communication" is fine) are skipped unless
the text writes them as the label does (``Go``, ``R``), which keeps short acronyms usable.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from microcred.skills.extraction.text import Token, tokenise, word_set
from microcred.skills.extraction.vocabulary import SkillConcept

AMBIGUOUS_WORDS = word_set(
    "a an and are as at be by can do for go have in is it may of on or so the to up we will "
    "you your our us all any use work make run set get lead plan act ask own need well more "
    "data test team time good new one way help move base line case file care sales order "
    "support design access service services check control report process"
)
"""Single-word labels too common in postings to count without their exact written form."""

PREFERRED_CONFIDENCE = 0.9
ALTERNATIVE_CONFIDENCE = 0.8
LONGER_LABEL_BONUS = 0.03
SINGLE_WORD_PENALTY = 0.1
CASE_EXACT_BONUS = 0.05


@dataclass(frozen=True, slots=True)
class LabelSense:
    """One concept a label key stands for, and how the label was written."""

    concept: int
    label: str
    preferred: bool


@dataclass(frozen=True, slots=True)
class GazetteerMatch:
    uri: str
    label: str
    matched_label: str
    start: int
    end: int
    confidence: float


@dataclass
class Gazetteer:
    concepts: list[SkillConcept]
    phrases: dict[tuple[str, ...], list[LabelSense]] = field(default_factory=dict)
    prefixes: set[tuple[str, ...]] = field(default_factory=set)
    longest: int = 0

    @classmethod
    def build(cls, concepts: Iterable[SkillConcept]) -> Gazetteer:
        gazetteer = cls(concepts=list(concepts))
        for position, concept in enumerate(gazetteer.concepts):
            labels = [(concept.preferred_label, True)]
            labels += [(label, False) for label in concept.alt_labels]
            seen: set[tuple[str, ...]] = set()
            for label, preferred in labels:
                words = tuple(token.key for token in tokenise(label))
                if not words or words in seen:
                    continue
                seen.add(words)
                gazetteer.phrases.setdefault(words, []).append(
                    LabelSense(position, label, preferred)
                )
                for size in range(1, len(words)):
                    gazetteer.prefixes.add(words[:size])
                gazetteer.longest = max(gazetteer.longest, len(words))
        return gazetteer

    def __len__(self) -> int:
        return len(self.concepts)

    def match(self, text: str, tokens: Sequence[Token] | None = None) -> list[GazetteerMatch]:
        """Non-overlapping matches, longest first, in text order."""
        tokens = tokenise(text) if tokens is None else tokens
        matches: list[GazetteerMatch] = []
        position = 0
        count = len(tokens)
        while position < count:
            found = self._longest_at(text, tokens, position)
            if found is None:
                position += 1
                continue
            size, senses = found
            start, end = tokens[position].start, tokens[position + size - 1].end
            surface = text[start:end]
            for sense in senses:
                concept = self.concepts[sense.concept]
                matches.append(
                    GazetteerMatch(
                        uri=concept.uri,
                        label=concept.preferred_label,
                        matched_label=sense.label,
                        start=start,
                        end=end,
                        confidence=_confidence(sense, size, surface),
                    )
                )
            position += size
        return matches

    def _longest_at(
        self, text: str, tokens: Sequence[Token], position: int
    ) -> tuple[int, list[LabelSense]] | None:
        best: tuple[int, list[LabelSense]] | None = None
        words: tuple[str, ...] = ()
        for offset in range(min(self.longest, len(tokens) - position)):
            words = (*words, tokens[position + offset].key)
            senses = self.phrases.get(words)
            if senses is not None:
                if len(words) == 1:
                    senses = _admissible_single(senses, text, tokens[position])
                if senses:
                    best = (len(words), senses)
            if words not in self.prefixes:
                break
        return best


def _admissible_single(senses: list[LabelSense], text: str, token: Token) -> list[LabelSense]:
    """Short or common one-word labels count only when written exactly as the label is."""
    if token.key not in AMBIGUOUS_WORDS and len(token.key) > 2:
        return senses
    surface = text[token.start : token.end]
    return [sense for sense in senses if sense.label == surface and not surface.islower()]


def _confidence(sense: LabelSense, size: int, surface: str) -> float:
    base = PREFERRED_CONFIDENCE if sense.preferred else ALTERNATIVE_CONFIDENCE
    score = base + LONGER_LABEL_BONUS * (size - 1)
    if size == 1:
        score -= SINGLE_WORD_PENALTY
    if surface == sense.label:
        score += CASE_EXACT_BONUS
    return round(min(score, 0.99), 4)
