"""Demo activity on top of the catalogue: issued credentials, an assessment, a pathway, credit
recommendations and an articulation agreement, a ledger.

Kept apart from the catalogue seeding so each part reads on its own; everything still goes
through the capabilities' services inside the demo builder's single transaction.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from microcred.accounts import service as accounts
from microcred.accounts.models import Membership, Role, User
from microcred.assessment import service as assessment
from microcred.assessment.awards import record_result
from microcred.assessment.models import ResultSource
from microcred.assessment.surveys import submit_survey
from microcred.catalogue import service as catalogue
from microcred.catalogue.models import CredentialDefinition, DefinitionStatus
from microcred.credentials import service as credentials
from microcred.db.base import utcnow
from microcred.demo.outcomes import seed_employment_reports, seed_engagement
from microcred.endorsements import service as endorsements
from microcred.ledger import service as ledger
from microcred.ledger.notes import COSIGNATURE_V1, NoteSigner, cosign_note, parse_note
from microcred.pathways import service as pathways
from microcred.settings import Settings
from microcred.wallet import profiles

PATHWAY_COURSES = (
    "Data Analysis with Spreadsheets",
    "Foundations of Data Analytics",
    "SQL for Data Analysis",
    "Python for Data Analysis",
    "Data Visualisation and Storytelling",
)
LEARNER_EARNED = ("Data Analysis with Spreadsheets", "SQL for Data Analysis")
QUIZ_QUESTIONS: tuple[dict[str, Any], ...] = (
    {"kind": "single", "prompt": "Which measure of central tendency resists outliers best?",
     "options": ["mean", "median", "mode"], "correct": [1]},
    {"kind": "multiple", "prompt": "Which charts suit a comparison of categories?",
     "options": ["bar chart", "grouped bar chart", "pie chart of 30 slices", "dot plot"],
     "correct": [0, 1, 3]},
    {"kind": "numeric", "prompt": "A metric rose from 80 to 100. By what percentage?",
     "answer": 25, "tolerance": 0.5},
    {"kind": "text", "prompt": "Name the SQL clause that filters groups after aggregation.",
     "accepted": ["having"]},
    {"kind": "single", "prompt": "A p-value of 0.03 at a 5% significance level means…",
     "options": ["reject the null hypothesis", "accept the alternative with certainty",
                 "the effect is large"], "correct": [0]},
)  # fmt: skip
PROJECT_RUBRIC = """\
Question and method | min 2
- Excellent | 4 | The question is sharp and the method fits it, with limits stated
- Good | 3 | A clear question answered with a suitable method
- Weak | 1 | The method does not answer the question
Communication
- Clear | 2 | Charts and text tell the finding at a glance
- Unclear | 0 | The reader has to work out the finding
"""
REVOKED_REASON = "Issued in error: the learner had not completed the final project."


NORTHBRIDGE_BODY = "Ohio Consortium for Credit Evaluation (demo)"
HANSE_BODY = "Hanse Credit Review Panel (demo)"
CREDIT_RECOMMENDATIONS = (
    # (issuer, course, recommending body, credits, unit, level, discipline)
    ("northbridge-college", "Data Analysis with Spreadsheets", NORTHBRIDGE_BODY, 3,
     "credit_hours", "lower-division undergraduate", "Business analytics"),
    ("northbridge-college", "Foundations of Data Analytics", NORTHBRIDGE_BODY, 3,
     "credit_hours", "lower-division undergraduate", "Business analytics"),
    ("northbridge-college", "SQL for Data Analysis", NORTHBRIDGE_BODY, 3, "credit_hours",
     "lower-division undergraduate", "Information systems"),
    ("northbridge-college", "Python for Data Analysis", NORTHBRIDGE_BODY, 4, "credit_hours",
     "lower-division undergraduate", "Computer science"),
    ("northbridge-college", "Data Visualisation and Storytelling", NORTHBRIDGE_BODY, 2,
     "credit_hours", "lower-division undergraduate", "Business analytics"),
    ("hanse-uas", "Statistics for Decision Making", HANSE_BODY, 3, "ects",
     "Bachelor (first cycle)", "Statistics"),
)  # fmt: skip
TRANSFER_PROGRAMME = "BS in Business Analytics"
TRANSFER_RULES = (
    # (kind, what: a Northbridge course, an issuer slug or a skill label, course code, course
    # name, credits, credit profile: at least ECTS, at least EQF level, earned within years)
    ("definition", "Data Analysis with Spreadsheets", "BAN 101", "Spreadsheet Analytics", 3,
     (None, None, None)),
    ("definition", "SQL for Data Analysis", "BAN 210", "Databases for Analytics", 3,
     (None, None, 5)),
    ("definition", "Python for Data Analysis", "CSC 151", "Programming for Data Science", 4,
     (None, None, 5)),
    ("skill", "Python (computer programming)", "CSC 151", "Programming for Data Science", 4,
     (None, 5, 5)),
    ("skill", "statistics", "STA 205", "Business Statistics", 3, (2, 5, 5)),
    ("issuer", "northbridge-college", "BAN 190", "Analytics Elective", 2, (None, None, None)),
)  # fmt: skip
TRANSFER_HOLDINGS = (
    # What Lee Learner also earned (issuer, course, days ago): with the pathway's two courses,
    # the registrar's evaluation credits a definition, an issuer and a skill rule and refuses one
    # credential for its level.
    ("northbridge-college", "Business Intelligence Reporting", 200),
    ("hanse-uas", "Statistics for Decision Making", 300),
    ("skillpath-online", "Python Programming Essentials", 400),
)


@dataclass
class ActivityCounts:
    credentials: int
    revoked: int
    pathways: int
    assessments: int
    recommendations: int = 0
    agreements: int = 0
    rules: int = 0


def build_activity(session: Session, settings: Settings, rng: random.Random) -> ActivityCounts:
    northbridge = _definitions_of(session, "northbridge-college")
    by_name = {d.name: d for d in northbridge}
    assessments = _assessments(session, by_name["Foundations of Data Analytics"].definition_id)
    _endorsement(session, settings, by_name["Foundations of Data Analytics"])
    pathways_made = _pathway(session, by_name)
    issued, revoked = _credentials(session, settings, rng, by_name)
    recommendations, agreements = _transfer_credit(session, settings, by_name)
    _public_profile(session)
    issued += _assessed_cohort(session, settings, rng, by_name["Foundations of Data Analytics"])
    _cosigned_checkpoint(session, settings, rng)
    seed_employment_reports(session, rng)
    seed_engagement(session, rng)
    return ActivityCounts(
        issued + len(TRANSFER_HOLDINGS), revoked, pathways_made, assessments, recommendations,
        agreements, len(TRANSFER_RULES),
    )  # fmt: skip


def _endorsement(session: Session, settings: Settings, definition: CredentialDefinition) -> None:
    """The digital marketing association endorses the college's data analytics credential and the
    college accepts, so the credentials issued after carry it (public pages show it)."""
    made = endorsements.endorse(
        session, None, settings, "eu-digital-marketing-assoc",
        definition_id=definition.definition_id,
        comment=(
            "Aligned with the **EDMA Analytics Practitioner** framework: graduates meet our "
            "entry requirements for the practitioner grade."
        ),
    )  # fmt: skip
    endorsements.decide(session, None, made.id, accept=True)


DEMO_WITNESS = "witness.demo.microcred.org"
COHORT_SIZE = 30


def _assessed_cohort(
    session: Session, settings: Settings, rng: random.Random, definition: CredentialDefinition
) -> int:
    """Learners working through the assessed programme over the past year: each takes the quiz;
    those who pass and go on hand in the project weeks later; those who pass it hold the
    credential from that day and answer the satisfaction survey. Some fail, drop out or are
    still at it, so the programme's outcome KPIs (completion, time, satisfaction) have data."""
    quiz, project = (
        next(a for a in assessment.assessments_for_definition(session, definition.definition_id)
             if a.kind.value == kind)
        for kind in ("quiz", "project")
    )  # fmt: skip
    learners = list(
        session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.role == Role.learner, User.email.like("%@learners.example.org"))
            .order_by(User.email.desc())
            .limit(COHORT_SIZE)
        )
    )
    now, completed = utcnow(), 0
    for number, learner in enumerate(learners):
        started = now - timedelta(days=rng.randint(30, 340))
        quiz_score = float(rng.choice((55, 65, 75, 80, 85, 90, 100)))
        record_result(
            session, quiz, learner.id, source=ResultSource.gradebook, score=quiz_score,
            max_score=100.0, passed=quiz_score >= 70, achieved_at=started,
        )  # fmt: skip
        handed_in = started + timedelta(days=rng.randint(21, 80))
        if quiz_score < 70 or rng.random() < 0.15 or handed_in > now:
            continue  # failed the quiz, dropped out, or still working on the project
        project_score = float(rng.choice((3, 4, 4, 5, 5)))
        record_result(
            session, project, learner.id, source=ResultSource.gradebook, score=project_score,
            max_score=5.0, passed=project_score >= 4, achieved_at=handed_in,
        )  # fmt: skip
        if project_score < 4:
            continue
        credentials.issue_credential(
            session, None, definition_id=definition.definition_id, recipient_user_id=learner.id,
            results=[{"level": "Merit" if project_score == 5 else "Pass"}], valid_from=handed_in,
            idempotency_key=f"demo-assessed-{number}", settings=settings,
        )  # fmt: skip
        submit_survey(
            session, accounts.principal_for(session, learner), definition.definition_id,
            rating=rng.choice((3, 4, 4, 5, 5)), would_recommend=rng.random() < 0.8,
        )  # fmt: skip
        completed += 1
    return completed


DEMO_PROFILE = "lee-learner"


def _public_profile(session: Session) -> None:
    """Lee Learner publishes a profile of every credential earned here, name shown."""
    named = session.scalar(select(User).where(User.email == "learner@demo.microcred.org"))
    assert named is not None
    earned = credentials.credentials_of_learner(session, named.id)
    profiles.save_profile(
        session, accounts.principal_for(session, named), handle=DEMO_PROFILE,
        headline="Career changer into data analytics", published=True,
        credential_ids=[c.id for c in reversed(earned)],
    )  # fmt: skip
    profiles.set_public_name(session, named.id, True)


def _cosigned_checkpoint(session: Session, settings: Settings, rng: random.Random) -> None:
    """A checkpoint of everything issued, cosigned by a registered demo witness (as an
    independent `microcred witness` would; its key is not kept: it witnesses the build only)."""
    checkpoint = ledger.create_checkpoint(session, settings)
    witness = NoteSigner.from_seed(DEMO_WITNESS, rng.randbytes(32), COSIGNATURE_V1)
    ledger.register_witness(session, witness.verifier.encode())
    note = parse_note(checkpoint.signed_note)
    signature = cosign_note(note.text, witness, int(utcnow().timestamp()))
    ledger.add_cosignatures(session, note.with_signature(signature).encode())


def _transfer_credit(
    session: Session, settings: Settings, by_name: dict[str, CredentialDefinition]
) -> tuple[int, int]:
    """Credit recommendations by two issuers, Lee Learner's credentials from three, and a
    university's agreement crediting them in its degree (the demo registrar evaluates Lee)."""
    start = utcnow().date().replace(month=1, day=1)
    catalogues = {"northbridge-college": by_name} | {
        slug: {d.name: d for d in _definitions_of(session, slug)}
        for slug in ("hanse-uas", "skillpath-online")
    }
    for slug, name, body, credits, unit, level, discipline in CREDIT_RECOMMENDATIONS:
        definition = catalogues[slug][name]
        pathways.add_credit_recommendation(
            session, None, slug,
            pathways.RecommendationInput(
                definition_id=definition.definition_id, recommending_body=body,
                credits=credits, unit=unit, level=level, discipline=discipline,
                valid_from=start, valid_until=date(start.year + 3, 12, 31),
                eqf_level=definition.eqf_level,
            ),
        )  # fmt: skip
    named = session.scalar(select(User).where(User.email == "learner@demo.microcred.org"))
    assert named is not None
    held = [catalogues[slug][name] for slug, name, _ in TRANSFER_HOLDINGS]
    for definition, (_, _, days) in zip(held, TRANSFER_HOLDINGS, strict=True):
        credentials.issue_credential(
            session, None, definition_id=definition.definition_id, recipient_user_id=named.id,
            results=[{"level": "Pass"}], valid_from=utcnow() - timedelta(days=days),
            idempotency_key=f"demo-transfer-{definition.human_code}", settings=settings,
        )  # fmt: skip
    skills = {s.label: s.skill_uri for d in held for s in d.skills}
    agreement = pathways.create_agreement(
        session, None, "metro-university", programme=TRANSFER_PROGRAMME,
        name="Data analytics micro-credentials",
        description="Northbridge Community College's data analytics micro-credentials, and "
                    "statistics or programming micro-credentials of any issuer at EQF level 5 "
                    "or above, count towards the BS in Business Analytics, up to 12 credits.",
        max_credits=12,
    )  # fmt: skip
    for kind, what, code, course, credits, (min_ects, min_eqf, within) in TRANSFER_RULES:
        if kind == "definition":
            what = by_name[what].definition_id
        elif kind == "skill":
            what = skills[what]
        pathways.add_rule(
            session,
            None,
            agreement.id,
            pathways.RuleInput(kind, what, code, course, credits, min_ects, min_eqf, within),
        )
    return len(CREDIT_RECOMMENDATIONS), 1


def _definitions_of(session: Session, slug: str) -> list[CredentialDefinition]:
    issuer = catalogue.get_issuer(session, slug)
    return list(
        session.scalars(
            select(CredentialDefinition)
            .where(
                CredentialDefinition.issuer_id == issuer.organisation.id,
                CredentialDefinition.status == DefinitionStatus.published,
            )
            .order_by(CredentialDefinition.human_code)
        )
    )


def _assessments(session: Session, definition_id: str) -> int:
    quiz = assessment.create_assessment(
        session, None, definition_id,
        {"title": "Data analytics quiz", "code": "FDA-QUIZ", "kind": "quiz", "min_total": 70,
         "attempts_allowed": 2, "time_limit_minutes": 20, "questions_per_attempt": 4},
    )  # fmt: skip
    for question in QUIZ_QUESTIONS:
        assessment.add_question(session, None, quiz.id, question)
    assessment.create_assessment(
        session, None, definition_id,
        {"title": "Analysis project", "code": "FDA-PROJECT", "kind": "project", "min_total": 4,
         "rubric_text": PROJECT_RUBRIC, "attempts_allowed": 2},
    )  # fmt: skip
    return 2


def _pathway(session: Session, by_name: dict[str, CredentialDefinition]) -> int:
    courses = [by_name[name] for name in PATHWAY_COURSES]
    hours = sum(course.workload_hours for course in courses[:4])
    qualification = catalogue.create_definition(
        session, None, "northbridge-college",
        {"name": "Data Analytics Certificate",
         "description": "A stacked certificate for entry-level data analysts: spreadsheets, "
                        "analytics foundations, a query or programming language, and "
                        "visualisation, each earned as a micro-credential.",
         "criteria_narrative": "Earn the micro-credentials of the Data Analytics pathway.",
         "learning_outcomes": ["Analyse business data end to end",
                               "Communicate findings to decision makers"],
         "workload_hours": hours, "eqf_level": 5, "achievement_type": "Certificate",
         "human_code": "NCC-CERT-DA", "participation_form": "blended",
         "location": "Columbus campus", "price_amount": 0, "price_currency": "USD",
         "stackable": True, "skills": [s.skill_uri for c in courses for s in c.skills][:6]},
        publish=True, audit=False,
    )  # fmt: skip
    requirements = {
        "type": "all_of",
        "children": [
            {"type": "credential", "definition_id": courses[0].definition_id},
            {"type": "credential", "definition_id": courses[1].definition_id},
            {"type": "n_of", "n": 1, "children": [
                {"type": "credential", "definition_id": courses[2].definition_id},
                {"type": "credential", "definition_id": courses[3].definition_id}]},
            {"type": "credential", "definition_id": courses[4].definition_id,
             "within_years": 5},
        ],
    }  # fmt: skip
    pathways.create_pathway(
        session, None, "northbridge-college",
        pathways.PathwayInput(
            name="Data Analytics Certificate",
            kind="certificate",
            requirements=requirements,
            description="Four micro-credentials stack into Northbridge's Data Analytics "
                        "Certificate, which also counts towards the AAS in Business Analytics.",
            qualification_definition_id=qualification.definition_id,
            revocation_policy="review",
        ),
        publish=True,
    )  # fmt: skip
    return 1


def _credentials(
    session: Session,
    settings: Settings,
    rng: random.Random,
    northbridge: dict[str, CredentialDefinition],
) -> tuple[int, int]:
    """The named learner's progress on the pathway, and credentials for other learners."""
    named = session.scalar(select(User).where(User.email == "learner@demo.microcred.org"))
    assert named is not None
    now = utcnow()
    count = 0
    for offset, name in enumerate(LEARNER_EARNED):
        credentials.issue_credential(
            session, None, definition_id=northbridge[name].definition_id,
            recipient_user_id=named.id, results=[{"level": ("Merit", "Pass")[offset % 2]}],
            valid_from=now - timedelta(days=120 - 60 * offset),
            idempotency_key=f"demo-named-{offset}", settings=settings,
        )  # fmt: skip
        count += 1
    learners = list(
        session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.role == Role.learner, User.id != named.id)
            .order_by(User.email)
        )
    )
    published = list(
        session.scalars(
            select(CredentialDefinition)
            .where(CredentialDefinition.status == DefinitionStatus.published)
            .order_by(CredentialDefinition.human_code)
        )
    )
    first_issued = None
    for learner in learners[:80]:
        for definition in rng.sample(published, rng.randint(1, 3)):
            issued = credentials.issue_credential(
                session, None, definition_id=definition.definition_id,
                recipient_user_id=learner.id,
                results=[{"level": rng.choice(("Pass", "Pass", "Merit", "Distinction"))}],
                valid_from=now - timedelta(days=rng.randint(5, 700)),
                idempotency_key=f"demo-{learner.id}-{definition.definition_id}",
                settings=settings,
            )  # fmt: skip
            first_issued = first_issued or issued
            count += 1
    revoked = 0
    if first_issued is not None:
        credentials.revoke_credential(
            session, None, first_issued.id, reason=REVOKED_REASON, settings=settings
        )
        revoked = 1
    return count, revoked
