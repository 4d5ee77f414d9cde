"""Extraction over the loaded taxonomy: one extractor per taxonomy version, kept per process."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from microcred.skills.extraction.extractor import Extraction, Mode, SkillExtractor
from microcred.skills.extraction.vocabulary import vocabulary_from_session
from microcred.skills.models import TaxonomyVersion

_extractors: dict[tuple[str, Path | None], SkillExtractor] = {}
_lock = threading.Lock()


def current_extractor(session: Session, cache_dir: Path | None = None) -> SkillExtractor:
    """The extractor for the current taxonomy; rebuilt only when a new version is loaded."""
    version = session.scalar(
        select(TaxonomyVersion.id)
        .where(TaxonomyVersion.is_current.is_(True))
        .order_by(TaxonomyVersion.loaded_at.desc())
        .limit(1)
    )
    key = (version or "", cache_dir)
    with _lock:
        extractor = _extractors.get(key)
        if extractor is None:
            extractor = SkillExtractor.build(vocabulary_from_session(session), cache_dir=cache_dir)
            _extractors.clear()
            _extractors[key] = extractor
        return extractor


def extract_skills(
    session: Session, text: str, mode: Mode = "gazetteer", cache_dir: Path | None = None
) -> Extraction:
    return current_extractor(session, cache_dir).extract(text, mode)


def embeddings_cache_dir(data_dir: Path) -> Path:
    """Where label embeddings are kept between runs (beside the database)."""
    return data_dir / "skills" / "embeddings"
