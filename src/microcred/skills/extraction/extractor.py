"""Skill extraction: gazetteer first, then semantic matching of what the gazetteer left.

``mode="gazetteer"`` needs nothing beyond the core install; ``mode="hybrid"`` adds sentence
embeddings (``ml`` extra). Texts in a language other than English keep the gazetteer (product
names such as Python read the same) and skip the English-only semantic step; the result says
which language was guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from microcred.skills.extraction.candidates import Candidate, candidates
from microcred.skills.extraction.embeddings import Encoder, MiniLMEncoder
from microcred.skills.extraction.errors import ExtractionError, VocabularyEmpty
from microcred.skills.extraction.gazetteer import DEFAULT_THRESHOLD as GAZETTEER_THRESHOLD
from microcred.skills.extraction.gazetteer import ESCO_PREFIX, Gazetteer
from microcred.skills.extraction.semantic import DEFAULT_THRESHOLD, SemanticMatcher
from microcred.skills.extraction.text import MAX_TEXT_CHARS, check_text, guess_language, tokenise
from microcred.skills.extraction.vocabulary import SkillConcept

Mode = Literal["gazetteer", "hybrid"]
Method = Literal["gazetteer", "semantic"]
MODES: tuple[Mode, ...] = ("gazetteer", "hybrid")


@dataclass(frozen=True, slots=True)
class SkillMatch:
    uri: str
    label: str
    text: str
    start: int
    end: int
    confidence: float
    method: Method
    equivalents: tuple[str, ...] = ()
    """The same skill's URIs in another taxonomy (O*NET's for an ESCO skill), not counted apart."""


@dataclass(frozen=True)
class Extraction:
    skills: list[SkillMatch]
    language: str | None
    truncated: bool
    mode: Mode

    @property
    def uris(self) -> list[str]:
        """Distinct skill URIs in order of first mention."""
        return list(dict.fromkeys(match.uri for match in self.skills))


@dataclass
class _Pending:
    text: str
    language: str | None
    truncated: bool
    matches: list[SkillMatch]
    phrases: list[Candidate] = field(default_factory=list)


@dataclass
class SkillExtractor:
    """Holds the gazetteer (cheap) and, once hybrid mode is first used, the semantic matcher."""

    concepts: list[SkillConcept]
    gazetteer: Gazetteer
    encoder: Encoder | None = None
    semantic_threshold: float = DEFAULT_THRESHOLD
    gazetteer_threshold: float = GAZETTEER_THRESHOLD
    cache_dir: Path | None = None
    _semantic: SemanticMatcher | None = field(default=None, init=False, repr=False)
    _by_uri: dict[str, SkillConcept] | None = field(default=None, init=False, repr=False)

    @classmethod
    def build(
        cls,
        concepts: Sequence[SkillConcept],
        *,
        encoder: Encoder | None = None,
        semantic_threshold: float = DEFAULT_THRESHOLD,
        gazetteer_threshold: float = GAZETTEER_THRESHOLD,
        cache_dir: Path | None = None,
    ) -> SkillExtractor:
        if not concepts:
            raise VocabularyEmpty(
                "No skills are loaded: run `microcred init` (or `microcred import taxonomy`).",
                field="taxonomy",
            )
        concept_list = list(concepts)
        return cls(
            concepts=concept_list,
            gazetteer=Gazetteer.build(concept_list),
            encoder=encoder,
            semantic_threshold=semantic_threshold,
            gazetteer_threshold=gazetteer_threshold,
            cache_dir=cache_dir,
        )

    def _canonical(self, concept: SkillConcept) -> SkillConcept:
        """The ESCO concept equivalent to an O*NET one, so one skill has one URI."""
        if concept.uri.startswith(ESCO_PREFIX) or not concept.equivalents:
            return concept
        if self._by_uri is None:
            self._by_uri = {c.uri: c for c in self.concepts}
        for uri in concept.equivalents:
            twin = self._by_uri.get(uri)
            if twin is not None and uri.startswith(ESCO_PREFIX):
                return twin
        return concept

    def semantic(self) -> SemanticMatcher:
        if self._semantic is None:
            encoder = self.encoder or MiniLMEncoder()
            self.encoder = encoder
            self._semantic = SemanticMatcher.build(self.concepts, encoder, cache_dir=self.cache_dir)
        return self._semantic

    def extract(self, text: str, mode: Mode = "gazetteer") -> Extraction:
        return self.extract_many([text], mode)[0]

    def extract_many(self, texts: Sequence[str], mode: Mode = "gazetteer") -> list[Extraction]:
        """Extract from many texts; hybrid mode embeds all their phrases in shared batches."""
        if mode not in MODES:
            raise ExtractionError(
                f"Unknown mode {mode!r}: use one of {', '.join(MODES)}.", field="mode"
            )
        pending = [self._gazetteer_pass(text, mode) for text in texts]
        if mode == "hybrid":
            self._semantic_pass(pending)
        return [
            Extraction(
                skills=sorted(item.matches, key=lambda match: (match.start, -match.confidence)),
                language=item.language,
                truncated=item.truncated,
                mode=mode,
            )
            for item in pending
        ]

    def _gazetteer_pass(self, raw: str, mode: Mode) -> _Pending:
        text = check_text(raw)
        language = guess_language(text)
        tokens = tokenise(text)
        matches = [
            SkillMatch(
                found.uri,
                found.label,
                text[found.start : found.end],
                found.start,
                found.end,
                found.confidence,
                "gazetteer",
                found.equivalents,
            )
            for found in self.gazetteer.match(text, tokens)
            if found.confidence >= self.gazetteer_threshold
        ]
        item = _Pending(text, language, len(raw) > MAX_TEXT_CHARS, matches)
        if mode == "hybrid" and language in (None, "en"):
            covered = [(match.start, match.end) for match in matches]
            item.phrases = [
                phrase
                for phrase in candidates(text, tokens)
                if not any(phrase.start < end and start < phrase.end for start, end in covered)
            ]
        return item

    def _semantic_pass(self, pending: list[_Pending]) -> None:
        phrases = [phrase for item in pending for phrase in item.phrases]
        if not phrases:
            return
        hits = iter(self.semantic().nearest(phrases))
        for item in pending:
            for phrase in item.phrases:
                hit = next(hits)
                if hit.similarity < self.semantic_threshold:
                    continue
                concept = self._canonical(self.concepts[hit.concept])
                item.matches.append(
                    SkillMatch(
                        concept.uri,
                        concept.preferred_label,
                        phrase.text,
                        phrase.start,
                        phrase.end,
                        round(hit.similarity, 4),
                        "semantic",
                        concept.equivalents,
                    )
                )
