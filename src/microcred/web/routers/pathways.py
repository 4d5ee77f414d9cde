"""Pathways, wallet imports, credit and articulation: JSON API and pages."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy import select
from starlette.datastructures import FormData, UploadFile

from microcred.accounts.models import Organisation, OrganisationKind, Role
from microcred.accounts.service import Principal, get_organisation, staff_organisations
from microcred.catalogue.models import CredentialDefinition, DefinitionStatus
from microcred.credentials.service import credentials_of_learner
from microcred.errors import PermissionDenied
from microcred.i18n import N_
from microcred.pathways import service, tree_form
from microcred.pathways.errors import PathwayError
from microcred.pathways.models import Pathway, PathwayAward
from microcred.pathways.requirements import KIND_LABELS, KINDS, parse_requirement, to_dict
from microcred.pathways.schemas import (
    AgreementIn,
    AgreementOut,
    AwardOut,
    AwardRevokeIn,
    ImportedOut,
    ImportIn,
    PathwayIn,
    PathwayOut,
    ProgressOut,
    ReawardOut,
    RecommendationIn,
    RecommendationOut,
    RuleIn,
    RuleOut,
    StatusIn,
    TransferOut,
)
from microcred.pathways.service import PathwayInput, RecommendationInput, RuleInput
from microcred.settings import Settings
from microcred.wallet import service as wallet
from microcred.wallet.service import WalletError
from microcred.web.deps import CurrentPrincipal, DbSession, OptionalPrincipal, app_context
from microcred.web.form_errors import FieldErrors, errors_on_inputs, is_bad_input
from microcred.web.rendering import render
from microcred.web.security import check_csrf

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["pathways"])

POLICIES = {
    "review": N_("Flag the award for staff review"),
    "revoke": N_("Revoke the qualification"),
    "keep": N_("Keep the award"),
}
KINDS_OF_PATHWAY = {
    "certificate": N_("Certificate"),
    "micro-degree": N_("Micro-degree"),
    "degree-credit": N_("Credit toward a degree"),
}


def _settings(request: Request) -> Settings:
    return app_context(request).settings


def _decoded_upload(value: str | dict[str, Any]) -> bytes | str:
    """An API import: JSON as an object, text, or a ``data:image/…;base64,`` URL."""
    if isinstance(value, dict):
        return json.dumps(value)
    if value.startswith("data:image/"):
        try:
            return base64.b64decode(value.split(",", 1)[1], validate=True)
        except (IndexError, binascii.Error):
            raise WalletError("The data URL is not valid base64.", field="credential") from None
    return value


# --- JSON API: pathways -----------------------------------------------------------------------


def _input(body: PathwayIn) -> PathwayInput:
    return PathwayInput(
        name=body.name, kind=body.kind, requirements=body.requirements,
        description=body.description, qualification_definition_id=body.qualification_definition_id,
        revocation_policy=body.revocation_policy,
    )  # fmt: skip


@api.get("/pathways", response_model=list[PathwayOut], summary="Pathways you can see")
def api_list(session: DbSession, principal: OptionalPrincipal) -> list[PathwayOut]:
    return [PathwayOut.of(row) for row in service.list_pathways(session, principal)]


@api.post("/pathways", response_model=PathwayOut, status_code=201, summary="Create a pathway")
def api_create(body: PathwayIn, session: DbSession, principal: CurrentPrincipal) -> PathwayOut:
    organisation = body.organisation or next(
        iter(principal.organisations_with(*service.AUTHOR_ROLES)), None
    )
    if organisation is None:
        raise PathwayError("Name the organisation that offers the pathway.", field="organisation")
    row = service.create_pathway(
        session, principal, organisation, _input(body), publish=body.publish
    )
    return PathwayOut.of(row)


@api.get("/pathways/progress", response_model=list[ProgressOut], summary="Your progress")
def api_my_progress(
    request: Request, session: DbSession, principal: CurrentPrincipal
) -> list[ProgressOut]:
    results = service.learner_progress(session, principal.user_id, _settings(request))
    return [ProgressOut.of(result) for result in results]


@api.get("/pathways/awards", response_model=list[AwardOut], summary="Your stacked awards")
def api_my_awards(session: DbSession, principal: CurrentPrincipal) -> list[AwardOut]:
    return [AwardOut.of(row) for row in service.awards_of_learner(session, principal.user_id)]


@api.get("/pathways/awards/{award_id}", response_model=AwardOut, summary="One stacked award")
def api_award(award_id: str, session: DbSession, principal: CurrentPrincipal) -> AwardOut:
    """The learner's own award, or any award of a pathway the caller's organisation offers."""
    return AwardOut.of(service.get_award(session, principal, award_id))


@api.post(
    "/pathways/awards/{award_id}/revoke",
    response_model=AwardOut,
    summary="Revoke an award for good (staff)",
)
def api_award_revoke(
    award_id: str,
    body: AwardRevokeIn,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
) -> AwardOut:
    """Its CLR and its qualification credential are revoked with it; awards stacked on the
    qualification react per their policy. Undo with ``/reaward``."""
    award = service.revoke_award(
        session, principal, award_id, reason=body.reason, settings=_settings(request)
    )
    return AwardOut.of(award)


@api.post(
    "/pathways/awards/{award_id}/reaward",
    response_model=ReawardOut,
    summary="Lift a final revocation (staff)",
)
def api_award_reaward(
    award_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> ReawardOut:
    again = service.reaward(session, principal, award_id, _settings(request))
    reopened = service.get_award(session, None, award_id)
    return ReawardOut(reopened=AwardOut.of(reopened), awarded=AwardOut.of(again) if again else None)


@api.get("/pathways/awards/{award_id}/clr", summary="An award's CLR 2.0 ClrCredential")
def api_award_clr(award_id: str, session: DbSession, principal: CurrentPrincipal) -> JSONResponse:
    award = service.get_award(session, principal, award_id)
    return JSONResponse(award.clr, media_type="application/vc+ld+json")


@api.get("/pathways/{pathway_id}", response_model=PathwayOut, summary="One pathway")
def api_get(pathway_id: str, session: DbSession, principal: OptionalPrincipal) -> PathwayOut:
    return PathwayOut.of(service.get_pathway(session, pathway_id, principal))


@api.put("/pathways/{pathway_id}", response_model=PathwayOut, summary="Replace a pathway")
def api_update(
    pathway_id: str, body: PathwayIn, session: DbSession, principal: CurrentPrincipal
) -> PathwayOut:
    return PathwayOut.of(service.update_pathway(session, principal, pathway_id, _input(body)))


@api.post("/pathways/{pathway_id}/status", response_model=PathwayOut, summary="Publish/archive")
def api_status(
    pathway_id: str, body: StatusIn, session: DbSession, principal: CurrentPrincipal
) -> PathwayOut:
    return PathwayOut.of(service.set_status(session, principal, pathway_id, body.status))


@api.get(
    "/pathways/{pathway_id}/progress", response_model=ProgressOut, summary="Your progress on one"
)
def api_progress(
    pathway_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> ProgressOut:
    (result,) = service.learner_progress(
        session, principal.user_id, _settings(request), pathway_id=pathway_id, viewer=principal
    )
    return ProgressOut.of(result)


# --- JSON API: wallet -------------------------------------------------------------------------


@api.get("/wallet/credentials", response_model=list[ImportedOut], summary="Your imports")
def api_wallet(
    request: Request, session: DbSession, principal: CurrentPrincipal
) -> list[ImportedOut]:
    rows = wallet.wallet_of(session, principal.user_id, _settings(request))
    return [ImportedOut.of(row) for row in rows]


@api.post(
    "/wallet/credentials", response_model=ImportedOut, status_code=201,
    summary="Import and verify a credential",
)  # fmt: skip
def api_import(
    body: ImportIn, request: Request, session: DbSession, principal: CurrentPrincipal
) -> ImportedOut:
    row = wallet.import_credential(
        session, principal, _decoded_upload(body.credential), _settings(request)
    )
    return ImportedOut.of(row)


@api.delete("/wallet/credentials/{imported_id}", status_code=204, summary="Remove an import")
def api_remove(imported_id: str, session: DbSession, principal: CurrentPrincipal) -> Response:
    wallet.remove_imported(session, principal, imported_id)
    return Response(status_code=204)


# --- JSON API: credit and articulation --------------------------------------------------------


@api.post(
    "/credit-recommendations", response_model=RecommendationOut, status_code=201,
    summary="Add a credit recommendation to a definition",
)  # fmt: skip
def api_add_recommendation(
    body: RecommendationIn, session: DbSession, principal: CurrentPrincipal
) -> RecommendationOut:
    data = RecommendationInput(
        body.definition_id, body.recommending_body, body.credits, body.unit, body.level,
        body.discipline, body.valid_from, body.valid_until, body.eqf_level,
    )  # fmt: skip
    return RecommendationOut.of(
        service.add_credit_recommendation(session, principal, body.organisation, data)
    )


@api.get(
    "/credit-recommendations", response_model=list[RecommendationOut],
    summary="Credit recommendations valid today",
)  # fmt: skip
def api_recommendations(
    session: DbSession, definition_id: str | None = None
) -> list[RecommendationOut]:
    rows = service.credit_recommendations(session, definition_id)
    return [RecommendationOut.of(row) for row in rows]


@api.get("/articulation/agreements", response_model=list[AgreementOut], summary="Agreements")
def api_agreements(session: DbSession, organisation: str | None = None) -> list[AgreementOut]:
    org_id = get_organisation(session, organisation).id if organisation else None
    return [AgreementOut.of(row) for row in service.list_agreements(session, org_id)]


@api.post(
    "/articulation/agreements", response_model=AgreementOut, status_code=201,
    summary="Create an articulation agreement",
)  # fmt: skip
def api_create_agreement(
    body: AgreementIn, session: DbSession, principal: CurrentPrincipal
) -> AgreementOut:
    row = service.create_agreement(
        session, principal, body.organisation, programme=body.programme, name=body.name,
        description=body.description, max_credits=body.max_credits,
    )  # fmt: skip
    return AgreementOut.of(row)


@api.get("/articulation/agreements/{agreement_id}", response_model=AgreementOut)
def api_agreement(agreement_id: str, session: DbSession) -> AgreementOut:
    return AgreementOut.of(service.get_agreement(session, agreement_id))


def _rule_input(body: RuleIn) -> RuleInput:
    return RuleInput(
        body.match_kind, body.match_value, body.course_code, body.course_name, body.credits,
        body.min_credits, body.min_eqf_level, body.within_years, body.notes,
    )  # fmt: skip


@api.post(
    "/articulation/agreements/{agreement_id}/rules", response_model=RuleOut, status_code=201,
    summary="Add a rule (refused with 409 when it conflicts with another)",
)  # fmt: skip
def api_add_rule(
    agreement_id: str, body: RuleIn, session: DbSession, principal: CurrentPrincipal
) -> RuleOut:
    return RuleOut.of(service.add_rule(session, principal, agreement_id, _rule_input(body)))


@api.delete("/articulation/rules/{rule_id}", status_code=204, summary="Remove a rule")
def api_remove_rule(rule_id: str, session: DbSession, principal: CurrentPrincipal) -> Response:
    service.remove_rule(session, principal, rule_id)
    return Response(status_code=204)


@api.get(
    "/articulation/agreements/{agreement_id}/evaluation", response_model=TransferOut,
    summary="Transfer evaluation for a learner (yourself, or one of the institution's learners)",
)  # fmt: skip
def api_evaluation(
    agreement_id: str, request: Request, session: DbSession, principal: CurrentPrincipal,
    learner: Annotated[str | None, Query(max_length=254)] = None,
) -> TransferOut:  # fmt: skip
    evaluation = service.evaluate_transfer_for(
        session, principal, agreement_id, _settings(request), learner=learner
    )
    return TransferOut.of(evaluation)


@api.get(
    "/articulation/agreements/{agreement_id}/transcript",
    summary="The transfer evaluation as a signed CLR 2.0 transcript",
)
def api_transcript(
    agreement_id: str, request: Request, session: DbSession, principal: CurrentPrincipal,
    learner: Annotated[str | None, Query(max_length=254)] = None,
) -> JSONResponse:  # fmt: skip
    return _transcript_response(request, session, principal, agreement_id, learner)


def _transcript_response(
    request: Request, session: DbSession, principal: Principal, agreement_id: str,
    learner: str | None,
) -> JSONResponse:  # fmt: skip
    settings = _settings(request)
    evaluation = service.evaluate_transfer_for(
        session, principal, agreement_id, settings, learner=learner
    )
    document = service.transfer_transcript(session, evaluation, settings)
    return JSONResponse(
        document,
        media_type="application/vc+ld+json",
        headers={"Content-Disposition": 'attachment; filename="transfer-transcript.json"'},
    )


# --- pages: learners --------------------------------------------------------------------------


@pages.get("/pathways", response_class=HTMLResponse)
def pathways_page(
    request: Request, session: DbSession, principal: OptionalPrincipal
) -> HTMLResponse:
    progress = {}
    if principal is not None:
        results = service.learner_progress(session, principal.user_id, _settings(request))
        progress = {result.pathway.id: result for result in results}
    return render(
        request, "pathways/index.html", principal,
        pathways=service.list_pathways(session, principal), progress=progress,
        can_author=bool(
            principal
            and (principal.is_platform_admin or principal.organisations_with(*service.AUTHOR_ROLES))
        ),
        kinds=KINDS_OF_PATHWAY,
    )  # fmt: skip


@pages.get("/pathways/{pathway_id}", response_class=HTMLResponse)
def pathway_page(
    pathway_id: str, request: Request, session: DbSession, principal: OptionalPrincipal
) -> HTMLResponse:
    pathway = service.get_pathway(session, pathway_id, principal)
    tree = service.tree_of(pathway)
    result = None
    if principal is not None:
        (result,) = service.learner_progress(
            session, principal.user_id, _settings(request), pathway_id=pathway.id,
            viewer=principal,
        )  # fmt: skip
    names = result.names if result else service.display_names(session, [tree])
    return render(
        request, "pathways/pathway.html", principal,
        pathway=pathway, tree=tree, result=result, names=names, kinds=KINDS_OF_PATHWAY,
        policies=POLICIES, can_edit=service.can_author(principal, pathway.organisation_id),
        organisation=session.get(Organisation, pathway.organisation_id),
    )  # fmt: skip


@pages.get("/pathways/awards/{award_id}", response_model=None)
def award_page(
    award_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    award = service.get_award(session, principal, award_id)
    if "json" in request.headers.get("accept", "") or request.query_params.get("download"):
        return JSONResponse(
            award.clr,
            media_type="application/vc+ld+json",
            headers={"Content-Disposition": f'attachment; filename="clr-{award.id}.json"'},
        )
    return _award_page(request, session, principal, award)


def _award_page(
    request: Request, session: DbSession, principal: Principal, award: PathwayAward, *,
    errors: FieldErrors | None = None, reason: str = "", status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    """An award's page; ``errors`` and the ``reason`` typed on its revoke form when refused."""
    can_manage = service.can_author(principal, award.pathway.organisation_id)
    return render(
        request, "pathways/award.html", principal, award=award, can_manage=can_manage,
        clr_status=service.clr_status_of(award),
        learner=service.award_learners(session, [award]).get(award.user_id)
        if can_manage else None,
        errors=errors or {}, reason=reason, status_code=status_code,
    )  # fmt: skip


@pages.post("/manage/pathways/awards/{award_id}/revoke")
async def award_revoke_submit(
    award_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    form = await _form(request)
    reason = str(form.get("reason") or "")
    try:
        service.revoke_award(
            session, principal, award_id, reason=reason, settings=_settings(request)
        )
    except PathwayError as error:
        if not is_bad_input(error) or error.field != "reason":
            raise
        session.rollback()
        award = service.get_award(session, principal, award_id)
        errors = errors_on_inputs(error, {"reason": "revoke-reason"})
        return _award_page(
            request, session, principal, award, errors=errors, reason=reason,
            status_code=error.status_code,
        )  # fmt: skip
    return RedirectResponse(f"/pathways/awards/{award_id}", status_code=303)


@pages.post("/manage/pathways/awards/{award_id}/reaward")
async def award_reaward_submit(
    award_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> RedirectResponse:
    await _form(request)
    again = service.reaward(session, principal, award_id, _settings(request))
    return RedirectResponse(f"/pathways/awards/{again.id if again else award_id}", status_code=303)


EXPIRY_WARNING_DAYS = 60
"""The wallet flags a credential that expires within this many days."""


@pages.get("/wallet", response_class=HTMLResponse)
def wallet_page(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    imported: Annotated[str | None, Query(max_length=32)] = None,
) -> HTMLResponse:
    return _wallet(request, session, principal, imported=imported)


def _wallet(
    request: Request, session: DbSession, principal: Principal, *, error: str | None = None,
    checks: list[Any] | None = None, imported: str | None = None, status_code: int = 200,
    pasted: str = "",
) -> HTMLResponse:  # fmt: skip
    """The wallet; ``pasted``: the text a refused import was given, to fix and send again."""
    return render(
        request, "wallet/index.html", principal, status_code=status_code, pasted=pasted,
        items=wallet.wallet_of(session, principal.user_id, _settings(request)),
        earned=credentials_of_learner(session, principal.user_id, principal),
        awards=service.awards_of_learner(session, principal.user_id),
        error=error, checks=checks or [], imported=imported, now=datetime.now(UTC),
        expiry_warning_days=EXPIRY_WARNING_DAYS,
    )  # fmt: skip


async def _form(request: Request) -> FormData:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    return form


@pages.post("/wallet/import", response_class=HTMLResponse)
async def wallet_import(
    request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    form = await _form(request)
    upload = form.get("file")
    data: bytes | str = str(form.get("text") or "")
    if isinstance(upload, UploadFile) and upload.filename:
        data = await upload.read()
    try:
        with session.begin_nested():
            row = wallet.import_credential(session, principal, data, _settings(request))
    except WalletError as error:
        checks = getattr(error, "checks", [])
        return _wallet(
            request, session, principal, error=error.message, checks=checks, status_code=422,
            pasted=str(form.get("text") or ""),
        )  # fmt: skip
    return RedirectResponse(f"/wallet?imported={row.id}", status_code=303)


@pages.post("/wallet/{imported_id}/remove")
async def wallet_remove(
    imported_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> RedirectResponse:
    await _form(request)
    wallet.remove_imported(session, principal, imported_id)
    return RedirectResponse("/wallet", status_code=303)


# --- pages: authors ---------------------------------------------------------------------------


def _author_organisations(session: DbSession, principal: Principal) -> list[Organisation]:
    organisations = staff_organisations(session, principal, *service.AUTHOR_ROLES)
    if not organisations:
        raise PermissionDenied("Only staff of an issuer or institution can author pathways.")
    return organisations


def _qualification_choices(
    session: DbSession, organisations: list[Organisation]
) -> list[CredentialDefinition]:
    return list(
        session.scalars(
            select(CredentialDefinition)
            .where(
                CredentialDefinition.issuer_id.in_([o.id for o in organisations]),
                CredentialDefinition.status == DefinitionStatus.published,
            )
            .order_by(CredentialDefinition.name)
        )
    )


EDITOR_INPUTS = {
    "organisation": "organisation", "name": "name", "description": "description", "kind": "kind",
    "qualification_definition_id": "qualification_definition_id",
    "revocation_policy": "revocation_policy", "tree_import": "tree_import",
}  # fmt: skip
"""The pathway editor's input for each field a refusal names (requirements: see below)."""


def _editor_errors(error: PathwayError | None) -> FieldErrors:
    """The error under its input, or under the requirement (``node-r.1``) it is about."""
    if error is None:
        return {}
    node = tree_form.form_path(error.field)
    if node is not None:
        return {f"node-{node}": [error.message]}
    return errors_on_inputs(error, EDITOR_INPUTS)


def _editor(
    request: Request, session: DbSession, principal: Principal, *, values: dict[str, Any],
    tree: dict[str, Any], pathway: Pathway | None, error: PathwayError | None = None,
    status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    organisations = _author_organisations(session, principal)
    return render(
        request, "pathways/editor.html", principal, status_code=status_code,
        values=values, nodes=tree_form.flatten(tree), tree_json=json.dumps(tree, indent=2),
        pathway=pathway, errors=_editor_errors(error),
        error_path=tree_form.form_path(error.field if error else None),
        organisations=organisations,
        qualifications=_qualification_choices(session, organisations),
        kinds=KINDS_OF_PATHWAY, policies=POLICIES, node_kinds=KINDS, kind_labels=KIND_LABELS,
    )  # fmt: skip


EMPTY_TREE: dict[str, Any] = {"type": "all_of", "children": []}


@pages.get("/manage/pathways/new", response_class=HTMLResponse)
def new_pathway_page(
    request: Request, session: DbSession, principal: CurrentPrincipal
) -> HTMLResponse:
    values = {"kind": "certificate", "revocation_policy": "review"}
    return _editor(
        request, session, principal, values=values, tree=json.loads(json.dumps(EMPTY_TREE)),
        pathway=None,
    )  # fmt: skip


@pages.get("/manage/pathways/{pathway_id}/edit", response_class=HTMLResponse)
def edit_pathway_page(
    pathway_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> HTMLResponse:
    pathway = service.get_pathway(session, pathway_id, principal)
    if not service.can_author(principal, pathway.organisation_id):
        raise PermissionDenied("Only the pathway's staff can edit it.")
    values = {
        "name": pathway.name, "description": pathway.description, "kind": pathway.kind.value,
        "qualification_definition_id": pathway.qualification_definition_id or "",
        "revocation_policy": pathway.revocation_policy.value,
        "organisation": pathway.organisation_id,
    }  # fmt: skip
    return _editor(
        request, session, principal, values=values, tree=pathway.requirements, pathway=pathway
    )


@pages.post("/manage/pathways/new", response_model=None)
async def new_pathway_submit(
    request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    return await _editor_submit(request, session, principal, None)


@pages.post("/manage/pathways/{pathway_id}/edit", response_model=None)
async def edit_pathway_submit(
    pathway_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    pathway = service.get_pathway(session, pathway_id, principal)
    return await _editor_submit(request, session, principal, pathway)


async def _editor_submit(
    request: Request, session: DbSession, principal: Principal, pathway: Pathway | None
) -> Response:
    form = await _form(request)
    fields = {key: str(value) for key, value in form.items() if isinstance(value, str)}
    values = {
        key: fields.get(key, "")
        for key in ("name", "description", "kind", "qualification_definition_id",
                    "revocation_policy", "organisation")
    }  # fmt: skip
    op = fields.get("op", "save")
    try:
        tree = tree_form.tree_from_form(fields)
        if op == "import":
            tree = json.loads(fields.get("tree_import") or "{}")
            tree = to_dict(parse_requirement(tree))
        elif op.startswith(("add:", "remove:")):
            path = op.partition(":")[2]
            tree = tree_form.apply_edit(tree, op, fields.get(f"add_kind:{path}"))
        else:
            data = PathwayInput(
                name=values["name"], kind=values["kind"], requirements=tree,
                description=values["description"],
                qualification_definition_id=values["qualification_definition_id"] or None,
                revocation_policy=values["revocation_policy"],
            )  # fmt: skip
            with session.begin_nested():
                if pathway is None:
                    organisation = (
                        values["organisation"] or _author_organisations(session, principal)[0].id
                    )
                    saved = service.create_pathway(
                        session, principal, organisation, data, publish=op == "publish"
                    )
                else:
                    saved = service.update_pathway(session, principal, pathway.id, data)
                    if op == "publish":
                        service.set_status(session, principal, saved.id, "published")
            return RedirectResponse(f"/pathways/{saved.id}", status_code=303)
    except json.JSONDecodeError as error:
        problem = PathwayError(f"The JSON is not valid: {error}", field="tree_import")
        return _editor(request, session, principal, values=values, tree=EMPTY_TREE,
                       pathway=pathway, error=problem, status_code=422)  # fmt: skip
    except PathwayError as error:
        if error.status_code == 403:
            raise
        safe_tree = tree if "tree" in locals() else EMPTY_TREE
        return _editor(request, session, principal, values=values, tree=safe_tree,
                       pathway=pathway, error=error, status_code=422)  # fmt: skip
    return _editor(request, session, principal, values=values, tree=tree, pathway=pathway)


@pages.post("/manage/pathways/{pathway_id}/status")
async def pathway_status_submit(
    pathway_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> RedirectResponse:
    form = await _form(request)
    service.set_status(session, principal, pathway_id, str(form.get("status") or ""))
    return RedirectResponse(f"/pathways/{pathway_id}", status_code=303)


@pages.get("/manage/pathways/reviews", response_class=HTMLResponse)
def reviews_page(request: Request, session: DbSession, principal: CurrentPrincipal) -> HTMLResponse:
    _author_organisations(session, principal)
    awards = service.awards_for_review(session, principal)
    revoked = service.awards_revoked_for_good(session, principal)
    return render(
        request, "pathways/reviews.html", principal, awards=awards, revoked=revoked,
        learners=service.award_learners(session, [*awards, *revoked]),
    )  # fmt: skip


@pages.post("/manage/pathways/reviews/{award_id}")
async def review_submit(
    award_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> RedirectResponse:
    form = await _form(request)
    keep = form.get("decision") == "keep"
    service.resolve_review(session, principal, award_id, keep=keep, settings=_settings(request))
    return RedirectResponse("/manage/pathways/reviews", status_code=303)


# --- pages: registrars ------------------------------------------------------------------------


@pages.get("/manage/articulation", response_class=HTMLResponse)
def articulation_page(
    request: Request, session: DbSession, principal: CurrentPrincipal
) -> HTMLResponse:
    return _articulation(request, session, principal)


AGREEMENT_INPUTS = {
    "organisation": "agreement-organisation", "programme": "programme", "name": "agreement-name",
    "description": "agreement-description", "max_credits": "max_credits",
}  # fmt: skip
RECOMMENDATION_INPUTS = {
    "organisation": "rec-organisation", "definition_id": "definition_id",
    "recommending_body": "recommending_body", "credits": "credits", "unit": "unit",
    "level": "level", "eqf_level": "eqf_level", "discipline": "discipline",
    "valid_from": "valid_from", "valid_until": "valid_until",
}  # fmt: skip
RULE_INPUTS = {
    "match_kind": "match_kind", "match_value": "match_value", "min_credits": "min_credits",
    "min_eqf_level": "min_eqf_level", "within_years": "within_years",
    "course_code": "course_code", "course_name": "course_name", "credits": "rule-credits",
    "notes": "notes",
}  # fmt: skip
ARTICULATION_LABELS = {
    "agreement-organisation": "Institution", "programme": "Programme",
    "agreement-name": "Agreement name", "agreement-description": "Description",
    "max_credits": "Most transfer credit accepted", "rec-organisation": "Recorded by",
    "definition_id": "Micro-credential", "recommending_body": "Recommending body",
    "credits": "Credits", "unit": "Unit", "level": "Level", "eqf_level": "EQF level",
    "discipline": "Discipline", "valid_from": "Valid from", "valid_until": "Valid until",
}  # fmt: skip
"""The error summary's name for each input, by id (as the inputs' labels say)."""
RULE_LABELS = {
    "match_kind": "Accept credentials", "match_value": "Micro-credential, issuer or skill",
    "min_credits": "At least (ECTS)", "min_eqf_level": "At least EQF level",
    "within_years": "Earned within years", "course_code": "For course code",
    "course_name": "Course name", "rule-credits": "Credits awarded", "notes": "Notes",
}  # fmt: skip


def _articulation(
    request: Request, session: DbSession, principal: Principal, *, form: str = "",
    errors: FieldErrors | None = None, values: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    """The registrar's page; ``form`` names the form whose ``errors`` and ``values`` are shown."""
    organisations = _author_organisations(session, principal)
    agreements = [
        agreement
        for organisation in organisations
        for agreement in service.list_agreements(session, organisation.id)
    ]
    recommendations = service.credit_recommendations(session)
    return render(
        request, "pathways/articulation.html", principal, status_code=status_code,
        organisations=organisations, agreements=agreements, form=form, errors=errors or {},
        values=values or {}, recommendations=recommendations,
        definition_choices=_own_definition_choices(session, organisations),
        definition_names=_definition_labels(
            session, {row.definition_id for row in recommendations}
        ),
        labels=ARTICULATION_LABELS,
    )  # fmt: skip


def _definition_label(name: str, code: str | None) -> str:
    return f"{name} ({code})" if code else name


def _own_definition_choices(
    session: DbSession, organisations: list[Organisation]
) -> dict[str, list[tuple[str, str]]]:
    """The organisations' own published definitions as (id, "name (code)"), grouped by
    organisation: a credit recommendation is recorded by the micro-credential's issuer."""
    names = {organisation.id: organisation.name for organisation in organisations}
    groups: dict[str, list[tuple[str, str]]] = {}
    for definition in _qualification_choices(session, organisations):
        groups.setdefault(names[definition.issuer_id], []).append(
            (definition.definition_id, _definition_label(definition.name, definition.human_code))
        )
    return dict(sorted(groups.items()))


def _definition_labels(session: DbSession, definition_ids: set[str]) -> dict[str, str]:
    rows = session.execute(
        select(
            CredentialDefinition.definition_id, CredentialDefinition.name,
            CredentialDefinition.human_code,
        ).where(
            CredentialDefinition.definition_id.in_(definition_ids),
            CredentialDefinition.status == DefinitionStatus.published,
        )
    )  # fmt: skip
    return {definition_id: _definition_label(name, code) for definition_id, name, code in rows}


def _number(value: Any, field: str, kind: type[int] | type[float] = float) -> Any:
    text = str(value or "").strip()
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        raise PathwayError(f"{field} must be a number.", field=field) from None


async def _form_values(request: Request) -> dict[str, str]:
    form = await _form(request)
    return {key: str(value) for key, value in form.items() if isinstance(value, str)}


@pages.post("/manage/articulation", response_model=None)
async def agreement_submit(
    request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    values = await _form_values(request)
    try:
        with session.begin_nested():
            agreement = service.create_agreement(
                session, principal, values.get("organisation", ""),
                programme=values.get("programme", ""), name=values.get("name", ""),
                description=values.get("description", ""),
                max_credits=_number(values.get("max_credits"), "max_credits"),
            )  # fmt: skip
    except PathwayError as error:
        if not is_bad_input(error):
            raise
        return _articulation(
            request, session, principal, form="agreement", values=values,
            errors=errors_on_inputs(error, AGREEMENT_INPUTS), status_code=422,
        )  # fmt: skip
    return RedirectResponse(f"/manage/articulation/{agreement.id}", status_code=303)


@pages.post("/manage/credit-recommendations", response_model=None)
async def recommendation_submit(
    request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    values = await _form_values(request)
    try:
        definition_id = values.get("definition_id", "").strip()
        if not definition_id:
            raise PathwayError("Choose the micro-credential.", field="definition_id")
        try:
            valid_from = date.fromisoformat(values.get("valid_from") or "")
        except ValueError:
            raise PathwayError("Give the first day as YYYY-MM-DD.", field="valid_from") from None
        try:
            until = values.get("valid_until") or ""
            valid_until = date.fromisoformat(until) if until else None
        except ValueError:
            raise PathwayError("Give the last day as YYYY-MM-DD.", field="valid_until") from None
        data = RecommendationInput(
            definition_id, values.get("recommending_body", ""),
            _number(values.get("credits"), "credits") or 0.0, values.get("unit", ""),
            values.get("level", ""), values.get("discipline", ""), valid_from, valid_until,
            _number(values.get("eqf_level"), "eqf_level", int),
        )  # fmt: skip
        with session.begin_nested():
            service.add_credit_recommendation(
                session, principal, values.get("organisation", ""), data
            )
    except PathwayError as error:
        if not is_bad_input(error):
            raise
        return _articulation(
            request, session, principal, form="recommendation", values=values,
            errors=errors_on_inputs(error, RECOMMENDATION_INPUTS), status_code=422,
        )  # fmt: skip
    return RedirectResponse("/manage/articulation#recommendations", status_code=303)


def _agreement_for_staff(session: DbSession, principal: Principal, agreement_id: str) -> Any:
    agreement = service.get_agreement(session, agreement_id)
    if not service.can_author(principal, agreement.organisation_id):
        raise PermissionDenied("Only the institution's registrars manage this agreement.")
    return agreement


@pages.get("/manage/articulation/{agreement_id}", response_class=HTMLResponse)
def agreement_page(
    agreement_id: str, request: Request, session: DbSession, principal: CurrentPrincipal,
    learner: Annotated[str | None, Query(max_length=254)] = None,
) -> HTMLResponse:  # fmt: skip
    return _agreement(request, session, principal, agreement_id, learner=learner)


def _agreement(
    request: Request, session: DbSession, principal: Principal, agreement_id: str, *,
    learner: str | None = None, errors: FieldErrors | None = None,
    values: dict[str, str] | None = None, status_code: int = 200,
) -> HTMLResponse:  # fmt: skip
    agreement = _agreement_for_staff(session, principal, agreement_id)
    evaluation, evaluation_error = None, None
    if learner:
        try:
            with session.begin_nested():
                evaluation = service.evaluate_transfer_for(
                    session, principal, agreement.id, _settings(request), learner=learner
                )
        except PathwayError as problem:
            evaluation_error = problem.message
    # The rules as the evaluation names them: what each accepts by name, not by internal id.
    labels = service.match_labels(session, agreement.rules)
    return render(
        request, "pathways/agreement.html", principal, status_code=status_code,
        agreement=agreement, rules=[service.as_rule(row, labels) for row in agreement.rules],
        errors=errors or {}, values=values or {}, labels=RULE_LABELS,
        learner=learner or "", evaluation=evaluation, evaluation_error=evaluation_error,
        learners=_learners_of(session, agreement.organisation_id),
        match_choices=_match_choices(session),
    )  # fmt: skip


def _match_choices(session: DbSession) -> dict[str, list[tuple[str, str]]]:
    """Suggestions for a rule's "accepts" input: published definitions and issuers, by id."""
    definitions = session.execute(
        select(
            CredentialDefinition.definition_id, CredentialDefinition.name,
            CredentialDefinition.human_code, Organisation.name,
        )
        .join(Organisation, Organisation.id == CredentialDefinition.issuer_id)
        .where(CredentialDefinition.status == DefinitionStatus.published)
        .order_by(Organisation.name, CredentialDefinition.name)
    )  # fmt: skip
    issuers = session.execute(
        select(Organisation.slug, Organisation.name)
        .where(Organisation.kind == OrganisationKind.issuer)
        .order_by(Organisation.name)
    )
    return {
        "definition": [
            (d_id, f"{_definition_label(name, code)} — {issuer}")
            for d_id, name, code, issuer in definitions
        ],
        "issuer": [(slug, name) for slug, name in issuers],
    }


def _learners_of(session: DbSession, organisation_id: str) -> list[str]:
    from microcred.accounts.models import Membership, User

    return list(
        session.scalars(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id == organisation_id, Membership.role == Role.learner)
            .order_by(User.email)
        )
    )


@pages.post("/manage/articulation/{agreement_id}/rules", response_model=None)
async def rule_submit(
    agreement_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> Response:
    values = await _form_values(request)
    try:
        data = RuleInput(
            values.get("match_kind", ""), values.get("match_value", ""),
            values.get("course_code", ""), values.get("course_name", ""),
            _number(values.get("credits"), "credits") or 0.0,
            _number(values.get("min_credits"), "min_credits"),
            _number(values.get("min_eqf_level"), "min_eqf_level", int),
            _number(values.get("within_years"), "within_years", int), values.get("notes", ""),
        )  # fmt: skip
        with session.begin_nested():
            service.add_rule(session, principal, agreement_id, data)
    except PathwayError as error:
        # A conflict with another rule is the input's fault too: shown on the form (409).
        if error.status_code != 409 and not is_bad_input(error):
            raise
        return _agreement(
            request, session, principal, agreement_id, values=values,
            errors=errors_on_inputs(error, RULE_INPUTS), status_code=error.status_code,
        )  # fmt: skip
    return RedirectResponse(f"/manage/articulation/{agreement_id}#rules", status_code=303)


@pages.post("/manage/articulation/rules/{rule_id}/remove")
async def rule_remove(
    rule_id: str, request: Request, session: DbSession, principal: CurrentPrincipal
) -> RedirectResponse:
    form = await _form(request)
    service.remove_rule(session, principal, rule_id)
    return RedirectResponse(f"/manage/articulation/{form.get('agreement_id')}", status_code=303)


@pages.get("/manage/articulation/{agreement_id}/transcript")
def transcript_download(
    agreement_id: str, request: Request, session: DbSession, principal: CurrentPrincipal,
    learner: Annotated[str | None, Query(max_length=254)] = None,
) -> JSONResponse:  # fmt: skip
    _agreement_for_staff(session, principal, agreement_id)
    return _transcript_response(request, session, principal, agreement_id, learner)


routers = [pages, api]
