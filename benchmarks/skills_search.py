"""Skill label search latency on the real taxonomy: exact, prefix and fuzzy queries.

Run: ``.venv/bin/python benchmarks/skills_search.py [--database FILE]``. The baseline, measured
in the same run, is the straightforward way: score the query against every label with
rapidfuzz's ``process.extract`` (what a search without an index does). Targets (docs/skills.md):
exact and prefix < 5 ms, fuzzy < 50 ms per query after warm-up.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rapidfuzz import fuzz, process
from sqlalchemy import select

from microcred.db.engine import create_db_engine, make_session_factory
from microcred.db.registry import metadata
from microcred.settings import get_settings
from microcred.skills import service
from microcred.skills.loader import load_default_taxonomy
from microcred.skills.models import Skill

QUERIES = {
    "exact": ["Python (computer programming)", "project management", "SQL", "welding techniques"],
    "prefix": ["project manag", "data visual", "cloud sec", "statist"],
    "fuzzy": ["teemwork", "machne learning", "cyber securty", "custmer service"],
}


def median_ms(action: Callable[[], object], repeats: int = 15) -> float:
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database", type=Path, help="SQLite file with (or for) the taxonomy")
    args = parser.parse_args()
    database = args.database or Path(tempfile.mkdtemp(prefix="skills-search-")) / "taxonomy.db"
    engine = create_db_engine(f"sqlite:///{database}")
    metadata.create_all(engine)
    with make_session_factory(engine).begin() as session:
        load_default_taxonomy(session, get_settings().shared_dir)
    with make_session_factory(engine)() as session:
        labels = [
            label
            for preferred, alternatives in session.execute(
                select(Skill.preferred_label, Skill.alt_labels)
            )
            for label in [preferred, *(alternatives or [])]
        ]
        start = time.perf_counter()
        service.search_skills(session, "warm up")
        build_s = time.perf_counter() - start
        print(f"machine: {platform.machine()}, Python {platform.python_version()}")
        print(f"{len(labels):,} labels; index built in {build_s:.2f} s (once per process)")
        print(f"{'kind':<8}{'index ms':>10}{'scan ms':>10}{'speed-up':>10}")
        for kind, queries in QUERIES.items():
            index_ms = statistics.median(
                median_ms(lambda q=q: service.search_skills(session, q, limit=20)) for q in queries
            )
            scan_ms = statistics.median(
                median_ms(
                    lambda q=q: process.extract(q, labels, scorer=fuzz.WRatio, limit=20),
                    repeats=3,
                )
                for q in queries
            )
            print(f"{kind:<8}{index_ms:>10.2f}{scan_ms:>10.1f}{scan_ms / index_ms:>9.0f}x")
    engine.dispose()


if __name__ == "__main__":
    main()
