from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
import pytest

from microcred.skills.extraction import SkillExtractor
from microcred.skills.extraction.embeddings import Matrix
from microcred.skills.extraction.errors import ExtractionError, VocabularyEmpty
from tests.skills.extraction.conftest import ESCO, VOCABULARY


class BagOfWordsEncoder:
    """A deterministic stand-in for the sentence model: hashed bag of lower-cased words."""

    name = "bag-of-words"

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts: Sequence[str]) -> Matrix:
        self.calls += 1
        matrix = np.zeros((len(texts), 1024), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().replace("(", " ").replace(")", " ").split():
                matrix[row, zlib.crc32(word.rstrip("s").encode()) % 1024] += 1.0
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.maximum(norms, 1e-9)


def test_gazetteer_mode_reports_uris_labels_spans_and_method(extractor: SkillExtractor) -> None:
    text = "Python developer: SQL, teamwork."
    result = extractor.extract(text)
    assert result.uris == [ESCO + "python", ESCO + "sql", ESCO + "teams"]
    assert all(m.method == "gazetteer" and text[m.start : m.end] == m.text for m in result.skills)
    assert result.language is None and not result.truncated


def test_hybrid_mode_adds_semantic_matches_where_the_gazetteer_found_nothing() -> None:
    encoder = BagOfWordsEncoder()
    extractor = SkillExtractor.build(VOCABULARY, encoder=encoder, semantic_threshold=0.45)
    result = extractor.extract("You will handle budgets; SQL.", mode="hybrid")
    by_method = {m.method: m for m in result.skills}
    assert by_method["gazetteer"].uri == ESCO + "sql"
    semantic = by_method["semantic"]
    assert semantic.uri == ESCO + "budget" and semantic.text == "handle budgets"
    assert 0.45 <= semantic.confidence <= 1.0


def test_hybrid_batches_all_texts_in_one_encoder_call() -> None:
    encoder = BagOfWordsEncoder()
    extractor = SkillExtractor.build(VOCABULARY, encoder=encoder)
    extractor.semantic()
    before = encoder.calls
    extractor.extract_many(
        ["handle budgets", "serve customers well", "forklift driving"], mode="hybrid"
    )
    assert encoder.calls == before + 1


def test_other_languages_keep_gazetteer_but_skip_semantic_matching() -> None:
    encoder = BagOfWordsEncoder()
    extractor = SkillExtractor.build(VOCABULARY, encoder=encoder, semantic_threshold=0.1)
    german = (
        "Wir suchen eine Person mit Erfahrung in Python und SQL, die im Team arbeitet und "
        "die Projekte für uns leitet"
    )
    result = extractor.extract(german, mode="hybrid")
    assert result.language == "de"
    assert {m.method for m in result.skills} == {"gazetteer"}
    assert set(result.uris) == {ESCO + "python", ESCO + "sql"}


def test_thresholds_filter_low_confidence(extractor: SkillExtractor) -> None:
    strict = SkillExtractor.build(VOCABULARY, gazetteer_threshold=0.95)
    text = "client service and communicate with stakeholders"
    assert len(extractor.extract(text).skills) == 2
    assert strict.extract(text).uris == [ESCO + "stakeholders"]


def test_bad_input_and_configuration_errors(extractor: SkillExtractor) -> None:
    with pytest.raises(ExtractionError) as empty:
        extractor.extract("  ")
    assert empty.value.field == "text"
    with pytest.raises(ExtractionError) as mode:
        extractor.extract("python", mode="magic")  # type: ignore[arg-type]
    assert mode.value.field == "mode"
    with pytest.raises(VocabularyEmpty):
        SkillExtractor.build([])


def test_label_embeddings_are_cached_on_disk(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    first = BagOfWordsEncoder()
    SkillExtractor.build(VOCABULARY, encoder=first, cache_dir=folder).semantic()
    second = BagOfWordsEncoder()
    SkillExtractor.build(VOCABULARY, encoder=second, cache_dir=folder).semantic()
    assert first.calls == 1 and second.calls == 0
    assert len(list(folder.glob("labels-bag-of-words-*.npy"))) == 1
