"""What awarding pathways on issuance costs an issuance, against the same issuance without it.

Run: ``.venv/bin/python benchmarks/pathway_awards.py [--repeat 15] [--batch 200]``.

One core, one SQLite file in a temporary directory, the demo built through the real code
(``build_demo``: one published pathway). Each case is timed with the pathways listener
registered (``award_on_issue``, the product) and removed (the baseline), alternately, in a
transaction rolled back afterwards, so every run starts from the same database:

* ``issue_credential`` of a definition the pathway uses, to the demo learner's account;
* ``issue_credential`` of a definition no pathway uses, to the same account;
* a bulk batch (``Issuance.queue`` × ``--batch`` + ``finish``) of a definition the pathway uses,
  to ``--batch`` different learner accounts: the cost per row.

Medians of ``--repeat`` runs, and the ratio product / baseline.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts.models import User
from microcred.catalogue.models import CredentialDefinition, DefinitionStatus
from microcred.credentials import service as credentials
from microcred.db.engine import create_db_engine, make_session_factory
from microcred.db.registry import metadata
from microcred.demo.builder import build_demo
from microcred.pathways import service as pathways
from microcred.pathways.models import Pathway, PathwayStatus
from microcred.settings import Settings

console = Console()


def timed(sessions: sessionmaker[Session], work: Callable[[Session], None]) -> float:
    session = sessions()
    session.begin()
    try:
        started = time.perf_counter()
        work(session)
        session.flush()
        return time.perf_counter() - started
    finally:
        session.rollback()
        session.close()


def compare(
    sessions: sessionmaker[Session], work: Callable[[Session], None], repeat: int
) -> tuple[float, float]:
    """Median seconds with the listener (product) and without it (baseline), runs alternating."""
    product: list[float] = []
    baseline: list[float] = []
    timed(sessions, work)  # warm-up
    for _ in range(repeat):
        product.append(timed(sessions, work))
        credentials.issued_listeners.remove(pathways.award_on_issue)
        try:
            baseline.append(timed(sessions, work))
        finally:
            credentials.on_issued(pathways.award_on_issue)
    return statistics.median(product), statistics.median(baseline)


def run(workdir: Path, repeat: int, batch: int) -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    console.print(
        f"machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} CPUs (pinned to one); SQLite in {workdir}"
    )
    url = f"sqlite:///{workdir / 'awards.db'}"
    engine = create_db_engine(url)
    metadata.create_all(engine)
    settings = Settings(database_url=url, master_key="benchmark", data_dir=workdir)
    sessions = make_session_factory(engine)
    with console.status("building the demo through the real code"):
        build_demo(sessions, settings, progress=False, postings=200)
    with sessions() as session:
        pathway = session.scalars(
            select(Pathway).where(Pathway.status == PathwayStatus.published)
        ).first()
        assert pathway is not None, "the demo has no published pathway"
        used = sorted(pathways._route(session, pathway).offerings)
        unused = session.scalar(
            select(CredentialDefinition.definition_id).where(
                CredentialDefinition.status == DefinitionStatus.published,
                CredentialDefinition.definition_id.not_in(
                    [*used, pathway.qualification_definition_id or ""]
                ),
            )
        )
        learner = session.scalar(select(User.id).where(User.email.like("learner@%")))
        recipients = list(session.scalars(select(User.id).order_by(User.id).limit(batch)))
    assert unused is not None and learner is not None

    def single(definition_id: str) -> Callable[[Session], None]:
        def work(session: Session) -> None:
            credentials.issue_credential(
                session, None, definition_id=definition_id, recipient_user_id=learner,
                settings=settings,
            )  # fmt: skip

        return work

    def bulk(session: Session) -> None:
        issuance = credentials.Issuance(session, settings)
        for user_id in recipients:
            issuance.queue(None, definition_id=used[0], recipient_user_id=user_id)
        issuance.finish()

    table = Table(title=f"awarding on issuance: {pathway.name!r}, medians of {repeat} runs")
    for column in ("case", "product", "baseline", "ratio"):
        table.add_column(column, justify="left" if column == "case" else "right")
    cases = [
        ("issue_credential, pathway component (ms)", single(used[0]), 1),
        ("issue_credential, no pathway uses it (ms)", single(unused), 1),
        (f"bulk batch of {len(recipients)}, pathway component (ms per row)", bulk, len(recipients)),
    ]
    for name, work, rows in cases:
        product, baseline = compare(sessions, work, repeat)
        table.add_row(
            name, f"{product * 1000 / rows:.2f}", f"{baseline * 1000 / rows:.2f}",
            f"{product / baseline:.2f}",
        )  # fmt: skip
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="microcred-awards-bench-"))
    try:
        run(workdir, args.repeat, args.batch)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
