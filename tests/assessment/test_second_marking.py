"""Second marking: agreement within the threshold takes the lower mark; disagreement goes to a
moderator, whose mark is final with the reason recorded."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import service as accounts
from microcred.accounts.models import Role
from microcred.assessment import reviews
from microcred.assessment.awards import CredentialAwarder
from microcred.assessment.errors import AssessmentError
from microcred.assessment.models import SubmissionStatus
from microcred.assessment.reviews import EvidenceStore
from microcred.errors import PermissionDenied
from tests.assessment.conftest import Course, make_course, principal_of
from tests.conftest import PASSWORD, World


@pytest.fixture
def double_marked(sessions: sessionmaker[Session], world: World, skills: dict[str, str]) -> Course:
    with sessions.begin() as session:
        second = accounts.create_user(
            session, email="second@north.example", name="Sol Second", password=PASSWORD,
            fast_hash=True,
        )  # fmt: skip
        accounts.add_membership(
            session, second, accounts.get_organisation(session, "north-college"), Role.assessor
        )
        return make_course(session, second_marking=True)


def test_markers_who_agree_decide_with_the_lower_mark(
    session: Session, world: World, double_marked: Course, awarder: CredentialAwarder,
    store: EvidenceStore,
) -> None:  # fmt: skip
    from sqlalchemy import select

    from microcred.accounts.models import User

    learner = principal_of(session, world.learner)
    sent = reviews.submit_evidence(
        session, learner, double_marked.project_id, text="x", store=store
    )
    first = principal_of(session, world.assessor)
    reviews.score_submission(
        session, first, sent.id, levels={"analysis": "excellent", "presentation": "clear"},
        awarder=awarder,
    )  # fmt: skip
    assert sent.status is SubmissionStatus.awaiting_second
    with pytest.raises(PermissionDenied, match="already marked"):
        reviews.score_submission(
            session, first, sent.id, levels={"analysis": "good", "presentation": "clear"},
            awarder=awarder,
        )  # fmt: skip
    user = session.scalar(select(User).where(User.email == "second@north.example"))
    assert user is not None
    second = accounts.principal_for(session, user)
    reviews.score_submission(
        session, second, sent.id, levels={"analysis": "good", "presentation": "clear"},
        awarder=awarder,
    )  # fmt: skip
    assert sent.status is SubmissionStatus.decided and sent.total == 5 and sent.passed
    assert "lower mark counts" in (sent.decision_note or "")


def test_markers_who_disagree_go_to_moderation(
    session: Session, world: World, double_marked: Course, awarder: CredentialAwarder,
    store: EvidenceStore,
) -> None:  # fmt: skip
    from sqlalchemy import select

    from microcred.accounts.models import User

    learner = principal_of(session, world.learner)
    sent = reviews.submit_evidence(
        session, learner, double_marked.project_id, text="x", store=store
    )
    reviews.score_submission(
        session, principal_of(session, world.assessor), sent.id,
        levels={"analysis": "excellent", "presentation": "clear"}, awarder=awarder,
    )  # fmt: skip
    user = session.scalar(select(User).where(User.email == "second@north.example"))
    assert user is not None
    reviews.score_submission(
        session, accounts.principal_for(session, user), sent.id,
        levels={"analysis": "weak", "presentation": "unclear"}, awarder=awarder,
    )  # fmt: skip
    assert sent.status is SubmissionStatus.in_moderation
    moderator = principal_of(session, world.staff)
    levels = {"analysis": "good", "presentation": "clear"}
    with pytest.raises(AssessmentError, match="why") as refused:
        reviews.score_submission(session, moderator, sent.id, levels=levels, awarder=awarder)
    assert refused.value.field == "comment"
    reviews.score_submission(
        session, moderator, sent.id, levels=levels, comment="Method sound; report clear.",
        awarder=awarder,
    )  # fmt: skip
    assert sent.status is SubmissionStatus.decided and sent.total == 5
    assert sent.decided_by == world.staff.id and sent.decision_note == "Method sound; report clear."
    assert [m.stage.value for m in sent.marks] == ["first", "second", "moderation"]
