"""Skill-extraction and market-analytics speed.

Run: ``.venv/bin/python benchmarks/skills_speed.py [--postings 20000] [--engine local|ray]
[--extract-sample 2000] [--no-embeddings] [--workdir DIR] [--database taxonomy.db]``.

Figures printed, on this machine (GPU rows only where torch sees CUDA):

* extraction throughput in postings per second, one process pinned to one core: the gazetteer
  alone, and gazetteer + all-MiniLM-L6-v2 semantic matching (CPU, then GPU when present);
* the time to ingest ``--postings`` synthetic postings (built from real O*NET and SkillSpan text,
  see microcred.market.synth) end to end: parse, extract, classify, locate, de-duplicate, store;
* the latency of each analytics query over what was ingested (median of 5 runs, warm), or,
  with ``--replicate K``, over K copies of it (fresh ids) to reach a larger scale.

Targets from the issue: gazetteer ≥ 200 postings/s per core; the demand query over 1M postings
< 1 s. The taxonomy is the full default one (``load_default_taxonomy``).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from microcred.db.engine import create_db_engine, make_session_factory
from microcred.db.registry import metadata
from microcred.market.analytics import Analytics, Filters
from microcred.market.occupations import OccupationClassifier, occupations_from_session
from microcred.market.pipeline import Resources, ingest_file
from microcred.market.store import MarketStore
from microcred.market.synth import load_material, synthesise, write_postings
from microcred.settings import get_settings
from microcred.skills.extraction import SkillExtractor, vocabulary_from_session
from microcred.skills.extraction.embeddings import MiniLMEncoder, embeddings_available
from microcred.skills.extraction.service import embeddings_cache_dir
from microcred.skills.loader import load_default_taxonomy


def _pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def _unpin() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(range(os.cpu_count() or 1)))


def _rate(count: int, action: Callable[[], Any]) -> tuple[float, float]:
    """Items per wall-clock second and per CPU second of this process (robust to a busy host)."""
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    return count / (time.perf_counter() - wall), count / max(time.process_time() - cpu, 1e-9)


def _latency(action: Callable[[], Any], runs: int = 5) -> float:
    action()
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def _replicate(store: MarketStore, times: int, workdir: Path) -> MarketStore:
    """A store holding every ingested posting ``times`` over, each copy with fresh ids.

    For query latency at a scale beyond what this machine ingests in one sitting; the copies
    keep the real distribution of skills, regions, months and salaries.
    """
    import duckdb

    target = MarketStore(workdir / f"replicated-x{times}")
    for folder in (target.postings_dir, target.skills_dir):
        folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(store.labels_path, target.labels_path)
    connection = duckdb.connect()
    for source, destination in (
        (store.postings_dir, target.postings_dir),
        (store.skills_dir, target.skills_dir),
    ):
        connection.execute(
            f"COPY (SELECT * REPLACE (posting_id || '-' || copy AS posting_id) "
            f"FROM read_parquet('{source.as_posix()}/*.parquet'), range({times}) AS c(copy)) "
            f"TO '{(destination / 'replicated.parquet').as_posix()}' "
            "(FORMAT parquet, COMPRESSION zstd)"
        )
    connection.close()
    target.build_cube()
    return target


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Skill extraction and market analytics speed")
    parser.add_argument("--postings", type=int, default=20_000, help="postings to ingest")
    parser.add_argument("--engine", choices=["local", "ray"], default="local")
    parser.add_argument("--workers", type=int, default=2, help="Ray workers")
    parser.add_argument("--extract-sample", type=int, default=2000)
    parser.add_argument("--no-embeddings", action="store_true")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument(
        "--replicate",
        type=int,
        default=1,
        help="query a store of the ingested postings copied this many times",
    )
    parser.add_argument("--database", type=Path, help="SQLite file with (or for) the taxonomy")
    args = parser.parse_args(argv)
    settings = get_settings()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="skills-speed-"))
    workdir.mkdir(parents=True, exist_ok=True)
    database = args.database or workdir / "taxonomy.db"
    engine = create_db_engine(f"sqlite:///{database}")
    metadata.create_all(engine)
    with make_session_factory(engine).begin() as session:
        load_default_taxonomy(session, settings.shared_dir)
    with make_session_factory(engine)() as session:
        concepts = vocabulary_from_session(session)
        occupations = occupations_from_session(session)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs; taxonomy {len(concepts)} "
        f"skills, {len(occupations)} occupations; workdir {workdir}"
    )

    material = load_material(settings.shared_dir)
    sample = [
        f"{row['title']}\n{row['text']}"
        for row in synthesise(settings.shared_dir, args.extract_sample, seed=1, material=material)
    ]
    average = sum(len(text) for text in sample) / len(sample)
    print(f"extraction sample: {len(sample)} postings, {average:.0f} characters on average")
    extractor = SkillExtractor.build(concepts, cache_dir=embeddings_cache_dir(settings.data_dir))
    _pin_to_one_core()
    extractor.extract_many(sample[:50])
    wall, cpu = _rate(len(sample), lambda: extractor.extract_many(sample))
    print(
        f"gazetteer, 1 core: {wall:,.0f} postings/s wall, {cpu:,.0f} per CPU-second (target ≥ 200)"
    )
    if not args.no_embeddings and embeddings_available():
        import torch

        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        for device in devices:
            if device == "cuda":
                _unpin()
            hybrid = SkillExtractor.build(
                concepts,
                encoder=MiniLMEncoder(device=device),
                cache_dir=embeddings_cache_dir(settings.data_dir),
            )
            started = time.perf_counter()
            hybrid.semantic()
            setup = time.perf_counter() - started
            subset = sample if device == "cuda" else sample[: max(len(sample) // 4, 50)]
            hybrid.extract_many(subset[:20], "hybrid")
            wall, cpu = _rate(len(subset), lambda s=subset, h=hybrid: h.extract_many(s, "hybrid"))
            where = "1 core" if device == "cpu" else torch.cuda.get_device_name(0)
            print(
                f"gazetteer + embeddings, {where}: {wall:,.1f} postings/s wall, "
                f"{cpu:,.1f} per CPU-second (label matrix ready in {setup:.1f} s)"
            )
    _unpin()

    corpus = workdir / f"postings-{args.postings}.parquet"
    if not corpus.exists():
        started = time.perf_counter()
        write_postings(
            synthesise(settings.shared_dir, args.postings, seed=2, material=material), corpus
        )
        print(f"synthesised {args.postings:,} postings in {time.perf_counter() - started:.0f} s")
    store = MarketStore(workdir / f"market-{args.postings}")
    resources = Resources(extractor, OccupationClassifier.build(occupations))
    started = time.perf_counter()
    report = ingest_file(
        corpus, store, resources, engine=args.engine, workers=args.workers, chunk_size=5000
    )
    elapsed = time.perf_counter() - started
    print(f"ingest ({args.engine}): {report.summary()}")
    print(f"ingest time: {elapsed:,.1f} s = {report.rows_read / elapsed:,.0f} postings/s")

    if args.replicate > 1:
        store = _replicate(store, args.replicate, workdir)
    with Analytics(store) as analytics:
        top = analytics.top_skills(Filters(), 5)
        skill = top[0].skill_uri
        region = analytics.overview().regions[0]
        queries: dict[str, Callable[[], Any]] = {
            "demand (skill × region × month, all skills)": lambda: analytics.demand(Filters()),
            "demand (one skill)": lambda: analytics.demand(Filters(), [skill]),
            "top skills in a region": lambda: analytics.top_skills(Filters(region=region), 20),
            "rising/falling (12 v 12 months)": lambda: analytics.rising_and_falling(Filters()),
            "co-occurrence of one skill": lambda: analytics.cooccurrence(skill, Filters()),
            "salary by skill": lambda: analytics.salary_by_skill(Filters()),
            "region heat table": lambda: analytics.region_heat(Filters()),
        }
        total = analytics.total(Filters())
        for name, query in queries.items():
            print(f"query over {total:,} postings — {name}: {_latency(query) * 1000:,.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
