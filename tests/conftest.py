"""Shared fixtures: real databases (SQLite file, and PostgreSQL when available), the app, users.

``db_url`` is parametrised over SQLite and PostgreSQL for tests marked ``both_databases``
(PostgreSQL only when MICROCRED_TEST_POSTGRES_URL is set — ``make test`` starts one).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from microcred.accounts import service as accounts
from microcred.accounts.models import Organisation, OrganisationKind, Role, User
from microcred.db.engine import create_db_engine, make_session_factory
from microcred.db.registry import metadata
from microcred.settings import Settings, get_settings
from tests.mail.smtp import mail_settings, smtp_server

__all__ = ["mail_settings", "smtp_server"]

# Apps made here sign no checkpoints behind a test's back (tests/ledger/test_scheduler.py turns
# the background checkpointer on where it is the subject).
os.environ.setdefault("MICROCRED_LEDGER_CHECKPOINT_IN_SERVER", "false")
os.environ.setdefault("MICROCRED_WEBHOOKS_IN_SERVER", "false")  # tests/webhooks deliver by hand


def _worker_postgres_url() -> str | None:
    """The PostgreSQL URL for this test process: one database per pytest-xdist worker."""
    base = os.environ.get("MICROCRED_TEST_POSTGRES_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not base or not worker:
        return base
    url = make_url(base)
    name = f"{url.database}_{worker}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).first()
        if exists is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


POSTGRES_URL = _worker_postgres_url()
SHARED_DIR = Path(__file__).resolve().parents[1].parent / "shared"
PASSWORD = "correct horse battery"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_databases: run against SQLite and, when available, PostgreSQL"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_backend" in metafunc.fixturenames:
        backends = ["sqlite"]
        if metafunc.definition.get_closest_marker("both_databases") is not None:
            backends.append("postgresql")
        metafunc.parametrize("db_backend", backends, indirect=True)


@pytest.fixture
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param) if hasattr(request, "param") else "sqlite"


_MIGRATED: dict[str, Engine] = {}


def _wipe(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite file with the schema per run; each test gets a copy.

    The schema comes from the models; tests/db/test_migrations.py proves the Alembic migrations
    build exactly the same schema on both backends.
    """
    path = tmp_path_factory.mktemp("db") / "template.db"
    template_engine = create_db_engine(f"sqlite:///{path}")
    metadata.create_all(template_engine)
    template_engine.dispose()
    return path


@pytest.fixture
def db_url(db_backend: str, sqlite_template: Path, tmp_path: Path) -> Iterator[str]:
    if db_backend == "postgresql":
        if not POSTGRES_URL:
            pytest.skip("PostgreSQL not available (set MICROCRED_TEST_POSTGRES_URL)")
        if POSTGRES_URL not in _MIGRATED:
            with create_db_engine(POSTGRES_URL).begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            metadata.create_all(create_db_engine(POSTGRES_URL))
            _MIGRATED[POSTGRES_URL] = create_db_engine(POSTGRES_URL)
        _wipe(_MIGRATED[POSTGRES_URL])
        yield POSTGRES_URL
        return
    target = tmp_path / "test.db"
    target.write_bytes(sqlite_template.read_bytes())
    yield f"sqlite:///{target}"


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        secret_key="test-secret",
        master_key="test-master-key",
        shared_dir=SHARED_DIR,
        data_dir=tmp_path / "var",
    )


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """Runs ``microcred`` commands in-process against this test's database and settings."""
    monkeypatch.setenv("MICROCRED_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MICROCRED_MASTER_KEY", settings.master_key)
    monkeypatch.setenv("MICROCRED_BASE_URL", settings.base_url)
    monkeypatch.setenv("MICROCRED_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_db_engine(settings.database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as session:
        yield session
        session.rollback()


@dataclass
class World:
    """Two issuer organisations with staff, an assessor, a learner and an employer."""

    college: Organisation
    academy: Organisation
    employer_org: Organisation
    admin: User
    staff: User
    other_staff: User
    assessor: User
    learner: User
    employer: User


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    with sessions.begin() as session:
        college = accounts.create_organisation(
            session,
            slug="north-college",
            name="North College",
            kind=OrganisationKind.issuer,
            category="college",
        )
        academy = accounts.create_organisation(
            session,
            slug="south-academy",
            name="South Academy",
            kind=OrganisationKind.issuer,
            category="online platform",
        )
        employer_org = accounts.create_organisation(
            session, slug="acme", name="Acme Ltd", kind=OrganisationKind.employer
        )

        def user(email: str, name: str, **kw: bool) -> User:
            return accounts.create_user(
                session, email=email, name=name, password=PASSWORD, fast_hash=True, **kw
            )

        admin = user("admin@north.example", "Ada Admin")
        staff = user("staff@north.example", "Sam Staff")
        other = user("staff@south.example", "Olu Other")
        assessor = user("assessor@north.example", "Asha Assessor")
        learner = user("learner@example.org", "Lee Learner")
        employer = user("hr@acme.example", "Emma Employer")
        accounts.add_membership(session, admin, college, Role.admin)
        accounts.add_membership(session, staff, college, Role.issuer_staff)
        accounts.add_membership(session, other, academy, Role.issuer_staff)
        accounts.add_membership(session, assessor, college, Role.assessor)
        accounts.add_membership(session, learner, college, Role.learner)
        accounts.add_membership(session, employer, employer_org, Role.employer)
        session.expunge_all()
    return World(college, academy, employer_org, admin, staff, other, assessor, learner, employer)


@pytest.fixture
def platform_admin(sessions: sessionmaker[Session]) -> str:
    """A platform administrator (no membership anywhere); their e-mail address."""
    with sessions.begin() as session:
        accounts.create_user(
            session, email="root@platform.example", name="Pat Platform", password=PASSWORD,
            fast_hash=True, is_platform_admin=True,
        )  # fmt: skip
    return "root@platform.example"


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]
    from microcred.web.app import create_app

    application = create_app(settings)
    yield application
    application.state.context.engine.dispose()


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as test_client:
        yield test_client


def sign_in_client(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign in through the real form; returns the session's CSRF token for later posts."""
    import re

    page = client.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "sign-in form has no CSRF token"
    response = client.post(
        "/sign-in",
        data={"email": email, "password": password, "csrf_token": token.group(1), "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    account = client.get("/account")
    fresh = re.search(r'name="csrf_token" value="([^"]+)"', account.text)
    assert fresh
    return fresh.group(1)
