from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from microcred.market.errors import MarketError, PostingFileError
from microcred.market.pipeline import IngestReport, ingest_file
from microcred.market.readers import read_rows
from microcred.market.store import MarketStore
from microcred.market.synth import synthesise, write_postings
from tests.conftest import SHARED_DIR
from tests.market.conftest import CORPUS_SIZE
from tests.market.helpers import resources


def test_ingestion_stores_enriched_postings_and_removes_duplicates(
    ingested: tuple[MarketStore, IngestReport],
) -> None:
    store, report = ingested
    assert report.rows_read == CORPUS_SIZE and report.bad_rows == 0
    assert report.exact_duplicates + report.near_duplicates > 0
    assert report.inserted == CORPUS_SIZE - report.exact_duplicates - report.near_duplicates
    table = pq.read_table(store.postings_dir).to_pylist()
    assert len(table) == report.inserted
    assert len({row["posting_id"] for row in table}) == len(table)
    located = [row for row in table if row["region"] not in ("Unknown", "Remote")]
    assert len(located) > 0.8 * len(table)
    assert sum(row["occupation_uri"] is not None for row in table) > 0.8 * len(table)
    assert sum(row["salary_annual"] is not None for row in table) > 0.2 * len(table)
    assert sum(row["skill_count"] for row in table) == pq.read_table(store.skills_dir).num_rows
    assert store.labels()


def test_rerunning_a_file_inserts_nothing(
    ingested: tuple[MarketStore, IngestReport], corpus_file: Path
) -> None:
    store, _ = ingested
    again = ingest_file(corpus_file, store, resources())
    assert again.already_done and again.inserted == 0
    forced = ingest_file(corpus_file, store, resources(), restart=True)
    assert forced.inserted == 0 and forced.exact_duplicates + forced.near_duplicates > 0


def test_interrupted_ingestion_resumes_after_the_last_stored_chunk(tmp_path: Path) -> None:
    source = tmp_path / "postings.csv"
    write_postings(synthesise(SHARED_DIR, 120, seed=3), source)
    store = MarketStore(tmp_path / "market")

    def crash_after_first_chunk(rows: int, line: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest_file(source, store, resources(), chunk_size=50, on_progress=crash_after_first_chunk)
    first_line = next(iter(store.load_state()["files"].values()))["line"]
    assert first_line > 1
    resumed = ingest_file(source, store, resources(), chunk_size=50)
    assert resumed.resumed_from_line == first_line
    complete = MarketStore(tmp_path / "whole")
    whole = ingest_file(source, complete, resources(), chunk_size=50)
    stored = pq.read_table(store.postings_dir).num_rows
    assert stored == pq.read_table(complete.postings_dir).num_rows == whole.inserted


def test_bad_rows_are_reported_by_line_and_the_rest_is_stored(tmp_path: Path) -> None:
    lines = [
        {
            "title": "Registered Nurse",
            "text": "Use Microsoft Excel daily.",
            "posted": "2024-05-01",
            "location": "Cork, Ireland",
        },
        "not json at all",
        {"title": "", "text": "no title", "posted": "2024-05-01"},
        {"title": "Data Analyst", "text": "SQL", "posted": "31/31/2024"},
        {
            "title": "Datenanalyst",
            "posted": "2024-05-02",
            "location": "Atlantis",
            "text": "Wir suchen eine Person mit Erfahrung in Python und SQL, die im Team arbeitet "
            "und die Projekte für uns leitet und die Daten analysiert",
        },
        {"title": "Big", "text": "Python " * 1_500_000, "posted": "2024-05-03"},
        {"title": "Binary", "text": "\x00\x01\x02", "posted": "2024-05-03"},
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    store = MarketStore(tmp_path / "market")
    report = ingest_file(path, store, resources())
    assert [(e.line, e.field) for e in report.errors] == [
        (2, "row"),
        (3, "title"),
        (4, "posted"),
        (7, "text"),
    ]
    assert report.inserted == 3
    rows = {row["title"]: row for row in pq.read_table(store.postings_dir).to_pylist()}
    assert rows["Datenanalyst"]["language"] == "de" and rows["Datenanalyst"]["region"] == "Unknown"
    assert rows["Big"]["truncated"] and rows["Registered Nurse"]["region"] == "Munster"
    assert "4 bad rows" in report.summary()


def test_csv_and_parquet_read_the_same_rows(tmp_path: Path) -> None:
    rows = list(synthesise(SHARED_DIR, 30, seed=5))
    csv_path, parquet_path = tmp_path / "p.csv", tmp_path / "p.parquet"
    write_postings(iter(rows), csv_path)
    write_postings(iter(rows), parquet_path)
    from_csv = [row for _, row in read_rows(csv_path)]
    from_parquet = [row for _, row in read_rows(parquet_path)]
    assert [r["title"] for r in from_csv] == [r["title"] for r in from_parquet]  # type: ignore[index]
    assert [line for line, _ in read_rows(parquet_path, start_line=28)] == [29, 30]


def test_unreadable_files_and_options_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PostingFileError):
        list(read_rows(tmp_path / "missing.csv"))
    odd = tmp_path / "postings.xlsx"
    odd.write_bytes(b"PK")
    with pytest.raises(PostingFileError):
        list(read_rows(odd))
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"not parquet")
    with pytest.raises(PostingFileError):
        list(read_rows(broken))
    good = tmp_path / "ok.jsonl"
    good.write_text("{}\n")
    with pytest.raises(MarketError) as engine:
        ingest_file(good, MarketStore(tmp_path / "m"), resources(), engine="spark")  # type: ignore[arg-type]
    assert engine.value.field == "engine"


def test_ray_engine_gives_the_same_result_as_local(tmp_path: Path) -> None:
    pytest.importorskip("ray")
    import ray

    source = tmp_path / "postings.jsonl"
    write_postings(synthesise(SHARED_DIR, 200, seed=9), source)
    local = MarketStore(tmp_path / "local")
    on_ray = MarketStore(tmp_path / "ray")
    expected = ingest_file(source, local, resources(), chunk_size=50)
    try:
        report = ingest_file(source, on_ray, resources(), engine="ray", chunk_size=50, workers=2)
    finally:
        ray.shutdown()
    assert (report.inserted, report.exact_duplicates, report.near_duplicates) == (
        expected.inserted,
        expected.exact_duplicates,
        expected.near_duplicates,
    )
    columns = ["posting_id", "region", "occupation_uri", "skill_count"]
    assert (
        pq.read_table(on_ray.postings_dir, columns=columns).sort_by("posting_id").to_pylist()
        == pq.read_table(local.postings_dir, columns=columns).sort_by("posting_id").to_pylist()
    )
