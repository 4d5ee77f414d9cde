"""A synthetic corpus (from real O*NET and SkillSpan text) ingested once per module."""

from __future__ import annotations

from pathlib import Path

import pytest

from microcred.market.pipeline import IngestReport, ingest_file
from microcred.market.store import MarketStore
from microcred.market.synth import synthesise, write_postings
from tests.conftest import SHARED_DIR
from tests.market.helpers import resources

CORPUS_SIZE = 800


@pytest.fixture(scope="session")
def corpus_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "postings.jsonl"
    write_postings(synthesise(SHARED_DIR, CORPUS_SIZE, seed=11), path)
    return path


@pytest.fixture(scope="session")
def ingested(
    corpus_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[MarketStore, IngestReport]:
    store = MarketStore(tmp_path_factory.mktemp("market"))
    report = ingest_file(corpus_file, store, resources(), chunk_size=250)
    return store, report
