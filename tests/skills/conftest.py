"""Skills tests share one database file with the real default taxonomy loaded once per run."""

from __future__ import annotations

from pathlib import Path

import pytest

from microcred.db.engine import create_db_engine, make_session_factory
from microcred.db.registry import metadata
from microcred.skills.loader import load_default_taxonomy
from tests.conftest import SHARED_DIR


@pytest.fixture(scope="session")
def default_load_summary(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("skills-db") / "taxonomy.db"
    engine = create_db_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    with make_session_factory(engine).begin() as session:
        summary = load_default_taxonomy(session, SHARED_DIR)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path, summary


@pytest.fixture(scope="session")
def sqlite_template(default_load_summary: tuple[Path, str]) -> Path:
    """Overrides the suite's empty template: every skills test starts with the taxonomy loaded."""
    return default_load_summary[0]
