"""Catalogue service: create, edit, versioning, publish/retire, isolation, search, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts import service as accounts
from microcred.accounts.models import AuditEvent, User
from microcred.accounts.service import Principal
from microcred.catalogue import service
from microcred.catalogue.errors import CatalogueError, DuplicateCode, InvalidFields
from microcred.catalogue.models import DefinitionStatus
from microcred.errors import NotFound, PermissionDenied
from tests.catalogue.factories import PYTHON, SQL, TEAMWORK, UNKNOWN, definition_input
from tests.conftest import World


def principal(session: Session, user: User, scopes: list[str] | None = None) -> Principal:
    return accounts.principal_for(session, session.get(User, user.id) or user, scopes=scopes)


@pytest.mark.both_databases
def test_staff_create_a_draft_visible_only_to_their_organisation(
    db_backend: str, session: Session, world: World, skills: dict[str, str]
) -> None:
    staff = principal(session, world.staff)
    definition = service.create_definition(session, staff, "north-college", definition_input())
    assert definition.status is DefinitionStatus.draft
    assert [s.label for s in definition.skills] == [skills[PYTHON], skills[SQL]]
    assert service.get_definition(session, definition.definition_id, principal=staff) is definition
    other = principal(session, world.other_staff)
    for viewer in (None, other, principal(session, world.learner)):
        with pytest.raises(NotFound):
            service.get_definition(session, definition.definition_id, principal=viewer)


def test_staff_of_another_organisation_cannot_create_or_change(
    session: Session, world: World, skills: dict[str, str]
) -> None:
    other = principal(session, world.other_staff)
    with pytest.raises(PermissionDenied):
        service.create_definition(session, other, "north-college", definition_input())
    draft = service.create_definition(
        session, principal(session, world.staff), "north-college", definition_input()
    )
    with pytest.raises(NotFound):
        service.update_definition(session, other, draft.definition_id, {"name": "Hijacked"})
    service.publish_definition(session, None, draft.definition_id)
    with pytest.raises(PermissionDenied):
        service.update_definition(session, other, draft.definition_id, {"name": "Hijacked"})
    with pytest.raises(PermissionDenied):
        service.retire_definition(session, other, draft.definition_id)
    assert service.get_definition(session, draft.definition_id).name == "Data analysis with Python"


def test_tokens_need_the_catalogue_scopes(
    session: Session, world: World, skills: dict[str, str]
) -> None:
    read_only = principal(session, world.staff, scopes=["catalogue:read"])
    with pytest.raises(PermissionDenied):
        service.create_definition(session, read_only, "north-college", definition_input())
    draft = service.create_definition(session, None, "north-college", definition_input())
    assert service.get_definition(session, draft.definition_id, principal=read_only) is draft
    unrelated = principal(session, world.staff, scopes=["credentials:read"])
    with pytest.raises(NotFound):
        service.get_definition(session, draft.definition_id, principal=unrelated)


@pytest.mark.both_databases
def test_editing_a_published_version_creates_a_new_draft_and_keeps_the_old(
    db_backend: str, session: Session, world: World, skills: dict[str, str]
) -> None:
    staff = principal(session, world.staff)
    first = service.create_definition(
        session, staff, "north-college", definition_input(), publish=True
    )
    lineage = first.definition_id
    second = service.update_definition(session, staff, lineage, {"name": "Data analysis II"})
    assert (second.version, second.status) == (2, DefinitionStatus.draft)
    assert first.status is DefinitionStatus.published
    assert service.get_definition(session, lineage).version == 1  # public sees the published
    again = service.update_definition(session, staff, lineage, {"eqf_level": 6})
    assert again is second and again.eqf_level == 6 and again.name == "Data analysis II"
    service.publish_definition(session, staff, lineage)
    assert first.status is DefinitionStatus.superseded
    assert service.get_definition(session, lineage).version == 2
    old = service.get_definition(session, lineage, version=1)
    assert old.name == "Data analysis with Python"
    assert [v.version for v in service.list_versions(session, lineage)] == [2, 1]
    assert service.get_published(session, lineage).version == 2


def test_publish_and_retire_are_refused_in_the_wrong_state(
    session: Session, world: World, skills: dict[str, str]
) -> None:
    draft = service.create_definition(session, None, "north-college", definition_input())
    with pytest.raises(CatalogueError) as caught:
        service.retire_definition(session, None, draft.definition_id)
    assert caught.value.status_code == 409
    service.publish_definition(session, None, draft.definition_id)
    with pytest.raises(CatalogueError):
        service.publish_definition(session, None, draft.definition_id)
    retired = service.retire_definition(session, None, draft.definition_id)
    assert retired.status is DefinitionStatus.retired
    assert service.search_definitions(session, service.SearchFilters()).total == 0
    assert service.get_definition(session, draft.definition_id).status is DefinitionStatus.retired


def test_unknown_skill_uris_are_refused_by_position(
    session: Session, world: World, skills: dict[str, str]
) -> None:
    with pytest.raises(InvalidFields) as caught:
        service.create_definition(
            session, None, "north-college", definition_input(skills=[PYTHON, SQL, UNKNOWN])
        )
    assert caught.value.field == "skills[2]"
    assert UNKNOWN in caught.value.message


def test_human_codes_are_unique_per_issuer_across_lineages(
    session: Session, world: World, skills: dict[str, str]
) -> None:
    first = service.create_definition(session, None, "north-college", definition_input())
    with pytest.raises(DuplicateCode) as caught:
        service.create_definition(session, None, "north-college", definition_input())
    assert caught.value.field == "human_code" and caught.value.status_code == 409
    service.create_definition(session, None, "south-academy", definition_input())  # other issuer
    service.publish_definition(session, None, first.definition_id)
    edited = service.update_definition(session, None, first.definition_id, {"eqf_level": 4})
    assert edited.human_code == "DATA-101"  # its own code is no clash


def test_prerequisites_must_be_existing_definitions(
    session: Session, world: World, skills: dict[str, str]
) -> None:
    with pytest.raises(InvalidFields) as caught:
        service.create_definition(
            session, None, "north-college",
            definition_input(prerequisite_definition_ids=["f" * 32]),
        )  # fmt: skip
    assert caught.value.field == "prerequisite_definition_ids[0]"
    base = service.create_definition(session, None, "north-college", definition_input())
    advanced = service.create_definition(
        session, None, "north-college",
        definition_input(human_code="DATA-201", prerequisite_definition_ids=[base.definition_id]),
    )  # fmt: skip
    assert advanced.prerequisite_definition_ids == [base.definition_id]


def test_writes_are_audited(session: Session, world: World, skills: dict[str, str]) -> None:
    staff = principal(session, world.staff)
    definition = service.create_definition(session, staff, "north-college", definition_input())
    service.publish_definition(session, staff, definition.definition_id)
    service.update_definition(session, staff, definition.definition_id, {"eqf_level": 6})
    service.retire_definition(session, staff, definition.definition_id)
    session.flush()
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_id == definition.definition_id)
    ).all()
    assert sorted(actions) == [
        "catalogue.definition.create", "catalogue.definition.publish",
        "catalogue.definition.retire", "catalogue.definition.update",
    ]  # fmt: skip


@pytest.fixture
def catalogue(sessions: sessionmaker[Session], world: World, skills: dict[str, str]) -> None:
    rows = [
        ("north-college", dict(name="Python basics", eqf_level=4, price_amount=0,
                               price_currency=None, duration_weeks=4, human_code="PY-1",
                               skills=[PYTHON], in_language="en")),
        ("north-college", dict(name="SQL for analysts", eqf_level=5, price_amount=300,
                               duration_weeks=10, human_code="SQL-1", skills=[SQL],
                               participation_form="on-site", location="Leeds",
                               in_language="en-GB", workload_hours=120)),
        ("south-academy", dict(name="Teamwork on site", eqf_level=3, price_amount=80,
                               duration_weeks=2, human_code="TEAM-1", skills=[TEAMWORK],
                               participation_form="blended", location="Lyon",
                               in_language="fr", workload_hours=10,
                               achievement_type="Badge")),
    ]  # fmt: skip
    with sessions.begin() as session:
        for org, overrides in rows:
            service.create_definition(
                session, None, org, definition_input(**overrides), publish=True
            )
        service.create_definition(  # a draft never shows up in search
            session, None, "north-college", definition_input(name="Secret draft", human_code="D")
        )


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (service.SearchFilters(), ["Python basics", "SQL for analysts", "Teamwork on site"]),
        (service.SearchFilters(q="BASICS"), ["Python basics"]),
        (service.SearchFilters(q="analysts sql"), ["SQL for analysts"]),
        (service.SearchFilters(q="teams"), ["Teamwork on site"]),  # matches the skill label
        (service.SearchFilters(skill=SQL), ["SQL for analysts"]),
        (service.SearchFilters(issuer="south-academy"), ["Teamwork on site"]),
        (service.SearchFilters(eqf_level=4), ["Python basics"]),
        (service.SearchFilters(participation_form="on-site"), ["SQL for analysts"]),
        (service.SearchFilters(max_price=100), ["Python basics", "Teamwork on site"]),
        (service.SearchFilters(max_duration_weeks=4), ["Python basics", "Teamwork on site"]),
        (service.SearchFilters(min_workload_hours=100), ["SQL for analysts"]),
        (service.SearchFilters(language="en"), ["Python basics", "SQL for analysts"]),
        (service.SearchFilters(achievement_type="Badge"), ["Teamwork on site"]),
        (
            service.SearchFilters(sort="price"),
            ["Python basics", "Teamwork on site", "SQL for analysts"],
        ),
        (
            service.SearchFilters(sort="eqf"),
            ["Teamwork on site", "Python basics", "SQL for analysts"],
        ),
        (service.SearchFilters(q="secret"), []),
    ],
)
def test_search_filters_published_definitions(
    catalogue: None, session: Session, filters: service.SearchFilters, expected: list[str]
) -> None:
    result = service.search_definitions(session, filters)
    assert [d.name for d in result.items] == expected
    assert result.total == len(expected)


def test_search_paginates_and_refuses_bad_parameters(catalogue: None, session: Session) -> None:
    page = service.search_definitions(session, service.SearchFilters(), page=2, per_page=2)
    assert [d.name for d in page.items] == ["Teamwork on site"]
    assert (page.total, page.pages) == (3, 2)
    for kwargs, field in (({"page": 0}, "page"), ({"per_page": 1000}, "per_page")):
        with pytest.raises(CatalogueError) as caught:
            service.search_definitions(session, service.SearchFilters(), **kwargs)
        assert caught.value.field == field
    with pytest.raises(CatalogueError) as caught:
        service.search_definitions(session, service.SearchFilters(sort="random"))
    assert caught.value.field == "sort"


def test_home_stats_featured_and_skill_alignment(catalogue: None, session: Session) -> None:
    stats = service.catalogue_stats(session)
    assert (stats.definitions, stats.issuers, stats.skills, stats.languages) == (3, 2, 3, 3)
    assert len(service.featured_definitions(session, limit=2)) == 2
    assert [d.name for d in service.definitions_aligned_to(session, PYTHON)] == ["Python basics"]


def test_managed_list_shows_newest_versions_of_own_organisations(
    catalogue: None, session: Session, world: World
) -> None:
    staff = principal(session, world.staff)
    names = [d.name for d in service.managed_definitions(session, staff)]
    assert names == ["Python basics", "Secret draft", "SQL for analysts"]
    assert [
        d.name for d in service.managed_definitions(session, principal(session, world.learner))
    ] == []


def test_issuer_profile_update_is_validated_and_isolated(session: Session, world: World) -> None:
    staff = principal(session, world.staff)
    view = service.update_issuer_profile(
        session, staff, "north-college",
        {"url": "https://north.example", "email": "info@north.example", "description": "A college"},
    )  # fmt: skip
    assert view.profile.url == "https://north.example"
    with pytest.raises(InvalidFields) as caught:
        service.update_issuer_profile(session, staff, "north-college", {"email": "nope"})
    assert caught.value.field == "email"
    with pytest.raises(PermissionDenied):
        service.update_issuer_profile(
            session, principal(session, world.other_staff), "north-college", {"phone": "123"}
        )
    assert [i.organisation.slug for i in service.list_issuers(session)] == [
        "north-college", "south-academy",
    ]  # fmt: skip
