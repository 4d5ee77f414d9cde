"""``insert_rows`` stores exactly what SQLAlchemy's own insert stores, on both databases."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Engine,
    Enum,
    LargeBinary,
    MetaData,
    String,
    Table,
    insert,
    select,
)

from microcred.db.engine import make_session_factory
from microcred.db.fastinsert import insert_rows


class Colour(enum.Enum):
    red = "r"
    green = "g"


scratch = MetaData()
THINGS = Table(
    "fastinsert_things",
    scratch,
    Column("id", String(32), primary_key=True),
    Column("colour", Enum(Colour, native_enum=False, length=16)),
    Column("payload", JSON),
    Column("at", DateTime(timezone=True)),
    Column("blob", LargeBinary),
    Column("number", BigInteger),
    Column("flag", Boolean),
    Column("note", String(50), nullable=True),
)


@pytest.fixture
def things(engine: Engine) -> Iterator[Table]:
    scratch.drop_all(engine)
    scratch.create_all(engine)
    yield THINGS
    scratch.drop_all(engine)


def _row(key: str, number: int) -> dict[str, object]:
    return {
        "id": key,
        "colour": Colour.green if number % 2 else Colour.red,
        "payload": {"name": "Zoë ✓", "list": [1, 2.5, None, True], "nested": {"a": "\u2028"}},
        "at": datetime(2026, 11, 23, 9, 30, 15, 123456, tzinfo=UTC) + timedelta(seconds=number),
        "blob": bytes(range(number % 7, 40)),
        "number": 2**40 + number,
        "flag": bool(number % 3),
        "note": None if number % 2 else f"note {number}",
    }


@pytest.mark.both_databases
def test_rows_read_back_the_same_as_through_sqlalchemy_insert(
    engine: Engine, things: Table
) -> None:
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        insert_rows(session, things, [_row(f"fast{n}", n) for n in range(5)])
        session.execute(insert(things), [_row(f"core{n}", n) for n in range(5)])
    with engine.connect() as connection:
        typed = {row.id: row._asdict() for row in connection.execute(select(things))}
        raw_sql = f"SELECT * FROM {things.name} ORDER BY id"
        raw = {row[0]: tuple(row[1:]) for row in connection.exec_driver_sql(raw_sql)}
    for n in range(5):
        fast, core = typed[f"fast{n}"], typed[f"core{n}"]
        assert {**fast, "id": None} == {**core, "id": None}
        assert raw[f"fast{n}"] == raw[f"core{n}"]  # the stored representation too
    assert typed["fast1"]["colour"] is Colour.green
    assert typed["fast1"]["at"].astimezone(UTC) == datetime(
        2026, 11, 23, 9, 30, 16, 123456, tzinfo=UTC
    )


@pytest.mark.both_databases
def test_a_failing_row_rolls_back_the_whole_batch(engine: Engine, things: Table) -> None:
    sessions = make_session_factory(engine)
    rows = [_row("same", 1), _row("other", 2), _row("same", 3)]
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"), sessions.begin() as session:
        insert_rows(session, things, rows)
    with engine.connect() as connection:
        assert connection.execute(select(things.c.id)).all() == []


def test_rows_must_set_the_same_columns(engine: Engine, things: Table) -> None:
    sessions = make_session_factory(engine)
    with pytest.raises(KeyError), sessions.begin() as session:
        insert_rows(session, things, [_row("a", 1), {"id": "b"}])


def test_aware_datetimes_in_other_zones_are_stored_as_the_same_instant(
    engine: Engine, things: Table
) -> None:
    sessions = make_session_factory(engine)
    row = _row("tz", 0)
    row["at"] = datetime(2026, 11, 23, 11, 30, 15, tzinfo=timezone(timedelta(hours=2)))
    reference = _row("tz-core", 0)
    reference["at"] = row["at"]
    with sessions.begin() as session:
        insert_rows(session, things, [row])
        session.execute(insert(things), [reference])
    with engine.connect() as connection:
        stored = dict(connection.execute(select(things.c.id, things.c.at)).all())
    assert stored["tz"] == stored["tz-core"]
