"""Catalogue pages and JSON API: browse, definitions, versions, issuers, staff forms, import."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from microcred.accounts.models import Organisation, Role
from microcred.accounts.service import Principal, staff_organisations
from microcred.assessment.service import published_assessments
from microcred.catalogue import service
from microcred.catalogue.badge_image import default_badge_svg
from microcred.catalogue.errors import CatalogueError, InvalidFields
from microcred.catalogue.importer import import_catalogue, rows_from_objects
from microcred.catalogue.models import CredentialDefinition
from microcred.catalogue.schemas import (
    DefinitionIn,
    DefinitionOut,
    DefinitionPageOut,
    ImportedRowOut,
    ImportOut,
    IssuerOut,
    IssuerPatch,
    RowProblemOut,
    VersionOut,
)
from microcred.catalogue.validation import FIELDS
from microcred.catalogue.vocabularies import (
    ACHIEVEMENT_TYPES,
    ASSESSMENT_TYPES,
    PARTICIPATION_FORMS,
)
from microcred.endorsements.embedding import embed_endorsements
from microcred.errors import PermissionDenied
from microcred.web.deps import CurrentPrincipal, DbSession, OptionalPrincipal
from microcred.web.rendering import render
from microcred.web.routers.endorsements import public_context
from microcred.web.security import check_csrf

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["catalogue"])

JSON_TYPES = ("application/json", "application/ld+json")
BOOLEAN_FIELDS = ("identity_checked", "stackable")
MULTI_FIELDS = ("assessment_types",)


def _base_url(request: Request) -> str:
    return str(request.app.state.context.settings.base_url)


# ---------------------------------------------------------------------------------------------
# JSON API


@api.get("/definitions", response_model=DefinitionPageOut, summary="Search published definitions")
def api_search(
    request: Request,
    session: DbSession,
    q: Annotated[
        str | None, Query(max_length=200, description="Words in name, text, skills")
    ] = None,
    skill: Annotated[str | None, Query(description="ESCO skill URI")] = None,
    issuer: Annotated[str | None, Query(description="Issuer slug")] = None,
    eqf_level: Annotated[int | None, Query(ge=1, le=8)] = None,
    participation_form: Annotated[str | None, Query(description="online, on-site, blended")] = None,
    max_price: Annotated[float | None, Query(ge=0)] = None,
    max_duration_weeks: Annotated[float | None, Query(ge=0)] = None,
    min_workload_hours: Annotated[float | None, Query(ge=0)] = None,
    max_workload_hours: Annotated[float | None, Query(ge=0)] = None,
    language: Annotated[str | None, Query(max_length=20)] = None,
    achievement_type: Annotated[str | None, Query(max_length=80)] = None,
    sort: Annotated[str, Query(description=", ".join(service.SORTS))] = "name",
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=service.MAX_PER_PAGE)] = 20,
) -> DefinitionPageOut:
    filters = service.SearchFilters(
        q=q, skill=skill, issuer=issuer, eqf_level=eqf_level,
        participation_form=participation_form, max_price=max_price,
        max_duration_weeks=max_duration_weeks, min_workload_hours=min_workload_hours,
        max_workload_hours=max_workload_hours, language=language,
        achievement_type=achievement_type, sort=sort,
    )  # fmt: skip
    result = service.search_definitions(session, filters, page, per_page)
    return DefinitionPageOut.of(result, _base_url(request))


@api.post(
    "/organisations/{slug}/definitions",
    response_model=DefinitionOut,
    status_code=201,
    summary="Create a draft definition (issuer staff, catalogue:write)",
)
def api_create(
    slug: str, body: DefinitionIn, request: Request, session: DbSession,
    principal: CurrentPrincipal,
) -> DefinitionOut:  # fmt: skip
    definition = service.create_definition(session, principal, slug, body.changes())
    return DefinitionOut.of(definition, _base_url(request))


@api.get(
    "/definitions/{definition_id}",
    response_model=DefinitionOut,
    summary="The newest version you may see (drafts only for the issuer's staff)",
)
def api_get(
    definition_id: str, request: Request, session: DbSession, principal: OptionalPrincipal
) -> DefinitionOut:
    definition = service.get_definition(session, definition_id, principal=principal)
    return DefinitionOut.of(definition, _base_url(request))


@api.patch(
    "/definitions/{definition_id}",
    response_model=DefinitionOut,
    summary="Edit; a published definition gets a new draft version",
)
def api_update(
    definition_id: str, body: DefinitionIn, request: Request, session: DbSession,
    principal: CurrentPrincipal,
) -> DefinitionOut:  # fmt: skip
    definition = service.update_definition(session, principal, definition_id, body.changes())
    return DefinitionOut.of(definition, _base_url(request))


@api.post(
    "/definitions/{definition_id}/publish", response_model=DefinitionOut,
    summary="Publish the draft version",
)  # fmt: skip
def api_publish(
    definition_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> DefinitionOut:
    definition = service.publish_definition(session, principal, definition_id)
    return DefinitionOut.of(definition, _base_url(request))


@api.post(
    "/definitions/{definition_id}/retire", response_model=DefinitionOut,
    summary="Retire the published version",
)  # fmt: skip
def api_retire(
    definition_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> DefinitionOut:
    definition = service.retire_definition(session, principal, definition_id)
    return DefinitionOut.of(definition, _base_url(request))


@api.get(
    "/definitions/{definition_id}/versions", response_model=list[VersionOut],
    summary="Every version you may see, newest first",
)  # fmt: skip
def api_versions(
    definition_id: str, request: Request, session: DbSession, principal: OptionalPrincipal
) -> list[VersionOut]:
    base = _base_url(request)
    return [
        VersionOut(
            version=v.version,
            status=v.status.value,
            name=v.name,
            published_at=v.published_at,
            url=f"{base}/definitions/{definition_id}/v/{v.version}",
        )
        for v in service.list_versions(session, definition_id, principal)
    ]


@api.get(
    "/definitions/{definition_id}/versions/{version}", response_model=DefinitionOut,
    summary="One version",
)  # fmt: skip
def api_version(
    definition_id: str, version: int, request: Request, session: DbSession,
    principal: OptionalPrincipal,
) -> DefinitionOut:  # fmt: skip
    definition = service.get_definition(session, definition_id, version, principal)
    return DefinitionOut.of(definition, _base_url(request))


@api.get(
    "/definitions/{definition_id}/achievement",
    summary="The newest visible version as an Open Badges 3.0 Achievement",
    response_model=dict[str, Any],
)
def api_achievement(
    definition_id: str, request: Request, session: DbSession, principal: OptionalPrincipal
) -> dict[str, Any]:
    definition = service.get_definition(session, definition_id, principal=principal)
    return _achievement(session, definition, _base_url(request))


@api.get(
    "/definitions/{definition_id}/versions/{version}/achievement",
    summary="One version as an Open Badges 3.0 Achievement",
    response_model=dict[str, Any],
)
def api_version_achievement(
    definition_id: str, version: int, request: Request, session: DbSession,
    principal: OptionalPrincipal,
) -> dict[str, Any]:  # fmt: skip
    definition = service.get_definition(session, definition_id, version, principal)
    return _achievement(session, definition, _base_url(request))


@api.get("/issuers", response_model=list[IssuerOut], summary="Issuers")
def api_issuers(session: DbSession) -> list[IssuerOut]:
    return [IssuerOut.of(view) for view in service.list_issuers(session)]


@api.get("/issuers/{slug}", response_model=IssuerOut, summary="One issuer")
def api_issuer(slug: str, session: DbSession) -> IssuerOut:
    return IssuerOut.of(service.get_issuer(session, slug))


@api.get(
    "/issuers/{slug}/profile", response_model=dict[str, Any],
    summary="The issuer as an Open Badges 3.0 Profile",
)  # fmt: skip
def api_issuer_profile(slug: str, request: Request, session: DbSession) -> dict[str, Any]:
    return service.profile_document(session, service.get_issuer(session, slug), _base_url(request))


@api.patch(
    "/issuers/{slug}", response_model=IssuerOut,
    summary="Edit the issuer profile (issuer staff, catalogue:write)",
)  # fmt: skip
def api_issuer_update(
    slug: str, body: IssuerPatch, session: DbSession, principal: CurrentPrincipal
) -> IssuerOut:
    changes = body.model_dump(exclude_unset=True)
    return IssuerOut.of(service.update_issuer_profile(session, principal, slug, changes))


@api.post(
    "/organisations/{slug}/definitions/import",
    response_model=ImportOut,
    summary="Import definitions from a JSON array (all-or-nothing unless partial=true)",
)
def api_import(
    slug: str,
    session: DbSession,
    principal: CurrentPrincipal,
    rows: Annotated[list[dict[str, Any]], Body(description="Definition objects")],
    partial: bool = False,
    publish: bool = False,
) -> ImportOut:
    report = import_catalogue(
        session, rows_from_objects(rows), slug, partial=partial, publish=publish,
        principal=principal,
    )  # fmt: skip
    return ImportOut(
        total_rows=report.total_rows,
        imported=[ImportedRowOut(line=r.line, id=r.definition_id, name=r.name)
                  for r in report.imported],
        skipped=[RowProblemOut(line=p.line, field=p.field, message=p.message)
                 for p in report.problems],
        summary=report.summary(),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Public pages


def _number(value: str | None, kind: type[int] | type[float], name: str) -> Any:
    if value is None or value.strip() == "":
        return None
    try:
        number = kind(value)
    except ValueError:
        raise CatalogueError(f"{name} must be a number.", field=name) from None
    if number < 0:
        raise CatalogueError(f"{name} must not be negative.", field=name)
    return number


@pages.get("/catalogue", response_class=HTMLResponse)
def browse_page(
    request: Request,
    session: DbSession,
    principal: OptionalPrincipal,
    q: str | None = None,
    skill: str | None = None,
    issuer: str | None = None,
    eqf_level: str | None = None,
    participation_form: str | None = None,
    max_price: str | None = None,
    max_duration_weeks: str | None = None,
    language: str | None = None,
    sort: str = "name",
    page: str = "1",
) -> HTMLResponse:
    filters = service.SearchFilters(
        q=q or None, skill=skill or None, issuer=issuer or None,
        eqf_level=_number(eqf_level, int, "eqf_level"),
        participation_form=participation_form or None,
        max_price=_number(max_price, float, "max_price"),
        max_duration_weeks=_number(max_duration_weeks, float, "max_duration_weeks"),
        language=language or None, sort=sort,
    )  # fmt: skip
    page_number = _number(page, int, "page") or 1
    result = service.search_definitions(session, filters, page_number, 12)
    query = {k: v for k, v in request.query_params.items() if v and k != "page"}
    skill_label = None
    if filters.skill:
        skill_label = service.skill_labels(session, [filters.skill]).get(filters.skill)
    return render(
        request, "catalogue/browse.html", principal,
        result=result, filters=filters, issuers=service.list_issuers(session),
        forms=PARTICIPATION_FORMS, sorts=service.SORTS, skill_label=skill_label,
        page_link=lambda n: "/catalogue?" + urlencode({**query, "page": n}),
    )  # fmt: skip


def _achievement(
    session: DbSession, definition: CredentialDefinition, base_url: str
) -> dict[str, Any]:
    """The version's OB 3.0 Achievement with the endorsements of it now in force."""
    document = service.achievement_document(session, definition, base_url)
    embed_endorsements(session, document)
    return document


def _definition_page(
    request: Request, session: DbSession, principal: Principal | None,
    definition: CredentialDefinition,
) -> Response:  # fmt: skip
    base = _base_url(request)
    if any(t in request.headers.get("accept", "") for t in JSON_TYPES):
        return JSONResponse(_achievement(session, definition, base))
    versions = service.list_versions(session, definition.definition_id, principal)
    current = service.current_published(session, definition.definition_id)
    prerequisites = service.definitions_by_ids(session, definition.prerequisite_definition_ids)
    return render(
        request, "catalogue/definition.html", principal,
        d=definition, versions=versions, current=current, prerequisites=prerequisites,
        assessment_labels=ASSESSMENT_TYPES, forms=PARTICIPATION_FORMS,
        can_edit=service.can_write(principal, definition.issuer_id),
        profile=service.issuer_profile_of(session, definition.issuer_id),
        assessments=published_assessments(session, definition.definition_id),
        **public_context(session, principal, definition.issuer_id, definition.definition_id),
    )  # fmt: skip


@pages.get("/definitions/{definition_id}", response_model=None)
def definition_page(
    definition_id: str, request: Request, session: DbSession, principal: OptionalPrincipal
) -> Response:
    definition = service.get_definition(session, definition_id, principal=principal)
    return _definition_page(request, session, principal, definition)


@pages.get("/definitions/{definition_id}/v/{version}", response_model=None)
def definition_version_page(
    definition_id: str, version: int, request: Request, session: DbSession,
    principal: OptionalPrincipal,
) -> Response:  # fmt: skip
    definition = service.get_definition(session, definition_id, version, principal)
    return _definition_page(request, session, principal, definition)


@pages.get("/definitions/{definition_id}/image.svg")
def definition_image(
    definition_id: str, session: DbSession, principal: OptionalPrincipal, v: int | None = None
) -> Response:
    definition = service.get_definition(session, definition_id, v, principal)
    return Response(
        default_badge_svg(definition.name, definition.issuer.name),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@pages.get("/issuers", response_class=HTMLResponse)
def issuers_page(
    request: Request, session: DbSession, principal: OptionalPrincipal
) -> HTMLResponse:
    return render(
        request, "catalogue/issuers.html", principal, issuers=service.list_issuers(session)
    )


@pages.get("/issuers/{slug}", response_model=None)
def issuer_page(
    slug: str, request: Request, session: DbSession, principal: OptionalPrincipal,
    page: int = 1,
) -> Response:  # fmt: skip
    view = service.get_issuer(session, slug)
    if any(t in request.headers.get("accept", "") for t in JSON_TYPES):
        return JSONResponse(service.profile_document(session, view, _base_url(request)))
    result = service.search_definitions(
        session, service.SearchFilters(issuer=view.organisation.id), max(page, 1), 24
    )
    return render(
        request, "catalogue/issuer.html", principal, issuer=view, result=result,
        can_edit=service.can_write(principal, view.organisation.id),
        **public_context(session, principal, view.organisation.id),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Issuer-staff pages


def _staff_organisations(session: DbSession, principal: Principal) -> list[Organisation]:
    return staff_organisations(session, principal, Role.issuer_staff)


def _require_staff(session: DbSession, principal: Principal) -> list[Organisation]:
    organisations = _staff_organisations(session, principal)
    if not organisations:
        raise PermissionDenied("Only issuer staff can manage credential definitions.")
    return organisations


@pages.get("/manage/definitions", response_class=HTMLResponse)
def manage_page(
    request: Request, session: DbSession, principal: CurrentPrincipal,
    organisation: Annotated[str | None, Query(max_length=80)] = None,
) -> HTMLResponse:  # fmt: skip
    """Staff see every definition of their organisations (``?organisation=`` narrows it); a
    platform administrator, who may act for every issuer, one organisation at a time."""
    organisations = _require_staff(session, principal)
    current = None
    if organisation or principal.is_platform_admin:
        current = next((o for o in organisations if o.slug == organisation), organisations[0])
    return render(
        request, "catalogue/manage.html", principal,
        definitions=service.managed_definitions(
            session, principal, current.id if current else None
        ),
        organisations=organisations, current=current, notice=request.query_params.get("notice"),
    )  # fmt: skip


def _form_input(form: FormData) -> dict[str, Any]:
    """Form fields as definition input: multi-selects as lists, checkboxes as booleans."""
    raw: dict[str, Any] = {}
    for name in FIELDS:
        if name in MULTI_FIELDS:
            raw[name] = [str(v) for v in form.getlist(name)]
        elif name in BOOLEAN_FIELDS:
            raw[name] = name in form
        else:
            value = form.get(name)
            raw[name] = value if isinstance(value, str) else None
    return raw


def _form_values(definition: CredentialDefinition | None) -> dict[str, Any]:
    """What the form shows for a stored definition (lists one item per line)."""
    if definition is None:
        return {"participation_form": "online", "in_language": "en",
                "achievement_type": "MicroCredential", "assessment_types": []}  # fmt: skip
    data = service.definition_data(definition)
    values = data.as_input()
    for name in ("learning_outcomes", "skills", "tags", "prerequisite_definition_ids"):
        values[name] = "\n".join(values[name])
    values["rubric_levels"] = "\n".join(
        f"{level.name}: {level.description}".rstrip(": ") for level in data.rubric_levels
    )
    return values


def _errors_by_field(exc: CatalogueError) -> dict[str, list[str]]:
    problems = (
        [(p.field, p.message) for p in exc.problems]
        if isinstance(exc, InvalidFields)
        else [(exc.field or "form", exc.message)]
    )
    errors: dict[str, list[str]] = {}
    for field, message in problems:
        base = field.split("[", 1)[0].split(".", 1)[0]
        errors.setdefault(base, []).append(f"{field}: {message}" if field != base else message)
    return errors


def _render_form(
    request: Request, principal: Principal, *, values: dict[str, Any],
    definition: CredentialDefinition | None, organisations: list[Any],
    errors: dict[str, list[str]] | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    return render(
        request, "catalogue/form.html", principal, status_code=status_code,
        values=values, definition=definition, organisations=organisations, errors=errors or {},
        assessment_types=ASSESSMENT_TYPES, forms=PARTICIPATION_FORMS,
        achievement_types=ACHIEVEMENT_TYPES,
    )  # fmt: skip


@pages.get("/manage/definitions/new", response_class=HTMLResponse)
def new_definition_page(
    request: Request, session: DbSession, principal: CurrentPrincipal
) -> HTMLResponse:
    organisations = _require_staff(session, principal)
    return _render_form(
        request, principal, values=_form_values(None), definition=None,
        organisations=organisations,
    )  # fmt: skip


@pages.post("/manage/definitions/new", response_model=None)
async def new_definition_submit(
    request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    organisations = _require_staff(session, principal)
    raw = _form_input(form)
    organisation = str(form.get("organisation") or organisations[0].id)
    try:
        with session.begin_nested():
            definition = service.create_definition(
                session, principal, organisation, raw, publish=form.get("action") == "publish"
            )
    except CatalogueError as exc:
        if exc.status_code == 403:
            raise
        return _render_form(
            request, principal, values={**raw, "organisation": organisation}, definition=None,
            organisations=organisations, errors=_errors_by_field(exc), status_code=422,
        )  # fmt: skip
    return RedirectResponse(f"/definitions/{definition.definition_id}", status_code=303)


def _editable(session: DbSession, principal: Principal, definition_id: str) -> CredentialDefinition:
    definition = service.get_definition(session, definition_id, principal=principal)
    if not service.can_write(principal, definition.issuer_id):
        raise PermissionDenied("Only issuer staff of this organisation may edit it.")
    return definition


@pages.get("/manage/definitions/{definition_id}/edit", response_class=HTMLResponse)
def edit_definition_page(
    definition_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> HTMLResponse:
    definition = _editable(session, principal, definition_id)
    return _render_form(
        request, principal, values=_form_values(definition), definition=definition,
        organisations=_staff_organisations(session, principal),
    )  # fmt: skip


@pages.post("/manage/definitions/{definition_id}/edit", response_model=None)
async def edit_definition_submit(
    definition_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    definition = _editable(session, principal, definition_id)
    raw = _form_input(form)
    try:
        with session.begin_nested():
            service.update_definition(session, principal, definition_id, raw)
            if form.get("action") == "publish":
                service.publish_definition(session, principal, definition_id)
    except CatalogueError as exc:
        if exc.status_code == 403:
            raise
        return _render_form(
            request, principal, values=raw, definition=definition,
            organisations=_staff_organisations(session, principal),
            errors=_errors_by_field(exc), status_code=422,
        )  # fmt: skip
    return RedirectResponse(f"/definitions/{definition_id}", status_code=303)


@pages.post("/manage/definitions/{definition_id}/publish")
async def publish_submit(
    definition_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> RedirectResponse:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    service.publish_definition(session, principal, definition_id)
    return RedirectResponse(f"/definitions/{definition_id}", status_code=303)


@pages.post("/manage/definitions/{definition_id}/retire")
async def retire_submit(
    definition_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> RedirectResponse:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    service.retire_definition(session, principal, definition_id)
    return RedirectResponse(f"/definitions/{definition_id}", status_code=303)


routers = [pages, api]
