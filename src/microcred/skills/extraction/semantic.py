"""Semantic matching: candidate phrases against skill labels by cosine of sentence embeddings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from microcred.skills.extraction.candidates import Candidate
from microcred.skills.extraction.embeddings import Encoder, Matrix, cached_label_matrix
from microcred.skills.extraction.vocabulary import SkillConcept, fingerprint

DEFAULT_THRESHOLD = 0.85
"""Cosine needed to accept a phrase as a skill; tuned on the SkillSpan train split."""


@dataclass(frozen=True, slots=True)
class SemanticHit:
    concept: int
    label: str
    similarity: float


@dataclass
class SemanticMatcher:
    """Nearest skill label for each phrase; one matrix product per batch."""

    concepts: Sequence[SkillConcept]
    encoder: Encoder
    label_concepts: list[int]
    labels: list[str]
    matrix: Matrix

    @classmethod
    def build(
        cls,
        concepts: Sequence[SkillConcept],
        encoder: Encoder,
        *,
        include_alternatives: bool = False,
        cache_dir: Path | None = None,
    ) -> SemanticMatcher:
        label_concepts: list[int] = []
        labels: list[str] = []
        for position, concept in enumerate(concepts):
            names = [concept.preferred_label]
            if include_alternatives:
                names += list(concept.alt_labels)
            for name in dict.fromkeys(names):
                label_concepts.append(position)
                labels.append(name)
        key = fingerprint(concepts) + ("-alt" if include_alternatives else "")
        matrix = cached_label_matrix(encoder, labels, cache_dir, key)
        return cls(concepts, encoder, label_concepts, labels, matrix)

    def nearest(self, phrases: Sequence[Candidate]) -> list[SemanticHit]:
        """The best label for each phrase, in order (similarity in [-1, 1])."""
        if not phrases or not self.labels:
            return []
        vectors = self.encoder.encode([phrase.text for phrase in phrases])
        hits: list[SemanticHit] = []
        for start in range(0, len(vectors), 1024):
            scores = vectors[start : start + 1024] @ self.matrix.T
            best = np.argmax(scores, axis=1)
            for row, column in enumerate(best):
                hits.append(
                    SemanticHit(
                        concept=self.label_concepts[int(column)],
                        label=self.labels[int(column)],
                        similarity=float(scores[row, column]),
                    )
                )
        return hits
