"""Articulation: conflicting rules refused, transfer evaluation with reasons, CLR transcript."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from microcred.credentials.resolvers import verify
from microcred.pathways import service
from microcred.pathways.articulation import Holding, Rule, evaluate_transfer, find_conflict
from microcred.pathways.errors import ArticulationConflict, PathwayError
from microcred.pathways.service import RecommendationInput, RuleInput
from microcred.settings import Settings
from microcred.wallet import service as wallet
from tests.catalogue.factories import PYTHON, SQL
from tests.conftest import World
from tests.pathways.conftest import Catalogue, issue, principal_of
from tests.wallet.ob2 import BADGE, Ob2Issuer

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def holding(key: str, **kw: object) -> Holding:
    data: dict[str, object] = {
        "name": key,
        "definition_id": key,
        "issuer_ids": frozenset({"org"}),
        "issuer_name": "Org",
        "skills": frozenset(),
        "ects": 3.0,
        "eqf_level": 5,
        "earned_at": NOW - timedelta(days=9),
    }
    data.update(kw)
    return Holding(key=key, **data)  # type: ignore[arg-type]


def test_most_specific_rule_wins_and_each_course_is_credited_once() -> None:
    rules = [
        Rule("skill", "s", "CS-110", "Databases", 5, min_credits=2),
        Rule("issuer", "org", "CS-100", "Programming", 5),
        Rule("definition", "b", "CS-110", "Databases", 5),
    ]
    result = evaluate_transfer(
        rules,
        [
            holding("a", skills=frozenset({"s"})),
            holding("b", skills=frozenset({"s"}), earned_at=NOW - timedelta(days=20)),
            holding("c", issuer_ids=frozenset({"x"}), skills=frozenset({"s"}), ects=1),
            holding("d", issuer_ids=frozenset({"x"})),
            holding("e", verified=False),
        ],
        now=NOW,
    )
    reasons = {item.holding.key: item for item in result.items}
    assert reasons["b"].credited and reasons["b"].rule == rules[2]
    assert reasons["a"].credited and reasons["a"].rule == rules[1]
    assert not reasons["c"].credited and "1 ECTS is below the 2 ECTS" in reasons["c"].reason
    assert reasons["d"].reason == "No rule of this agreement accepts it."
    assert reasons["e"].reason.startswith("Does not verify")
    assert result.total == 10


def test_programme_cap_and_recency_are_respected() -> None:
    rules = [
        Rule("issuer", "org", "A", "A", 4),
        Rule("issuer", "org", "B", "B", 4, position=1),
        Rule("skill", "s", "C", "C", 1, within_years=1),
    ]
    result = evaluate_transfer(
        rules,
        [
            holding("x"),
            holding("y"),
            holding(
                "z",
                issuer_ids=frozenset(),
                skills=frozenset({"s"}),
                earned_at=NOW - timedelta(days=800),
            ),
        ],
        now=NOW,
        max_credits=6,
    )
    assert result.total == 4
    reasons = {item.holding.key: item.reason for item in result.items}
    assert "cap of 6" in reasons["y"]
    assert "more than 1 years ago" in reasons["z"]


def test_conflicting_rules_are_refused() -> None:
    existing = [Rule("definition", "d1", "CS-1", "Intro", 5)]
    with pytest.raises(ArticulationConflict, match="worth 5"):
        find_conflict(existing, Rule("skill", "s", "CS-1", "Intro", 3))
    with pytest.raises(ArticulationConflict, match="already accepts"):
        find_conflict(existing, Rule("definition", "d1", "CS-1", "Intro", 5))
    find_conflict(existing, Rule("definition", "d1", "CS-2", "Next", 5))


def recommendation(definition_id: str) -> RecommendationInput:
    """3 US credit hours (6 ECTS) at EQF level 5, valid from 2025."""
    return RecommendationInput(
        definition_id, "National Credit Council", 3, "credit_hours", "Lower-division",
        "Computer science", date(2025, 1, 1), eqf_level=5,
    )  # fmt: skip


def recommendations_of(sessions: sessionmaker[Session], definition_id: str) -> list[str]:
    with sessions() as session:
        rows = service.credit_recommendations(session, definition_id, on=date(2026, 1, 1))
        return [row.organisation_id for row in rows]


@pytest.mark.both_databases
@pytest.mark.parametrize("as_staff", [True, False], ids=["staff", "system"])
def test_only_the_micro_credentials_issuer_records_a_credit_recommendation(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, as_staff: bool
) -> None:
    """Enforced by the service, for staff and for system callers (the demo builder) alike."""
    with sessions.begin() as session:
        staff = principal_of(session, world.staff) if as_staff else None
        with pytest.raises(PathwayError) as refused:
            service.add_credit_recommendation(
                session, staff, "north-college", recommendation(defs.sql)
            )
        assert refused.value.message == (
            "'SQL essentials' is South Academy's micro-credential: North College records credit "
            "recommendations for its own micro-credentials only."
        )
        assert (refused.value.field, refused.value.status_code) == ("definition_id", 422)
    assert recommendations_of(sessions, defs.sql) == []

    with sessions.begin() as session:
        staff = principal_of(session, world.staff) if as_staff else None
        issuer = principal_of(session, world.other_staff) if as_staff else None
        service.add_credit_recommendation(
            session, issuer, "south-academy", recommendation(defs.sql)
        )
        service.add_credit_recommendation(
            session, staff, "north-college", recommendation(defs.python)
        )
    assert recommendations_of(sessions, defs.sql) == [world.academy.id]
    assert recommendations_of(sessions, defs.python) == [world.college.id]


@pytest.mark.both_databases
def test_transfer_evaluation_end_to_end_with_an_imported_credential(
    sessions: sessionmaker[Session], world: World, defs: Catalogue, settings: Settings
) -> None:
    issue(sessions, settings, defs.python)
    issuer = Ob2Issuer()
    with sessions.begin() as session:
        learner = principal_of(session, world.learner)
        wallet.import_credential(
            session, learner, json.dumps(issuer.assertion(1)), settings, fetch=issuer.fetch
        )
        staff = principal_of(session, world.staff)
        service.add_credit_recommendation(
            session, staff, "north-college", recommendation(defs.python)
        )
        agreement = service.create_agreement(
            session,
            staff,
            "north-college",
            programme="BSc Data Science",
            name="Intake 2026",
            max_credits=30,
        )
        service.add_rule(
            session,
            staff,
            agreement.id,
            RuleInput("skill", PYTHON, "DS-101", "Programming for data", 6, min_credits=5),
        )
        service.add_rule(
            session,
            staff,
            agreement.id,
            RuleInput("definition", BADGE, "DS-102", "Statistics I", 5),
        )
        with pytest.raises(ArticulationConflict):
            service.add_rule(
                session,
                staff,
                agreement.id,
                RuleInput("issuer", "south-academy", "DS-101", "Programming for data", 4),
            )
        with pytest.raises(PathwayError, match="skill by its URI"):
            service.add_rule(
                session, staff, agreement.id, RuleInput("skill", "python", "DS-103", "x", 1)
            )
        agreement_id = agreement.id
    with sessions.begin() as session:
        staff = principal_of(session, world.staff)
        evaluation = service.evaluate_transfer_for(
            session,
            staff,
            agreement_id,
            settings,
            learner="learner@example.org",
            fetch=issuer.fetch,
        )
        items = {item.holding.name: item for item in evaluation.result.items}
        # 3 US credit hours are recommended = 6 ECTS, which meets the skill rule's 5 ECTS
        assert items["Python basics"].credited and items["Python basics"].credits == 6
        assert items["Statistics"].credited
        assert evaluation.result.total == 11
        transcript = service.transfer_transcript(session, evaluation, settings)
        report = verify(session, transcript, settings, allow_remote=False)
        assert report.valid, report.checks
        subject = transcript["credentialSubject"]
        assert {a["humanCode"] for a in subject["achievement"]} == {"DS-101"}
        assert subject["association"][0]["associationType"] == "exactMatchOf"
        with pytest.raises(PathwayError, match="not a learner"):
            service.evaluate_transfer_for(
                session, staff, agreement_id, settings, learner="hr@acme.example"
            )
    assert SQL
