"""Imported credentials' skill rows (what talent search reads) follow the import everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

from microcred.db.engine import create_db_engine, json_dumps
from microcred.db.migrate import upgrade
from microcred.wallet.models import MAX_SKILL_URI, ImportedCredential, ImportedSkill
from tests.catalogue.factories import PYTHON, SQL, TEAMWORK
from tests.conftest import World
from tests.talent.conftest import Catalogue, Learner, add_import
from tests.talent.test_service import names, search


def rows_of(
    sessions: sessionmaker[Session], imported_id: str
) -> list[tuple[str, bool, int | None]]:
    with sessions() as session:
        found = session.scalars(
            select(ImportedSkill)
            .where(ImportedSkill.imported_id == imported_id)
            .order_by(ImportedSkill.skill_uri)
        )
        return [(row.skill_uri, row.verified, row.eqf_level) for row in found]


@pytest.mark.both_databases
def test_rows_are_written_with_the_import_changed_with_it_and_removed_with_it(
    db_backend: str, sessions: sessionmaker[Session], world: World, definitions: Catalogue,
    make_learner: Learner,
) -> None:  # fmt: skip
    learner = make_learner("k@example.org", "Kept")
    too_long = "https://example.org/" + "x" * MAX_SKILL_URI
    imported_id = add_import(sessions, learner, [SQL, TEAMWORK, SQL, too_long], eqf_level=5)
    assert rows_of(sessions, imported_id) == sorted([(SQL, True, 5), (TEAMWORK, True, 5)])
    assert names(search(sessions, world, [SQL])) == ["Kept"]

    with sessions.begin() as session:  # a re-verification that fails
        row = session.get(ImportedCredential, imported_id)
        assert row is not None
        row.verified = False
    assert {verified for _, verified, _ in rows_of(sessions, imported_id)} == {False}
    assert names(search(sessions, world, [SQL])) == []

    with sessions.begin() as session:  # verifies again, and its skills were corrected
        row = session.get(ImportedCredential, imported_id)
        assert row is not None
        row.verified, row.skills = True, [PYTHON]
    assert rows_of(sessions, imported_id) == [(PYTHON, True, 5)]
    assert names(search(sessions, world, [SQL])) == []
    assert names(search(sessions, world, [PYTHON])) == ["Kept"]

    with sessions.begin() as session:  # the learner removes it
        row = session.get(ImportedCredential, imported_id)
        session.delete(row)
    assert rows_of(sessions, imported_id) == []
    assert names(search(sessions, world, [PYTHON])) == []


def test_the_migration_fills_the_rows_of_existing_imports(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'before.db'}"
    upgrade(url, "0012")
    engine = create_db_engine(url)
    earned = "2025-05-01 00:00:00.000000"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, email, name, password_hash, is_active, "
                "is_platform_admin, created_at, updated_at) VALUES ('u1', 'a@example.org', 'A', "
                "'x', 1, 0, :at, :at)"
            ),
            {"at": earned},
        )
        for imported_id, skills, verified in (("i1", [SQL, TEAMWORK, SQL], 1), ("i2", [], 0)):
            connection.execute(
                text(
                    "INSERT INTO wallet_imported_credentials (id, user_id, source_format, "
                    "original, fingerprint, credential, issuer_id, issuer_name, achievement_id, "
                    "achievement_name, skills, ects, hours, eqf_level, earned_at, imported_at, "
                    "verified, verified_at, checks) VALUES (:id, 'u1', 'ob3-json', '{}', :id, "
                    "'{}', 'did:web:x', 'X', 'urn:a', 'A', :skills, 0, 0, 4, :at, :at, :verified, "
                    ":at, '[]')"
                ),
                {
                    "id": imported_id,
                    "skills": json_dumps(skills),
                    "at": earned,
                    "verified": verified,
                },
            )
    upgrade(url)
    with engine.connect() as connection:
        found = connection.execute(
            text(
                "SELECT skill_uri, imported_id, user_id, eqf_level, verified, earned_at "
                "FROM wallet_imported_skills ORDER BY skill_uri"
            )
        ).all()
    engine.dispose()
    assert [tuple(row) for row in found] == sorted(
        (uri, "i1", "u1", 4, 1, earned) for uri in (SQL, TEAMWORK)
    )
