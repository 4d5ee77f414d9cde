"""Catalogue operations: issuer profiles and versioned credential definitions.

Writers are issuer staff (or admins) of the issuing organisation with the ``catalogue:write``
scope; drafts are visible only to them (or to tokens with ``catalogue:read``). A ``principal`` of
``None`` is a trusted system caller (demo builder, CLI import) that names the organisation itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from microcred.accounts.models import Organisation, OrganisationKind, Role
from microcred.accounts.service import (
    ISSUING_KINDS,
    Principal,
    get_organisation,
    record_audit,
)
from microcred.catalogue.errors import (
    CatalogueError,
    DuplicateCode,
    FieldProblem,
    InvalidFields,
)
from microcred.catalogue.models import (
    CredentialDefinition,
    DefinitionSkill,
    DefinitionStatus,
    IssuerProfile,
    ParticipationForm,
)
from microcred.catalogue.validation import FIELDS, DefinitionData, RubricLevel, parse_definition
from microcred.db.base import new_id, utcnow
from microcred.errors import NotFound, PermissionDenied

WRITE_SCOPE = "catalogue:write"
READ_SCOPE = "catalogue:read"
MAX_PER_PAGE = 100
SORTS = {
    "name": "Name (A–Z)",
    "newest": "Newest first",
    "price": "Price (lowest first)",
    "duration": "Duration (shortest first)",
    "eqf": "EQF level",
}

# ---------------------------------------------------------------------------------------------
# Permissions


def can_write(principal: Principal | None, organisation_id: str) -> bool:
    return principal is not None and principal.can(
        organisation_id, Role.issuer_staff, scope=WRITE_SCOPE
    )


def can_see_drafts(principal: Principal | None, organisation_id: str) -> bool:
    if principal is None:
        return False
    return principal.can(organisation_id, Role.issuer_staff, scope=READ_SCOPE) or can_write(
        principal, organisation_id
    )


def require_writer(principal: Principal | None, organisation_id: str) -> None:
    """``None`` is a trusted system caller; anyone else needs staff role and write scope."""
    if principal is not None and not can_write(principal, organisation_id):
        raise PermissionDenied("Only issuer staff of this organisation may change its catalogue.")


# ---------------------------------------------------------------------------------------------
# Issuer profiles


@dataclass
class IssuerView:
    organisation: Organisation
    profile: IssuerProfile
    published_count: int = 0


PROFILE_FIELDS = (
    "url", "email", "phone", "description", "image_url", "street_address", "locality",
    "postal_code", "official",
)  # fmt: skip


def _profile_for(session: Session, organisation: Organisation) -> IssuerProfile:
    profile = session.get(IssuerProfile, organisation.id)
    if profile is None:
        profile = IssuerProfile(organisation_id=organisation.id)
        session.add(profile)
        session.flush()
    return profile


def get_issuer(session: Session, slug_or_id: str) -> IssuerView:
    organisation = get_organisation(session, slug_or_id)
    if organisation.kind not in ISSUING_KINDS and not _has_definitions(session, organisation.id):
        raise NotFound(f"No issuer '{slug_or_id}'.")
    profile = session.get(IssuerProfile, organisation.id) or IssuerProfile(
        organisation_id=organisation.id
    )
    return IssuerView(organisation, profile, _published_count(session, organisation.id))


def _has_definitions(session: Session, organisation_id: str) -> bool:
    return bool(
        session.scalar(select(exists().where(CredentialDefinition.issuer_id == organisation_id)))
    )


def _published_count(session: Session, organisation_id: str) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                CredentialDefinition.issuer_id == organisation_id,
                CredentialDefinition.status == DefinitionStatus.published,
            )
        )
        or 0
    )


def list_issuers(session: Session) -> list[IssuerView]:
    """Every issuer organisation with its profile and number of published definitions."""
    counts = dict(
        session.execute(
            select(CredentialDefinition.issuer_id, func.count())
            .where(CredentialDefinition.status == DefinitionStatus.published)
            .group_by(CredentialDefinition.issuer_id)
        ).all()
    )
    organisations = session.scalars(
        select(Organisation)
        .where(or_(Organisation.kind == OrganisationKind.issuer, Organisation.id.in_(list(counts))))
        .order_by(Organisation.name)
    ).all()
    profiles = {
        p.organisation_id: p
        for p in session.scalars(
            select(IssuerProfile).where(
                IssuerProfile.organisation_id.in_([o.id for o in organisations])
            )
        )
    }
    return [
        IssuerView(
            o, profiles.get(o.id) or IssuerProfile(organisation_id=o.id), counts.get(o.id, 0)
        )
        for o in organisations
    ]


def update_issuer_profile(
    session: Session, principal: Principal | None, slug_or_id: str, changes: Mapping[str, Any]
) -> IssuerView:
    """Change the OB 3.0 Profile fields given in ``changes``; ``None`` clears a field."""
    from microcred.catalogue.profiles import parse_profile_changes

    organisation = get_organisation(session, slug_or_id)
    require_writer(principal, organisation.id)
    values = parse_profile_changes(changes)
    parent = values.pop("parent_organisation", None)
    profile = _profile_for(session, organisation)
    if "parent_organisation" in changes:
        if parent is None:
            profile.parent_organisation_id = None
        else:
            try:
                parent_org = get_organisation(session, str(parent))
            except NotFound:
                raise CatalogueError(
                    f"No organisation '{parent}'.", field="parent_organisation"
                ) from None
            if parent_org.id == organisation.id:
                raise CatalogueError(
                    "An organisation cannot be its own parent.", field="parent_organisation"
                )
            profile.parent_organisation_id = parent_org.id
    for name, value in values.items():
        setattr(profile, name, value)
    session.flush()
    record_audit(
        session,
        principal,
        "catalogue.issuer.update",
        organisation_id=organisation.id,
        object_type="organisation",
        object_id=organisation.id,
        details={"fields": sorted(changes)},
    )
    return IssuerView(organisation, profile, _published_count(session, organisation.id))


def issuer_profile_of(session: Session, organisation_id: str) -> IssuerProfile | None:
    return session.get(IssuerProfile, organisation_id)


# ---------------------------------------------------------------------------------------------
# Definitions: reading


def _versions_query(definition_id: str) -> Select[CredentialDefinition]:
    return (
        select(CredentialDefinition)
        .where(CredentialDefinition.definition_id == definition_id)
        .order_by(CredentialDefinition.version.desc())
    )


def list_versions(
    session: Session, definition_id: str, principal: Principal | None = None
) -> list[CredentialDefinition]:
    """Every version the caller may see, newest first (drafts only for the issuer's staff)."""
    versions = list(session.scalars(_versions_query(definition_id)))
    if not versions:
        raise NotFound(f"No credential definition '{definition_id}'.")
    if not can_see_drafts(principal, versions[0].issuer_id):
        versions = [v for v in versions if v.status is not DefinitionStatus.draft]
    if not versions:
        raise NotFound(f"No credential definition '{definition_id}'.")
    return versions


def get_definition(
    session: Session,
    definition_id: str,
    version: int | None = None,
    principal: Principal | None = None,
) -> CredentialDefinition:
    """One version, or the newest one the caller may see; drafts are hidden as not found."""
    versions = list_versions(session, definition_id, principal)
    if version is None:
        return versions[0]
    for candidate in versions:
        if candidate.version == version:
            return candidate
    raise NotFound(f"Credential definition '{definition_id}' has no version {version}.")


def current_published(session: Session, definition_id: str) -> CredentialDefinition | None:
    return session.scalar(
        select(CredentialDefinition).where(
            CredentialDefinition.definition_id == definition_id,
            CredentialDefinition.status == DefinitionStatus.published,
        )
    )


def get_published(session: Session, definition_id: str) -> CredentialDefinition:
    """The version that credentials are issued against now (for the credentials capability)."""
    definition = current_published(session, definition_id)
    if definition is None:
        raise NotFound(f"Credential definition '{definition_id}' is not published.")
    return definition


def definition_data(definition: CredentialDefinition) -> DefinitionData:
    """A stored version back as plain data (to edit it, or copy it into a new version)."""
    values: dict[str, Any] = {}
    for name in FIELDS:
        value = getattr(definition, name)
        values[name] = list(value) if isinstance(value, list) else value
    values["rubric_levels"] = [RubricLevel(**level) for level in definition.rubric_levels]
    values["skills"] = [link.skill_uri for link in definition.skills]
    values["participation_form"] = definition.participation_form.value
    return DefinitionData(**values)


# ---------------------------------------------------------------------------------------------
# Definitions: writing


def skill_labels(session: Session, uris: Sequence[str]) -> dict[str, str]:
    """Preferred labels of the known skills among ``uris`` (unknown ones are left out)."""
    if not uris:
        return {}
    from microcred.skills.service import skills_by_uri

    return {uri: skill.preferred_label for uri, skill in skills_by_uri(session, list(uris)).items()}


def check_references(
    session: Session,
    data: DefinitionData,
    issuer_id: str,
    definition_id: str | None,
    labels: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Skills exist, prerequisites exist, the human code is free; returns the skill labels."""
    problems: list[FieldProblem] = []
    known = dict(labels) if labels is not None else skill_labels(session, data.skills)
    for index, uri in enumerate(data.skills):
        if uri not in known:
            problems.append(
                FieldProblem(f"skills[{index}]", f"'{uri}' is not a skill in the taxonomy.")
            )
    for index, prerequisite in enumerate(data.prerequisite_definition_ids):
        if prerequisite == definition_id:
            problems.append(
                FieldProblem(
                    f"prerequisite_definition_ids[{index}]",
                    "a definition cannot be its own prerequisite.",
                )
            )
        elif not _lineage_visible_to_issuer(session, prerequisite, issuer_id):
            problems.append(
                FieldProblem(
                    f"prerequisite_definition_ids[{index}]",
                    f"'{prerequisite}' is not a published credential definition.",
                )
            )
    if problems:
        raise InvalidFields(problems)
    if data.human_code is not None:
        clash = session.scalar(
            select(CredentialDefinition.definition_id)
            .where(
                CredentialDefinition.issuer_id == issuer_id,
                CredentialDefinition.human_code == data.human_code,
                CredentialDefinition.definition_id != (definition_id or ""),
            )
            .limit(1)
        )
        if clash is not None:
            raise DuplicateCode(
                f"The code '{data.human_code}' is already used by another definition of this "
                "issuer.",
                field="human_code",
            )
    return known


def _lineage_visible_to_issuer(session: Session, definition_id: str, issuer_id: str) -> bool:
    """A prerequisite may be any published definition, or any definition of the same issuer."""
    return bool(
        session.scalar(
            select(
                exists().where(
                    CredentialDefinition.definition_id == definition_id,
                    or_(
                        CredentialDefinition.status == DefinitionStatus.published,
                        CredentialDefinition.issuer_id == issuer_id,
                    ),
                )
            )
        )
    )


def _search_text(data: DefinitionData, labels: Mapping[str, str], issuer_name: str) -> str:
    parts = [
        data.name, data.description, data.human_code or "", data.field_of_study or "",
        issuer_name, *data.tags, *(labels[uri] for uri in data.skills if uri in labels),
    ]  # fmt: skip
    return " ".join(parts).lower()


def _apply(
    definition: CredentialDefinition,
    data: DefinitionData,
    labels: Mapping[str, str],
    issuer_name: str,
) -> None:
    values = asdict(data)
    values.pop("skills")
    values["rubric_levels"] = [asdict(level) for level in data.rubric_levels]
    values["participation_form"] = ParticipationForm(data.participation_form)
    for name, value in values.items():
        setattr(definition, name, value)
    definition.search_text = _search_text(data, labels, issuer_name)
    existing = {link.skill_uri: link for link in definition.skills}
    links = []
    for position, uri in enumerate(data.skills):
        link = existing.get(uri) or DefinitionSkill(skill_uri=uri)
        link.label, link.position = labels[uri], position
        links.append(link)
    definition.skills = links  # reuse rows: a delete and re-insert would clash on flush


def _as_data(data: Mapping[str, Any] | DefinitionData) -> DefinitionData:
    return data if isinstance(data, DefinitionData) else parse_definition(data)


def create_definition(
    session: Session,
    principal: Principal | None,
    issuer_org_id: str,
    data: Mapping[str, Any] | DefinitionData,
    *,
    publish: bool = False,
    skill_label_cache: Mapping[str, str] | None = None,
    audit: bool = True,
) -> CredentialDefinition:
    """A new definition (version 1, a draft unless ``publish``) for the issuer organisation."""
    organisation = get_organisation(session, issuer_org_id)
    require_writer(principal, organisation.id)
    checked = _as_data(data)
    labels = check_references(session, checked, organisation.id, None, skill_label_cache)
    definition = CredentialDefinition(
        issuer_id=organisation.id,
        version=1,
        status=DefinitionStatus.draft,
        created_by_user_id=principal.user_id if principal else None,
    )
    definition.definition_id = new_id()
    _apply(definition, checked, labels, organisation.name)
    session.add(definition)
    session.flush()
    if audit:
        _audit(session, principal, "catalogue.definition.create", definition)
    if publish:
        publish_definition(session, principal, definition.definition_id, audit=audit)
    return definition


def update_definition(
    session: Session,
    principal: Principal | None,
    definition_id: str,
    changes: Mapping[str, Any],
) -> CredentialDefinition:
    """Apply ``changes`` (a partial input). A draft changes in place; editing a published or
    retired version creates the next version as a draft, leaving the earlier one untouched."""
    newest = _newest_for_writer(session, principal, definition_id)
    merged = {**definition_data(newest).as_input(), **changes}
    checked = parse_definition(merged)
    labels = check_references(session, checked, newest.issuer_id, definition_id)
    if newest.status is DefinitionStatus.draft:
        target = newest
    else:
        target = CredentialDefinition(
            definition_id=definition_id,
            issuer_id=newest.issuer_id,
            version=newest.version + 1,
            status=DefinitionStatus.draft,
            created_by_user_id=principal.user_id if principal else None,
        )
        session.add(target)
    _apply(target, checked, labels, newest.issuer.name)
    session.flush()
    _audit(
        session,
        principal,
        "catalogue.definition.update",
        target,
        fields=sorted(changes),
        new_version=target is not newest,
    )
    return target


def _newest_for_writer(
    session: Session, principal: Principal | None, definition_id: str
) -> CredentialDefinition:
    newest = session.scalars(_versions_query(definition_id).limit(1)).first()
    if newest is None:
        raise NotFound(f"No credential definition '{definition_id}'.")
    if principal is not None and not can_write(principal, newest.issuer_id):
        list_versions(session, definition_id, principal)  # not found unless visible
    require_writer(principal, newest.issuer_id)
    return newest


def publish_definition(
    session: Session, principal: Principal | None, definition_id: str, *, audit: bool = True
) -> CredentialDefinition:
    """Publish the draft; the previously published version becomes ``superseded``."""
    newest = _newest_for_writer(session, principal, definition_id)
    if newest.status is not DefinitionStatus.draft:
        raise CatalogueError(
            f"Version {newest.version} is already {newest.status.value}; edit it to create a "
            "new draft to publish.",
            field="status",
            status_code=409,
        )
    previous = current_published(session, definition_id)
    if previous is not None:
        previous.status = DefinitionStatus.superseded
    newest.status = DefinitionStatus.published
    newest.published_at = utcnow()
    session.flush()
    if audit:
        _audit(session, principal, "catalogue.definition.publish", newest)
    return newest


def retire_definition(
    session: Session, principal: Principal | None, definition_id: str
) -> CredentialDefinition:
    """Withdraw the published version from the catalogue; it stays readable, marked retired."""
    _newest_for_writer(session, principal, definition_id)
    published = current_published(session, definition_id)
    if published is None:
        raise CatalogueError(
            "Only a published definition can be retired.", field="status", status_code=409
        )
    published.status = DefinitionStatus.retired
    published.retired_at = utcnow()
    session.flush()
    _audit(session, principal, "catalogue.definition.retire", published)
    return published


def _audit(
    session: Session,
    principal: Principal | None,
    action: str,
    definition: CredentialDefinition,
    **details: Any,
) -> None:
    record_audit(
        session,
        principal,
        action,
        organisation_id=definition.issuer_id,
        object_type="credential_definition",
        object_id=definition.definition_id,
        details={"version": definition.version, "name": definition.name, **details},
    )


# ---------------------------------------------------------------------------------------------
# Search and lists


@dataclass
class SearchFilters:
    """Catalogue filters; ``None`` means not filtered. Only published versions are searched."""

    q: str | None = None
    skill: str | None = None
    issuer: str | None = None
    eqf_level: int | None = None
    participation_form: str | None = None
    max_price: float | None = None
    max_duration_weeks: float | None = None
    min_workload_hours: float | None = None
    max_workload_hours: float | None = None
    language: str | None = None
    achievement_type: str | None = None
    sort: str = "name"


@dataclass
class SearchPage:
    items: list[CredentialDefinition]
    total: int
    page: int
    per_page: int
    filters: SearchFilters = field(default_factory=SearchFilters)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _conditions(session: Session, filters: SearchFilters) -> list[ColumnElement[bool]]:
    model = CredentialDefinition
    conditions: list[ColumnElement[bool]] = [model.status == DefinitionStatus.published]
    for token in (filters.q or "").lower().split()[:10]:
        escaped = token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(model.search_text.like(f"%{escaped}%", escape="\\"))
    if filters.skill:
        conditions.append(
            exists().where(
                DefinitionSkill.definition_row_id == model.id,
                DefinitionSkill.skill_uri == filters.skill,
            )
        )
    if filters.issuer:
        organisation = session.scalar(
            select(Organisation.id).where(
                or_(Organisation.slug == filters.issuer, Organisation.id == filters.issuer)
            )
        )
        conditions.append(model.issuer_id == (organisation or ""))
    if filters.eqf_level is not None:
        conditions.append(model.eqf_level == filters.eqf_level)
    if filters.participation_form:
        try:
            form = ParticipationForm(filters.participation_form)
        except ValueError:
            raise CatalogueError(
                f"'{filters.participation_form}' is not one of online, on-site, blended.",
                field="participation_form",
            ) from None
        conditions.append(model.participation_form == form)
    if filters.max_price is not None:
        conditions.append(model.price_amount <= filters.max_price)
    if filters.max_duration_weeks is not None:
        conditions.append(
            and_(
                model.duration_weeks.is_not(None),
                model.duration_weeks <= filters.max_duration_weeks,
            )
        )
    if filters.min_workload_hours is not None:
        conditions.append(model.workload_hours >= filters.min_workload_hours)
    if filters.max_workload_hours is not None:
        conditions.append(model.workload_hours <= filters.max_workload_hours)
    if filters.language:
        conditions.append(
            or_(
                model.in_language == filters.language,
                model.in_language.like(f"{filters.language}-%"),
            )
        )
    if filters.achievement_type:
        conditions.append(model.achievement_type == filters.achievement_type)
    return conditions


def _order(sort: str) -> list[Any]:
    model = CredentialDefinition
    orders: dict[str, list[Any]] = {
        "name": [func.lower(model.name), model.id],
        "newest": [model.published_at.desc(), model.id],
        "price": [model.price_amount, func.lower(model.name), model.id],
        "duration": [model.duration_weeks.is_(None), model.duration_weeks,
                     func.lower(model.name), model.id],
        "eqf": [model.eqf_level.is_(None), model.eqf_level, func.lower(model.name), model.id],
    }  # fmt: skip
    if sort not in orders:
        raise CatalogueError(f"sort must be one of {', '.join(orders)}.", field="sort")
    return orders[sort]


def search_definitions(
    session: Session, filters: SearchFilters, page: int = 1, per_page: int = 20
) -> SearchPage:
    """One page of published definitions matching every filter, in a stable order."""
    if page < 1:
        raise CatalogueError("page must be 1 or more.", field="page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise CatalogueError(f"per_page must be from 1 to {MAX_PER_PAGE}.", field="per_page")
    conditions = _conditions(session, filters)
    order = _order(filters.sort)
    total = int(session.scalar(select(func.count(CredentialDefinition.id)).where(*conditions)) or 0)
    items = list(
        session.scalars(
            select(CredentialDefinition)
            .where(*conditions)
            .order_by(*order)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    )
    return SearchPage(items, total, page, per_page, filters)


def managed_definitions(
    session: Session, principal: Principal, organisation_id: str | None = None
) -> list[CredentialDefinition]:
    """The newest version of every definition of the organisations the principal may edit."""
    organisations = principal.organisations_with(Role.issuer_staff)
    if principal.is_platform_admin and organisation_id is not None:
        organisations = [organisation_id]
    if organisation_id is not None:
        organisations = [o for o in organisations if o == organisation_id]
    if not organisations:
        return []
    newest = (
        select(
            CredentialDefinition.definition_id,
            func.max(CredentialDefinition.version).label("version"),
        )
        .where(CredentialDefinition.issuer_id.in_(organisations))
        .group_by(CredentialDefinition.definition_id)
        .subquery()
    )
    return list(
        session.scalars(
            select(CredentialDefinition)
            .join(
                newest,
                and_(
                    CredentialDefinition.definition_id == newest.c.definition_id,
                    CredentialDefinition.version == newest.c.version,
                ),
            )
            .order_by(func.lower(CredentialDefinition.name))
        )
    )


def definitions_aligned_to(session: Session, skill_uri: str) -> list[CredentialDefinition]:
    """Published (current) definitions aligned to a skill, by name (for the skills pages)."""
    return search_definitions(
        session, SearchFilters(skill=skill_uri), page=1, per_page=MAX_PER_PAGE
    ).items


def definitions_teaching(
    session: Session, skill_uris: Iterable[str], limit: int = 2000
) -> list[CredentialDefinition]:
    """Published (current) definitions aligned to any of the skills (for learning plans)."""
    uris = list(dict.fromkeys(skill_uris))
    if not uris:
        return []
    aligned = select(DefinitionSkill.definition_row_id).where(DefinitionSkill.skill_uri.in_(uris))
    return list(
        session.scalars(
            select(CredentialDefinition)
            .where(
                CredentialDefinition.status == DefinitionStatus.published,
                CredentialDefinition.id.in_(aligned),
            )
            .order_by(CredentialDefinition.name, CredentialDefinition.id)
            .limit(limit)
        )
    )


def featured_definitions(session: Session, limit: int = 6) -> list[CredentialDefinition]:
    """The most recently published definitions, for the home page."""
    return list(
        session.scalars(
            select(CredentialDefinition)
            .where(CredentialDefinition.status == DefinitionStatus.published)
            .order_by(CredentialDefinition.published_at.desc(), CredentialDefinition.id)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class CatalogueStats:
    definitions: int
    issuers: int
    skills: int
    languages: int


def catalogue_stats(session: Session) -> CatalogueStats:
    published = CredentialDefinition.status == DefinitionStatus.published
    row = session.execute(
        select(
            func.count(CredentialDefinition.id),
            func.count(func.distinct(CredentialDefinition.issuer_id)),
            func.count(func.distinct(CredentialDefinition.in_language)),
        ).where(published)
    ).one()
    skills = session.scalar(
        select(func.count(func.distinct(DefinitionSkill.skill_uri)))
        .join(CredentialDefinition, CredentialDefinition.id == DefinitionSkill.definition_row_id)
        .where(published)
    )
    return CatalogueStats(
        definitions=int(row[0]),
        issuers=int(row[1]),
        skills=int(skills or 0),
        languages=int(row[2]),
    )


def definitions_by_ids(
    session: Session, definition_ids: Sequence[str]
) -> dict[str, CredentialDefinition]:
    """The current published version of each listed lineage that has one."""
    if not definition_ids:
        return {}
    rows = session.scalars(
        select(CredentialDefinition).where(
            CredentialDefinition.definition_id.in_(list(definition_ids)),
            CredentialDefinition.status == DefinitionStatus.published,
        )
    )
    return {row.definition_id: row for row in rows}


# ---------------------------------------------------------------------------------------------
# Open Badges 3.0 documents


def achievement_document(
    session: Session, definition: CredentialDefinition, base_url: str
) -> dict[str, Any]:
    from microcred.catalogue.ob3 import to_ob3_achievement

    return to_ob3_achievement(
        definition,
        base_url,
        profile=issuer_profile_of(session, definition.issuer_id),
        earlier_versions=[
            v.version
            for v in session.scalars(_versions_query(definition.definition_id))
            if v.version < definition.version and v.status is not DefinitionStatus.draft
        ],
    )


def profile_document(session: Session, issuer: IssuerView, base_url: str) -> dict[str, Any]:
    from microcred.catalogue.ob3 import to_ob3_profile

    parent = None
    if issuer.profile.parent_organisation_id:
        parent = session.get(Organisation, issuer.profile.parent_organisation_id)
    return to_ob3_profile(issuer.organisation, base_url, issuer.profile, parent=parent)
