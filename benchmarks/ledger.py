"""Ledger benchmark: appends per second, proofs at 10k and 1M leaves, checkpoint after 100k.

Run: ``.venv/bin/python benchmarks/ledger.py [--large 1000000] [--workdir DIR]``. Everything runs
on SQLite files in a temporary directory. The 1M-leaf log is built by bulk-inserting
precomputed leaf and node hashes (the same rows the service writes), then every figure is taken
through the real service functions.
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from microcred.db.engine import create_db_engine, make_session_factory
from microcred.db.registry import metadata
from microcred.ledger import service
from microcred.ledger.leaves import LeafData, LedgerEvent
from microcred.ledger.merkle import TreeEdge, verify_inclusion
from microcred.ledger.models import HEAD_ID
from microcred.settings import Settings

T0 = datetime(2025, 1, 1, tzinfo=UTC)
PROOF_SAMPLES = 200


def leaf(number: int) -> LeafData:
    digest = number.to_bytes(32, "big")
    return LeafData(LedgerEvent.issued, digest, "org-bench", T0 + timedelta(seconds=number))


def fresh_log(workdir: Path, name: str) -> tuple[Engine, sessionmaker[Session], Settings]:
    url = f"sqlite:///{workdir / name}.db"
    engine = create_db_engine(url)
    metadata.create_all(engine)
    return engine, make_session_factory(engine), Settings(database_url=url, master_key="bench")


def bulk_build(engine: Engine, size: int, batch: int = 50_000) -> None:
    """Write a log of ``size`` leaves with executemany, as fast as SQLite takes rows."""
    edge = TreeEdge()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for start in range(0, size, batch):
            leaves, nodes = [], []
            for number in range(start, min(start + batch, size)):
                data = leaf(number)
                digest = data.leaf_hash()
                nodes.extend((lvl, idx, value) for (lvl, idx), value in edge.append(digest))
                leaves.append(
                    (number, digest, "issued", data.credential_hash, data.issuer_id,
                     data.at.strftime("%Y-%m-%d %H:%M:%S.000000"))
                )  # fmt: skip
            cursor.executemany("INSERT INTO ledger_leaves VALUES (?, ?, ?, ?, ?, ?)", leaves)
            cursor.executemany("INSERT INTO ledger_nodes VALUES (?, ?, ?)", nodes)
        cursor.execute(
            "INSERT INTO ledger_head (id, tree_size, edge, updated_at) VALUES (?, ?, ?, ?)",
            (HEAD_ID, edge.size, edge.encode_peaks(), T0.strftime("%Y-%m-%d %H:%M:%S.000000")),
        )
        raw.commit()
    finally:
        raw.close()


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def proof_figures(sessions: sessionmaker[Session], size: int) -> tuple[float, float, int]:
    """Median milliseconds to generate and to verify an inclusion proof, and the proof length."""
    rng = random.Random(size)
    generate, verify = [], []
    length = 0
    with sessions() as session:
        root = service.root_at(session, size)
        for _ in range(PROOF_SAMPLES):
            index = rng.randrange(size)
            started = time.perf_counter()
            proof = service.inclusion_proof(session, index, size)
            generate.append(time.perf_counter() - started)
            digest = leaf(index).leaf_hash()
            started = time.perf_counter()
            verify_inclusion(index, size, digest, proof, root)
            verify.append(time.perf_counter() - started)
            length = max(length, len(proof))
    return statistics.median(generate) * 1e3, statistics.median(verify) * 1e3, length


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--large", type=int, default=1_000_000, help="size of the large log")
    parser.add_argument("--small", type=int, default=10_000, help="size of the small log")
    parser.add_argument("--batch", type=int, default=100_000, help="issuances before checkpoint")
    parser.add_argument("--single", type=int, default=2_000, help="one-per-transaction appends")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="microcred-ledger-bench-"))
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}; SQLite files in {workdir}")  # fmt: skip

    engine, sessions, settings = fresh_log(workdir, "appends")

    def one_per_transaction() -> None:
        for number in range(args.single):
            with sessions.begin() as session:
                service.record_events(session, [leaf(number)])

    seconds = timed(one_per_transaction)
    print(f"appends, one event per transaction (commit each): {args.single / seconds:,.0f}/s")
    with sessions.begin() as session:
        service.create_checkpoint(session, settings)  # creates the log key; the next one links

    batch = [leaf(number) for number in range(args.single, args.single + args.batch)]

    def bulk_append() -> None:
        with sessions.begin() as session:
            service.record_events(session, batch)

    seconds = timed(bulk_append)
    print(f"appends, {args.batch:,} events in one transaction: {args.batch / seconds:,.0f}/s")
    with sessions.begin() as session:
        checkpoint_seconds = timed(lambda: service.create_checkpoint(session, settings))
    print(
        f"checkpoint after a batch of {args.batch:,} issuances: {checkpoint_seconds * 1e3:.2f} ms"
    )
    engine.dispose()

    figures = {}
    for label, size in (("small", args.small), ("large", args.large)):
        engine, sessions, _ = fresh_log(workdir, label)
        build = timed(lambda: bulk_build(engine, size))  # noqa: B023 (called at once)
        generate_ms, verify_ms, length = proof_figures(sessions, size)
        figures[label] = (generate_ms, verify_ms)
        print(
            f"{size:>9,} leaves (built in {build:.1f} s): inclusion proof generate "
            f"{generate_ms:.3f} ms, verify {verify_ms:.3f} ms (median of {PROOF_SAMPLES}, "
            f"{length} hashes)"
        )
        engine.dispose()
    growth = args.large / args.small
    generate_ratio = figures["large"][0] / figures["small"][0]
    verify_ratio = figures["large"][1] / figures["small"][1]
    log_ratio = args.large.bit_length() / args.small.bit_length()
    print(
        f"O(log n) check: leaves x{growth:,.0f}; generate x{generate_ratio:.2f}, "
        f"verify x{verify_ratio:.2f} (log2 n ratio {log_ratio:.2f}; linear would be x{growth:,.0f})"
    )


if __name__ == "__main__":
    main()
