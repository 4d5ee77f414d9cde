"""Skill extraction from free text to taxonomy skill URIs: gazetteer plus sentence embeddings."""

from microcred.skills.extraction.extractor import (
    MODES,
    Extraction,
    Mode,
    SkillExtractor,
    SkillMatch,
)
from microcred.skills.extraction.vocabulary import SkillConcept, vocabulary_from_session

__all__ = [
    "MODES",
    "Extraction",
    "Mode",
    "SkillConcept",
    "SkillExtractor",
    "SkillMatch",
    "vocabulary_from_session",
]
