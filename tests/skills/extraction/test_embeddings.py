"""The real all-MiniLM-L6-v2 model, offline, on whatever device torch finds."""

from __future__ import annotations

import pytest

from microcred.skills.extraction import SkillExtractor
from microcred.skills.extraction.embeddings import MiniLMEncoder, embeddings_available
from tests.skills.extraction.conftest import ESCO, VOCABULARY

pytestmark = pytest.mark.skipif(not embeddings_available(), reason="ml extra not installed")


def test_minilm_finds_paraphrased_skills_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    encoder = MiniLMEncoder(batch_size=32)
    vectors = encoder.encode(["manage projects", "project management", "operate a forklift"])
    assert vectors.shape == (3, 384)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])
    extractor = SkillExtractor.build(VOCABULARY, encoder=encoder, semantic_threshold=0.6)
    result = extractor.extract("You will be responsible for budget management.", mode="hybrid")
    assert ESCO + "budget" in {m.uri for m in result.skills if m.method == "semantic"}
