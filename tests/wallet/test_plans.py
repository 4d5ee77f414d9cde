"""Learning plans from real parts: a taxonomy occupation, ingested postings, the catalogue and
the learner's verified credentials."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.catalogue import service as catalogue
from microcred.credentials import service as credentials
from microcred.market.analytics import Analytics
from microcred.market.occupations import OccupationClassifier, OccupationLabel
from microcred.market.pipeline import Resources, ingest_file
from microcred.market.store import MarketStore
from microcred.settings import Settings
from microcred.skills.extraction import SkillConcept, SkillExtractor
from microcred.skills.models import Occupation, OccupationSkill, Skill, TaxonomyVersion
from microcred.wallet import plans
from tests.catalogue.factories import PYTHON, SQL, TEAMWORK, definition_input, skills
from tests.conftest import World

__all__ = ["skills"]
ANALYST = "urn:test:occupation:data-analyst"
FILLER = (
    "retail",
    "logistics",
    "health",
    "insurance",
    "banking",
    "energy",
    "travel",
    "media",
    "public",
    "sector",
    "startup",
    "growth",
    "quarterly",
    "dashboards",
    "stakeholders",
    "warehouse",
    "pipelines",
    "forecasting",
    "churn",
    "pricing",
    "campaigns",
    "inventory",
    "audits",
    "compliance",
    "customers",
    "suppliers",
    "partners",
    "hybrid",
    "office",
    "remote",
)


@pytest.fixture
def occupation(sessions: sessionmaker[Session], skills: dict[str, str]) -> str:
    """Data analyst: SQL and Python essential, teamwork optional."""
    with sessions.begin() as session:
        version = session.scalars(select(TaxonomyVersion)).one()
        row = Occupation(
            uri=ANALYST, preferred_label="data analyst", source="esco",
            taxonomy_version_id=version.id,
        )  # fmt: skip
        session.add(row)
        session.flush()
        by_uri = {s.uri: s for s in session.scalars(select(Skill))}
        for uri, relation in ((SQL, "essential"), (PYTHON, "essential"), (TEAMWORK, "optional")):
            session.add(
                OccupationSkill(
                    occupation_id=row.id,
                    skill_id=by_uri[uri].id,
                    relation_type=relation,
                    source="esco",
                )
            )
    return ANALYST


def _postings(path: Path) -> Path:
    """40 data-analyst postings in Ohio: all ask for SQL, a quarter for teamwork too."""
    rows = [
        {
            "id": str(n),
            "title": "Data Analyst",
            "employer": f"Employer {n % 7}",
            "text": " ".join(random.Random(n).choices(FILLER, k=40))
            + ". We need strong SQL for reporting."
            + (" You work in teams with product owners." if n % 4 == 0 else ""),
            "location": "Columbus, Ohio",
            "posted": "2026-09-01",
            "salary": "",
        }
        for n in range(40)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def analytics(tmp_path: Path, occupation: str) -> Analytics:
    store = MarketStore(tmp_path / "market")
    resources = Resources(
        extractor=SkillExtractor.build(
            [
                SkillConcept(SQL, "SQL"),
                SkillConcept(PYTHON, "Python"),
                SkillConcept(TEAMWORK, "work in teams"),
            ]
        ),
        classifier=OccupationClassifier.build([OccupationLabel(ANALYST, "Data Analyst")]),
    )
    ingest_file(_postings(tmp_path / "postings.jsonl"), store, resources)
    return Analytics(store)


def _publish(session: Session, org: str, **overrides: object) -> str:
    return catalogue.create_definition(
        session, None, org, definition_input(**overrides), publish=True
    ).definition_id


def test_the_plan_weighs_needs_by_regional_postings_and_counts_verified_credentials(
    sessions: sessionmaker[Session], world: World, settings: Settings, analytics: Analytics,
) -> None:  # fmt: skip
    with sessions.begin() as session:
        python_course = _publish(session, "north-college", name="Python 1", human_code="PY",
                                 skills=[PYTHON], price_amount=80)  # fmt: skip
        _publish(session, "north-college", name="SQL 1", human_code="SQL", skills=[SQL],
                 price_amount=150, workload_hours=30, duration_weeks=4)  # fmt: skip
        _publish(session, "south-academy", name="Teamwork", human_code="TW", skills=[TEAMWORK],
                 price_amount=0, workload_hours=6, duration_weeks=1)  # fmt: skip
        credentials.issue_credential(
            session, None, definition_id=python_course, recipient_user_id=world.learner.id,
            settings=settings,
        )  # fmt: skip
    with sessions() as session:
        result = plans.learning_plan(
            session, world.learner.id, plans.PlanRequest(ANALYST, region="Ohio"), analytics
        )
    plan = result.plan
    assert result.demand_basis == "40 job postings for this job in Ohio"
    needs = {n.uri: n for n in [*plan.held, *(s for st in plan.steps for s in st.covers)]}
    assert needs[SQL].weight == pytest.approx(3.0)  # essential + every posting names it
    assert needs[TEAMWORK].weight == pytest.approx(0.3 + 2 * 0.25)
    assert "named in 25% of postings" in needs[TEAMWORK].reasons
    assert [n.uri for n in plan.held] == [PYTHON]
    assert result.evidence[PYTHON] == ["Python 1"]
    assert [s.offer.name for s in plan.steps] == ["Teamwork", "SQL 1"]  # EQF ties: shorter first
    assert plan.total_price == {"EUR": 150.0} and plan.open == []
    assert plan.coverage_before == pytest.approx(1.0 / 4.8)
    assert plan.coverage_after == pytest.approx(1.0)


def test_a_revoked_or_expired_credential_proves_nothing(
    sessions: sessionmaker[Session], world: World, settings: Settings, occupation: str,
) -> None:  # fmt: skip
    now = datetime.now(UTC)
    with sessions.begin() as session:
        sql_course = _publish(session, "north-college", name="SQL 1", skills=[SQL])
        revoked = credentials.issue_credential(
            session, None, definition_id=sql_course, recipient_user_id=world.learner.id,
            settings=settings,
        )  # fmt: skip
        credentials.revoke_credential(session, None, revoked.id, reason="x", settings=settings)
        credentials.issue_credential(
            session, None, definition_id=sql_course, recipient_user_id=world.learner.id,
            settings=settings, valid_from=now - timedelta(days=30),
            valid_until=now - timedelta(days=1),
        )  # fmt: skip
    with sessions() as session:
        held, completed = plans.verified_skills(session, world.learner.id)
        result = plans.learning_plan(session, world.learner.id, plans.PlanRequest(ANALYST), None)
    assert held == {} and completed == set()
    assert result.plan.held == []
    assert result.demand_basis.startswith("No job postings are loaded")
    assert [s.offer.name for s in result.plan.steps] == ["SQL 1"]  # taken again: it lapsed


def test_limits_are_checked_and_an_unknown_occupation_is_named(
    sessions: sessionmaker[Session], occupation: str
) -> None:
    bad = [
        (plans.PlanRequest(ANALYST, budget=100.0), "currency"),
        (plans.PlanRequest(ANALYST, hours_per_week=0), "Hours a week"),
        (plans.PlanRequest(ANALYST, max_weeks=-1), "deadline"),
        (plans.PlanRequest(ANALYST, forms=("by post",)), "Unknown format 'by post'"),
    ]
    with sessions() as session:
        for request, message in bad:
            with pytest.raises(plans.PlanError, match=message):
                plans.learning_plan(session, None, request, None)
        with pytest.raises(Exception, match="No occupation with URI"):
            plans.learning_plan(session, None, plans.PlanRequest("urn:nope"), None)


def test_a_step_says_which_pathways_it_counts_towards(
    sessions: sessionmaker[Session], world: World, occupation: str
) -> None:
    from microcred.pathways import service as pathways
    from microcred.pathways.service import PathwayInput

    with sessions.begin() as session:
        sql = _publish(session, "north-college", name="SQL 1", human_code="SQL", skills=[SQL])
        qualification = _publish(
            session, "north-college", name="Analyst Certificate", human_code="CERT",
            skills=[SQL], achievement_type="Certificate", workload_hours=0,
        )  # fmt: skip
        pathways.create_pathway(
            session, None, "north-college",
            PathwayInput(
                name="Analyst pathway", kind="certificate",
                requirements={"type": "credential", "definition_id": sql},
                qualification_definition_id=qualification,
            ),
            publish=True,
        )  # fmt: skip
    with sessions() as session:
        result = plans.learning_plan(session, None, plans.PlanRequest(ANALYST), None)
    steps = [s.offer.definition_id for s in result.plan.steps]
    assert steps == [sql], "the certificate is earned through its pathway, not taken"
    assert result.pathways == {sql: ["Analyst pathway"]}


def _programming_occupation(session: Session) -> tuple[str, str]:
    """'Software developer' needing 'computer programming', with Python one level below it;
    (occupation URI, the broader skill's URI)."""
    from microcred.skills.models import SkillRelation

    version = session.scalars(select(TaxonomyVersion)).one()
    programming = Skill(
        uri="urn:test:skill:programming", preferred_label="computer programming", source="esco",
        skill_type="skill", taxonomy_version_id=version.id,
    )  # fmt: skip
    developer = Occupation(
        uri="urn:test:occupation:developer", preferred_label="software developer",
        source="esco", taxonomy_version_id=version.id,
    )  # fmt: skip
    session.add_all([programming, developer])
    session.flush()
    python = session.scalars(select(Skill).where(Skill.uri == PYTHON)).one()
    session.add_all(
        [
            SkillRelation(
                broader_id=programming.id,
                narrower_id=python.id,
                relation_type="broader",
                source="esco",
            ),
            OccupationSkill(
                occupation_id=developer.id,
                skill_id=programming.id,
                relation_type="essential",
                source="esco",
            ),
        ]
    )
    return developer.uri, programming.uri


def test_a_narrower_skill_proves_and_teaches_the_broader_need_and_says_so(
    sessions: sessionmaker[Session], world: World, settings: Settings, skills: dict[str, str],
) -> None:  # fmt: skip
    with sessions.begin() as session:
        developer, programming = _programming_occupation(session)
        python_course = _publish(session, "north-college", name="Python 1", human_code="PY",
                                 skills=[PYTHON], price_amount=80)  # fmt: skip
    with sessions() as session:  # nothing held: the Python course teaches the broader need
        before = plans.learning_plan(session, world.learner.id, plans.PlanRequest(developer), None)
    [step] = before.plan.steps
    assert step.offer.name == "Python 1" and [n.uri for n in step.covers] == [programming]
    assert before.through == {python_course: {programming: skills[PYTHON]}}
    with sessions.begin() as session:
        credentials.issue_credential(
            session, None, definition_id=python_course, recipient_user_id=world.learner.id,
            settings=settings,
        )  # fmt: skip
    with sessions() as session:  # a Python credential proves it
        after = plans.learning_plan(session, world.learner.id, plans.PlanRequest(developer), None)
    assert [n.uri for n in after.plan.held] == [programming] and after.plan.steps == []
    assert after.evidence[programming] == [f"Python 1 (through {skills[PYTHON]})"]
