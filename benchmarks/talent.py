"""Talent search, learning plans and public profiles at scale, against the demo in the same run.

Run: ``.venv/bin/python benchmarks/talent.py [--learners 100000] [--credentials 200000]
[--imports 20000] [--per-page 20] [--repeat 7] [--postings 1000] [--workdir DIR]``.

One core, one SQLite file in a temporary directory. The demo is built through the real code
(``build_demo``) plus one benchmark learner (an account, 40 earned credentials, 5 imported ones,
a published profile showing 20, the talent-search consent): every case is timed there first, the
**baseline**. Then the database is scaled up with ``executemany``: ``--learners`` accounts (60 %
with the talent-search consent), ``--credentials`` issued credentials cloned from the demo's
(every column copied; new id, a random new learner as recipient, a fresh status index, issued
within the last four years) and ``--imports`` verified imported credentials whose skill lists
mix the demo's aligned skills and a skill group's members (the LIKE path of the search). After
``ANALYZE`` every case is timed again through the same service functions: median and p95 of
``--repeat`` runs (one warm-up run first; with 5 runs the p95 is the slowest), each in a fresh
session, the audit rows and sightings a search writes flushed and rolled back. The ranking
query's plan is printed once.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import service as accounts
from microcred.accounts.models import User
from microcred.catalogue.models import CredentialDefinition, DefinitionSkill
from microcred.credentials.models import IssuedCredential
from microcred.db.engine import create_db_engine, json_dumps, json_loads, make_session_factory
from microcred.db.registry import metadata
from microcred.demo.builder import build_demo
from microcred.market.analytics import Analytics
from microcred.market.service import market_store
from microcred.settings import Settings
from microcred.skills.models import Skill, SkillRelation
from microcred.talent import service as talent
from microcred.wallet import plans, profiles
from microcred.wallet.models import imported_skill_rows

EMPLOYER_EMAIL = "hiring@meridian-health.example.com"
PLAN_OCCUPATION = "http://data.europa.eu/esco/occupation/0ce5a9f4-e00a-4bbe-b255-3c63407167a4"
"""ICT security engineer: the occupation whose needs overlap the demo catalogue most."""
BENCH_EARNED = 40
BENCH_IMPORTED = 5
PROFILE_ITEMS = 20
CONSENT_SHARE = 0.6
STATUS_LIST_LENGTH = 131_072
BATCH = 10_000
FAR_PAGE = 20
STAMP = "%Y-%m-%d %H:%M:%S.%f"
console = Console(width=None if Console().is_terminal else 132)


@dataclass(frozen=True)
class Case:
    name: str
    run: Callable[[Session], object]
    matches: Callable[[object], str] = lambda _: ""


@dataclass(frozen=True)
class Figures:
    median_ms: float
    p95_ms: float
    matches: str


def new_id() -> str:
    return uuid.uuid4().hex


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(STAMP)


def pin_to_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def open_database(workdir: Path) -> tuple[Engine, sessionmaker[Session], Settings]:
    url = f"sqlite:///{workdir / 'talent.db'}"
    engine = create_db_engine(url)
    metadata.create_all(engine)
    settings = Settings(database_url=url, master_key="benchmark", data_dir=workdir)
    return engine, make_session_factory(engine), settings


@contextmanager
def raw_cursor(engine: Engine) -> Iterator[Any]:
    raw = engine.raw_connection()
    try:
        yield raw.cursor()
        raw.commit()
    finally:
        raw.close()


def credential_columns() -> list[str]:
    return [column.name for column in IssuedCredential.__table__.columns]


def source_credentials(engine: Engine) -> list[dict[str, Any]]:
    """The demo's issued credentials, every column, as the database holds them."""
    columns = credential_columns()
    with raw_cursor(engine) as cursor:
        rows = cursor.execute(f"SELECT {', '.join(columns)} FROM issued_credentials").fetchall()
    return [dict(zip(columns, row, strict=True)) for row in rows]


class StatusIndexes:
    """Fresh, unique status indexes per status list (random, as the issuer allocates them)."""

    def __init__(self, engine: Engine, rng: random.Random) -> None:
        self.rng = rng
        self.used: dict[str, set[int]] = {}
        with raw_cursor(engine) as cursor:
            for list_id, index in cursor.execute(
                "SELECT status_list_id, status_index FROM issued_credentials"
            ):
                self.used.setdefault(list_id, set()).add(index)

    def take(self, list_id: str) -> int:
        used = self.used.setdefault(list_id, set())
        if len(used) > STATUS_LIST_LENGTH * 0.9:
            raise SystemExit(f"status list {list_id} is nearly full; ask for fewer credentials")
        while True:
            index = self.rng.randrange(STATUS_LIST_LENGTH)
            if index not in used:
                used.add(index)
                return index


def clone_credentials(
    cursor: Any,
    sources: Sequence[dict[str, Any]],
    recipients: Sequence[str],
    indexes: StatusIndexes,
    rng: random.Random,
    now: datetime,
) -> list[str]:
    """Insert one clone of each source for each recipient (zipped); returns the new ids."""
    columns = credential_columns()
    rows, ids = [], []
    for source, recipient in zip(sources, recipients, strict=True):
        row = dict(source)
        row.update(
            id=new_id(),
            recipient_user_id=recipient,
            recipient_email=None,
            idempotency_key=None,
            status_index=indexes.take(source["status_list_id"]),
            ledger_leaf_index=None,
            bulk_job_id=None,
            issued_at=stamp(now - timedelta(days=rng.uniform(0, 4 * 365))),
        )
        ids.append(row["id"])
        rows.append(tuple(row[c] for c in columns))
    marks = ", ".join("?" for _ in columns)
    cursor.executemany(
        f"INSERT INTO issued_credentials ({', '.join(columns)}) VALUES ({marks})", rows
    )
    return ids


def insert_users(cursor: Any, ids: Sequence[str], start: int, now: datetime) -> None:
    at = stamp(now)
    cursor.executemany(
        "INSERT INTO users (id, email, name, password_hash, is_active, is_platform_admin, "
        "email_trusted, last_login_at, created_at, updated_at) "
        "VALUES (?, ?, ?, 'bench-no-sign-in', 1, 0, 1, NULL, ?, ?)",
        [
            (user_id, f"learner-{start + n}@bench.example", f"Bench Learner {start + n}", at, at)
            for n, user_id in enumerate(ids)
        ],
    )


def insert_consents(cursor: Any, user_ids: Sequence[str], now: datetime) -> None:
    cursor.executemany(
        "INSERT INTO consents (id, user_id, purpose, granted_at, withdrawn_at) "
        "VALUES (?, ?, ?, ?, NULL)",
        [(new_id(), user_id, talent.TALENT_CONSENT, stamp(now)) for user_id in user_ids],
    )


def insert_imports(
    cursor: Any,
    user_ids: Sequence[str],
    skill_pool: Sequence[str],
    rng: random.Random,
    now: datetime,
) -> list[str]:
    rows, ids = [], []
    for user_id in user_ids:
        row_id = new_id()
        skills = rng.sample(skill_pool, rng.randint(2, 8))
        name = f"Imported course {rng.randrange(500)}"
        credential = {
            "id": f"urn:uuid:{uuid.uuid4()}",
            "credentialSubject": {
                "achievement": {
                    "name": name,
                    "alignment": [
                        {"targetUrl": uri, "targetType": "ceterms:Skill"} for uri in skills
                    ],
                }
            },
        }
        earned = now - timedelta(days=rng.uniform(0, 6 * 365))
        rows.append(
            (
                row_id, user_id, "ob3-json", json_dumps(credential), uuid.uuid4().hex * 2,
                json_dumps(credential), f"https://issuer-{rng.randrange(50)}.example",
                f"Elsewhere Academy {rng.randrange(50)}", f"urn:achievement:{rng.randrange(500)}",
                name, None, json_dumps(skills), 0.0, 10.0, rng.choice([None, 4, 5, 6]),
                stamp(earned), stamp(now), int(rng.random() < 0.9), stamp(now), "[]",
            )
        )  # fmt: skip
        ids.append(row_id)
    cursor.executemany(
        "INSERT INTO wallet_imported_credentials (id, user_id, source_format, original, "
        "fingerprint, credential, issuer_id, issuer_name, achievement_id, achievement_name, "
        "definition_id, skills, ects, hours, eqf_level, earned_at, imported_at, verified, "
        "verified_at, checks) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    cursor.executemany(  # the wallet indexes an import's skills with it (wallet/models.py)
        "INSERT INTO wallet_imported_skills (skill_uri, imported_id, user_id, earned_at, "
        "eqf_level, verified) VALUES (:skill_uri, :imported_id, :user_id, :earned_at, "
        ":eqf_level, :verified)",
        [
            entry
            for row in rows
            for entry in imported_skill_rows(
                row[0],
                user_id=row[1],
                skills=json_loads(row[11]),
                earned_at=row[15],
                eqf_level=row[14],
                verified=row[17],
            )
        ],
    )
    return ids


def attested_skills(session: Session) -> list[tuple[str, int]]:
    """Skills aligned to the demo's definitions, with how many issued credentials attest each,
    most attested first."""
    attestations = func.count(IssuedCredential.id)
    return [
        (uri, int(count))
        for uri, count in session.execute(
            select(DefinitionSkill.skill_uri, attestations)
            .join(
                CredentialDefinition, CredentialDefinition.id == DefinitionSkill.definition_row_id
            )
            .join(
                IssuedCredential,
                (IssuedCredential.definition_id == CredentialDefinition.definition_id)
                & (IssuedCredential.definition_version == CredentialDefinition.version),
            )
            .group_by(DefinitionSkill.skill_uri)
            .order_by(attestations.desc(), DefinitionSkill.skill_uri)
        )
    ]


def widest_group(session: Session, aligned: Sequence[str]) -> str:
    """The broader skill (or group) with the most of the catalogue's aligned skills below it."""
    broader, narrower = Skill.__table__.alias("broader"), Skill.__table__.alias("narrower")
    hits = func.count()
    return str(
        session.scalar(
            select(broader.c.uri)
            .join(SkillRelation, SkillRelation.broader_id == broader.c.id)
            .join(narrower, narrower.c.id == SkillRelation.narrower_id)
            .where(narrower.c.uri.in_(aligned))
            .group_by(broader.c.uri)
            .order_by(hits.desc(), broader.c.uri)
            .limit(1)
        )
    )


def add_bench_learner(
    engine: Engine, sessions: sessionmaker[Session], rng: random.Random, now: datetime
) -> tuple[str, str]:
    """A learner with many credentials and a published profile; returns (user id, handle)."""
    with sessions.begin() as session:
        user = accounts.create_user(
            session, email="many@bench.example", name="Many Credentials",
            password="bench-password", fast_hash=True,
        )  # fmt: skip
        talent.set_searchable(session, accounts.principal_for(session, user), True)
        user_id = user.id
    sources = source_credentials(engine)
    by_definition = {row["definition_id"]: row for row in sources if row["state"] == "active"}
    chosen = rng.sample(sorted(by_definition.values(), key=lambda r: r["id"]), BENCH_EARNED)
    with raw_cursor(engine) as cursor:
        earned = clone_credentials(
            cursor, chosen, [user_id] * len(chosen), StatusIndexes(engine, rng), rng, now
        )
        with sessions() as session:
            pool = [uri for uri, _ in attested_skills(session)]
        imported = insert_imports(cursor, [user_id] * BENCH_IMPORTED, pool, rng, now)
    with sessions.begin() as session:
        principal = accounts.principal_for(session, session.get_one(User, user_id))
        profiles.save_profile(
            session, principal, handle="many-credentials", headline="Benchmark learner",
            published=True, credential_ids=earned[: PROFILE_ITEMS - 2], imported_ids=imported[:2],
        )  # fmt: skip
    return user_id, "many-credentials"


def scale_up(
    engine: Engine,
    args: argparse.Namespace,
    skill_pool: Sequence[str],
    rng: random.Random,
    now: datetime,
) -> None:
    sources = [row for row in source_credentials(engine) if row["recipient_user_id"]]
    indexes = StatusIndexes(engine, rng)
    learners: list[str] = []
    with Progress(console=console) as progress, raw_cursor(engine) as cursor:
        task = progress.add_task("learners + consents", total=args.learners)
        for start in range(0, args.learners, BATCH):
            ids = [new_id() for _ in range(min(BATCH, args.learners - start))]
            insert_users(cursor, ids, start, now)
            insert_consents(cursor, [u for u in ids if rng.random() < CONSENT_SHARE], now)
            learners.extend(ids)
            progress.advance(task, len(ids))
        task = progress.add_task("issued credentials", total=args.credentials)
        for start in range(0, args.credentials, BATCH):
            size = min(BATCH, args.credentials - start)
            chosen = [rng.choice(sources) for _ in range(size)]
            recipients = [rng.choice(learners) for _ in range(size)]
            clone_credentials(cursor, chosen, recipients, indexes, rng, now)
            progress.advance(task, size)
        task = progress.add_task("imported credentials", total=args.imports)
        for start in range(0, args.imports, BATCH):
            size = min(BATCH, args.imports - start)
            insert_imports(
                cursor, [rng.choice(learners) for _ in range(size)], skill_pool, rng, now
            )
            progress.advance(task, size)
        progress.add_task("ANALYZE", total=None)
        cursor.execute("ANALYZE")


def measure(sessions: sessionmaker[Session], case: Case, repeat: int) -> Figures:
    """Median and p95 milliseconds of ``repeat`` runs after one warm-up, each in a fresh
    session whose writes are flushed and rolled back."""
    times, result = [], None
    for attempt in range(repeat + 1):
        with sessions() as session:
            started = time.perf_counter()
            result = case.run(session)
            session.flush()
            elapsed = (time.perf_counter() - started) * 1e3
            session.rollback()
        if attempt:
            times.append(elapsed)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return Figures(statistics.median(times), p95, case.matches(result))


def cases(
    sessions: sessionmaker[Session], settings: Settings, per_page: int, learner: tuple[str, str]
) -> list[Case]:
    with sessions() as session:
        attested = attested_skills(session)
        top = [uri for uri, _ in attested[:3]]
        group = widest_group(session, [uri for uri, _ in attested])
        one = talent.resolve_skills(session, top[:1])
        three = talent.resolve_skills(session, top)
        wide = talent.resolve_skills(session, [group], include_narrower=True)
        employer = session.scalars(select(User).where(User.email == EMPLOYER_EMAIL)).one()
        principal = accounts.principal_for(session, employer)
    narrower = talent.Filters(include_narrower=True)

    def search(
        skills: list[talent.QuerySkill], page: int, filters: talent.Filters | None = None
    ) -> Callable[[Session], object]:
        return lambda s: talent.search_talent(
            s, principal, skills, filters, page=page, per_page=per_page
        )

    def found(result: object) -> str:
        assert isinstance(result, talent.TalentResults)
        holders = "/".join(f"{h.learners:,}" for h in result.holders[:3])
        return f"{result.total:,} ({holders})"

    def plan(session: Session) -> object:
        """As the plan page does: the market's analytics opened per request."""
        request = plans.PlanRequest(PLAN_OCCUPATION)
        if not market_store(settings).has_data():
            return plans.learning_plan(session, learner[0], request, None)
        with Analytics(market_store(settings)) as analytics:
            return plans.learning_plan(session, learner[0], request, analytics)

    def plan_held(result: object) -> str:
        assert isinstance(result, plans.LearningPlan)
        return f"{len(result.plan.held)} held, {len(result.plan.steps)} steps"

    def shown(result: object) -> str:
        assert isinstance(result, profiles.PublicProfile)
        return f"{len(result.entries)} shown"

    return [
        Case("search: 1 common skill, page 1", search(one, 1), found),
        Case(f"search: 1 common skill, page {FAR_PAGE}", search(one, FAR_PAGE), found),
        Case("search: 3 skills, page 1", search(three, 1), found),
        Case(f"search: 3 skills, page {FAR_PAGE}", search(three, FAR_PAGE), found),
        Case(
            f"search: group + {len(wide[0].narrower)} narrower, page 1",
            search(wide, 1, narrower),
            found,
        ),
        Case(
            f"search: group + {len(wide[0].narrower)} narrower, page {FAR_PAGE}",
            search(wide, FAR_PAGE, narrower),
            found,
        ),
        Case(f"learning plan ({BENCH_EARNED}+{BENCH_IMPORTED} credentials)", plan, plan_held),
        Case(
            f"public profile ({PROFILE_ITEMS} credentials)",
            lambda s: profiles.public_profile(s, learner[1], "https://bench.example"),
            shown,
        ),
    ]


def ranking_plan(engine: Engine, sessions: sessionmaker[Session], case: Case) -> list[str]:
    """SQLite's plan for the ranking query of one search (the grouped pass over the attesting
    credentials, captured as it runs)."""
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "per_learner" in statement and not captured:
            captured.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with sessions() as session:
            case.run(session)
            session.rollback()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statement, parameters = captured[0]
    with raw_cursor(engine) as cursor:
        rows = cursor.execute(f"EXPLAIN QUERY PLAN {statement}", parameters).fetchall()
    depth = {0: 0}
    lines = []
    for node, parent, _, detail in rows:
        depth[node] = depth.get(parent, 0) + 1
        lines.append(f"{'  ' * (depth[node] - 1)}{detail}")
    return lines


def run_cases(
    sessions: sessionmaker[Session], todo: Sequence[Case], repeat: int, label: str
) -> list[Figures]:
    figures = []
    with Progress(console=console) as progress:
        task = progress.add_task(f"timing ({label})", total=len(todo))
        for case in todo:
            figures.append(measure(sessions, case, repeat))
            progress.advance(task)
    return figures


def counts(engine: Engine) -> str:
    with raw_cursor(engine) as cursor:
        users, issued, imported, consents = (
            cursor.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("users", "issued_credentials", "wallet_imported_credentials", "consents")
        )
    return (
        f"{users:,} users, {issued:,} issued credentials, {imported:,} imported, "
        f"{consents:,} consents"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--credentials", type=int, default=200_000)
    parser.add_argument("--imports", type=int, default=20_000)
    parser.add_argument("--per-page", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per case")
    parser.add_argument("--postings", type=int, default=1000, help="demo job postings (plans)")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    temporary = args.workdir is None
    args.workdir = args.workdir or Path(tempfile.mkdtemp(prefix="microcred-talent-bench-"))
    try:
        run(args)
    finally:
        if temporary:
            shutil.rmtree(args.workdir, ignore_errors=True)  # about 2 GB at the default size


def run(args: argparse.Namespace) -> None:
    pin_to_one_core()
    console.print(
        f"machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} CPUs (pinned to one); "
        f"SQLite {__import__('sqlite3').sqlite_version} in {args.workdir}"
    )
    engine, sessions, settings = open_database(args.workdir)
    rng = random.Random(11)
    now = datetime.now(UTC)
    started = time.perf_counter()
    with console.status("building the demo through the real code"):
        build_demo(sessions, settings, progress=False, postings=args.postings)
        learner = add_bench_learner(engine, sessions, rng, now)
    console.print(f"demo built in {time.perf_counter() - started:.0f} s: {counts(engine)}")
    todo = cases(sessions, settings, args.per_page, learner)
    baseline = run_cases(sessions, todo, args.repeat, "demo")

    with sessions() as session:
        aligned = [uri for uri, _ in attested_skills(session)]
        group = widest_group(session, aligned)
        members = talent.resolve_skills(session, [group], include_narrower=True)[0].narrower
    started = time.perf_counter()
    scale_up(engine, args, aligned + list(members), rng, now)
    console.print(f"scaled up in {time.perf_counter() - started:.0f} s: {counts(engine)}")
    scaled = run_cases(sessions, todo, args.repeat, "scaled")

    table = Table(
        title=f"median (p95) ms of {args.repeat} runs, one core, {args.per_page} per page"
    )
    for heading in ("case", "demo ms", "scaled ms", "scaled/demo", "found demo → scaled"):
        table.add_column(heading, justify="left" if heading == "case" else "right")
    for case, small, large in zip(todo, baseline, scaled, strict=True):
        table.add_row(
            case.name,
            f"{small.median_ms:.1f} ({small.p95_ms:.1f})",
            f"{large.median_ms:.1f} ({large.p95_ms:.1f})",
            f"x{large.median_ms / small.median_ms:.1f}",
            f"{small.matches} → {large.matches}" if small.matches else "",
        )
    console.print(table)
    console.print(
        "found: learners matching in all (holders of each query skill); "
        "the learning plan and profile columns say what they returned"
    )
    console.print("SQLite plan of the ranking query (1 common skill, scaled):")
    for line in ranking_plan(engine, sessions, todo[0]):
        console.print(f"  {line}")


if __name__ == "__main__":
    main()
