"""Members, invitations and organisations: the pages and API of ``accounts.admin``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from microcred.accounts import admin, recovery, twofactor
from microcred.accounts.mailing import mail_invited
from microcred.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from microcred.accounts.service import AccountError, Principal
from microcred.errors import MicrocredError, NotFound, PermissionDenied
from microcred.mail.service import mail_enabled
from microcred.web.deps import CurrentPrincipal, DbSession, OptionalPrincipal, app_context
from microcred.web.form_errors import errors_on_inputs, is_bad_input
from microcred.web.rendering import render
from microcred.web.security import begin_second_factor, check_csrf, sign_in

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["accounts"])
ROLES = [role.value for role in Role]
MEMBERS_SHOWN = 200


def invitation_link(request: Request, secret: str) -> str:
    return f"{app_context(request).settings.base_url.rstrip('/')}/invitations/{secret}"


def _administered(
    session: DbSession, principal: Principal, slug: str | None
) -> tuple[list[Organisation], Organisation]:
    organisations = admin.administered_organisations(session, principal)
    if not organisations:
        raise PermissionDenied("Only organisation admins manage members.")
    chosen = next((o for o in organisations if o.slug == slug), organisations[0])
    return organisations, chosen


def _members_page(
    request: Request,
    session: DbSession,
    principal: Principal,
    slug: str | None,
    *,
    status_code: int = 200,
    filter_role: str | None = None,
    filter_q: str | None = None,
    **context: object,
) -> HTMLResponse:
    organisations, current = _administered(session, principal, slug)
    role, query = filter_role or None, filter_q or None
    members = admin.members_of(
        session, principal, current.slug, role=role, query=query, limit=MEMBERS_SHOWN
    )
    context.setdefault("errors", {})
    return render(
        request, "members.html", principal, organisations=organisations, current=current,
        members=members, roles=ROLES, status_code=status_code, filter_role=role or "",
        filter_q=query or "", total=admin.count_members(session, current.id, role=role,
                                                        query=query),
        invitations=admin.pending_invitations(session, principal, current.slug),
        two_factor_users=twofactor.enabled_among(session, [m.user_id for m in members]),
        two_factor_missing=twofactor.members_without(session, current.id),
        rule_saved=request.query_params.get("rule") == "saved",
        two_factor_reset=request.query_params.get("two_factor_reset"), **context,
    )  # fmt: skip


INVITE_INPUTS = {"email": "invite-email", "role": "invite-role"}
ORGANISATION_INPUTS = {
    "name": "org-name", "slug": "org-slug", "kind": "org-kind", "country": "org-country",
    "region": "org-region",
}  # fmt: skip


@pages.get("/manage/members", response_class=HTMLResponse)
def members_page(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    organisation: Annotated[str | None, Query(max_length=80)] = None,
    role: Annotated[str | None, Query(max_length=20)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    return _members_page(request, session, principal, organisation, filter_role=role, filter_q=q)


@pages.post("/manage/members/invite", response_class=HTMLResponse)
def members_invite(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    csrf_token: Annotated[str, Form()] = "",
    organisation: Annotated[str, Form(max_length=80)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
) -> HTMLResponse:
    check_csrf(request, csrf_token)
    _, current = _administered(session, principal, organisation)
    try:
        invited = admin.invite(session, principal, current.slug, email=email, role=role)
        mailed = mail_invited(session, app_context(request).settings, invited, principal)
    except MicrocredError as error:
        return _refused(
            request, session, principal, current.slug, error, inputs=INVITE_INPUTS,
            email=email, role=role,
        )  # fmt: skip
    session.commit()
    link = invitation_link(request, invited.secret) if invited.secret else None
    notice = None if link else f"{invited.email} is now {invited.role.value.replace('_', ' ')}."
    return _members_page(
        request, session, principal, current.slug, invite_link=link, invited=invited,
        notice=notice, invitation_mailed=mailed,
    )  # fmt: skip


@pages.post("/manage/members/{membership_id}/remove")
def members_remove(
    membership_id: str,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    csrf_token: Annotated[str, Form()] = "",
    organisation: Annotated[str, Form(max_length=80)] = "",
) -> RedirectResponse:
    check_csrf(request, csrf_token)
    admin.remove_member(session, principal, membership_id)
    return _back_to_members(organisation)


def _member(
    session: DbSession, principal: Principal, organisation: str, membership_id: str
) -> tuple[Organisation, Membership]:
    """The administered organisation and one of its memberships (404 for another's)."""
    _, current = _administered(session, principal, organisation)
    membership = session.get(Membership, membership_id)
    if membership is None or membership.organisation_id != current.id:
        raise NotFound("No such member.")
    return current, membership


def _refused(
    request: Request, session: DbSession, principal: Principal, slug: str, error: MicrocredError,
    *, inputs: dict[str, str] | None = None, **context: Any,
) -> HTMLResponse:  # fmt: skip
    """The members page again, saying why (nothing of the refused action kept): bad input under
    the field at fault when ``inputs`` names the form's fields, any other refusal as an alert."""
    session.rollback()
    if inputs is not None and is_bad_input(error):
        context["errors"] = errors_on_inputs(error, inputs)
    else:
        context["error"] = error.message
    return _members_page(
        request, session, principal, slug, status_code=error.status_code, **context
    )


@pages.post("/manage/members/{membership_id}/reset-link", response_class=HTMLResponse)
def members_reset_link(
    membership_id: str,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    csrf_token: Annotated[str, Form()] = "",
    organisation: Annotated[str, Form(max_length=80)] = "",
) -> HTMLResponse:
    check_csrf(request, csrf_token)
    current, membership = _member(session, principal, organisation, membership_id)
    try:
        made = recovery.create_reset_link(
            session, principal, membership.user_id, settings=app_context(request).settings
        )
    except PermissionDenied as error:
        return _refused(request, session, principal, current.slug, error)
    session.commit()
    return _members_page(
        request, session, principal, current.slug, reset=made,
        reset_link=f"{app_context(request).settings.base_url.rstrip('/')}/password-reset/"
        f"{made.secret}",
    )  # fmt: skip


@pages.post("/manage/members/two-factor-rule", response_class=HTMLResponse)
def members_two_factor_rule(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    csrf_token: Annotated[str, Form()] = "",
    organisation: Annotated[str, Form(max_length=80)] = "",
    required: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    _, current = _administered(session, principal, organisation)
    try:
        twofactor.set_required(session, principal, current.id, required == "on")
    except MicrocredError as error:
        return _refused(request, session, principal, current.slug, error)
    return RedirectResponse(
        f"/manage/members?organisation={current.slug}&rule=saved#two-factor", status_code=303
    )


@pages.post("/manage/members/{membership_id}/reset-two-factor", response_class=HTMLResponse)
def members_reset_two_factor(
    membership_id: str,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    csrf_token: Annotated[str, Form()] = "",
    organisation: Annotated[str, Form(max_length=80)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    current, membership = _member(session, principal, organisation, membership_id)
    try:
        twofactor.reset_for(
            session, principal, membership.user_id, settings=app_context(request).settings,
            ip=request.client.host if request.client else None,
        )  # fmt: skip
    except MicrocredError as error:
        return _refused(request, session, principal, current.slug, error)
    return RedirectResponse(
        f"/manage/members?organisation={current.slug}&two_factor_reset=1#two-factor",
        status_code=303,
    )


@pages.get("/password-reset/{secret}", response_class=HTMLResponse)
def password_reset_page(secret: str, request: Request, session: DbSession) -> HTMLResponse:
    reset = recovery.open_reset(session, secret)
    user = session.get(User, reset.user_id)
    return render(request, "password_reset.html", None, secret=secret, user=user, errors={})


@pages.post("/password-reset/{secret}", response_model=None)
def password_reset_submit(
    secret: str,
    request: Request,
    session: DbSession,
    csrf_token: Annotated[str, Form()] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    repeat_password: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    try:
        user = recovery.reset_password(session, secret, password=password, repeated=repeat_password)
    except AccountError as error:
        session.rollback()
        reset = recovery.open_reset(session, secret)
        return render(
            request, "password_reset.html", None, secret=secret,
            user=session.get(User, reset.user_id), status_code=error.status_code,
            errors=errors_on_inputs(
                error, {"password": "password", "repeat_password": "repeat-password"}
            ),
        )  # fmt: skip
    session.commit()
    if user.two_factor_enabled:  # the link proves the address, not the second factor
        begin_second_factor(request, user, "/account?done=password-changed")
        return RedirectResponse("/sign-in/code", status_code=303)
    sign_in(request, user)
    return RedirectResponse("/account?done=password-changed", status_code=303)


@pages.post("/manage/invitations/{invitation_id}/withdraw")
def invitation_withdraw(
    invitation_id: str,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    csrf_token: Annotated[str, Form()] = "",
    organisation: Annotated[str, Form(max_length=80)] = "",
) -> RedirectResponse:
    check_csrf(request, csrf_token)
    admin.withdraw_invitation(session, principal, invitation_id)
    return _back_to_members(organisation)


def _back_to_members(organisation: str) -> RedirectResponse:
    return RedirectResponse(f"/manage/members?organisation={quote(organisation)}", status_code=303)


@pages.get("/invitations/{secret}", response_class=HTMLResponse)
def invitation_page(
    secret: str, request: Request, session: DbSession, principal: OptionalPrincipal
) -> HTMLResponse:
    invitation = admin.open_invitation(session, secret)
    return render(
        request, "invitation.html", principal, invitation=invitation, secret=secret, error=None,
        has_account=_has_account(session, invitation.email),
    )  # fmt: skip


def _has_account(session: DbSession, email: str) -> bool:
    return session.scalar(select(User.id).where(User.email == email)) is not None


@pages.post("/invitations/{secret}", response_model=None)
def invitation_accept(
    secret: str,
    request: Request,
    session: DbSession,
    principal: OptionalPrincipal,
    csrf_token: Annotated[str, Form()] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    password_again: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    invitation = admin.open_invitation(session, secret)  # an unusable link: 404 before anything
    if _has_account(session, invitation.email):
        if principal is None:
            return RedirectResponse(f"/sign-in?next=/invitations/{secret}", status_code=303)
        admin.join_with_invitation(session, secret, principal)
        session.commit()
        return RedirectResponse("/account?welcome=1", status_code=303)
    try:
        if password != password_again:
            raise AccountError("The two passwords differ.", field="password_again")
        user = admin.accept_invitation(session, secret, name=name, password=password)
    except MicrocredError as error:
        session.rollback()
        invitation = admin.open_invitation(session, secret)
        return render(
            request, "invitation.html", principal, invitation=invitation, secret=secret,
            error=error.message, name=name, status_code=error.status_code, has_account=False,
        )  # fmt: skip
    session.commit()
    sign_in(request, user)
    return RedirectResponse("/account?welcome=1", status_code=303)


@pages.get("/admin/organisations", response_class=HTMLResponse)
def organisations_page(
    request: Request, session: DbSession, principal: CurrentPrincipal
) -> HTMLResponse:
    return _organisations_page(request, session, principal)


def _organisations_page(
    request: Request,
    session: DbSession,
    principal: Principal,
    *,
    status_code: int = 200,
    **context: object,
) -> HTMLResponse:
    if not principal.is_platform_admin:
        raise PermissionDenied("Only a platform administrator manages organisations.")
    context.setdefault("errors", {})
    return render(
        request, "organisations.html", principal,
        organisations=admin.administered_organisations(session, principal),
        kinds=[kind.value for kind in OrganisationKind], status_code=status_code, **context,
    )  # fmt: skip


@pages.post("/admin/organisations", response_model=None)
def organisations_create(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    csrf_token: Annotated[str, Form()] = "",
    slug: Annotated[str, Form(max_length=80)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    kind: Annotated[str, Form(max_length=20)] = "",
    country: Annotated[str, Form(max_length=2)] = "",
    region: Annotated[str, Form(max_length=120)] = "",
) -> Response:
    check_csrf(request, csrf_token)
    try:
        created = admin.add_organisation(
            session, principal, slug=slug, name=name, kind=kind, country=country, region=region
        )
    except MicrocredError as error:
        if isinstance(error, PermissionDenied):
            raise
        session.rollback()
        shown = (
            {"errors": errors_on_inputs(error, ORGANISATION_INPUTS)}
            if is_bad_input(error)
            else {"error": error.message}
        )
        return _organisations_page(
            request, session, principal, status_code=error.status_code,
            form={"slug": slug, "name": name, "kind": kind, "country": country, "region": region},
            **shown,
        )  # fmt: skip
    session.commit()
    return RedirectResponse(f"/manage/members?organisation={created.slug}", status_code=303)


# --- API --------------------------------------------------------------------------------------


class MemberOut(BaseModel):
    membership_id: str
    user_id: str
    email: str
    name: str
    role: str


class InvitationOut(BaseModel):
    id: str
    email: str
    role: str
    expires_at: datetime


class MembersOut(BaseModel):
    members: list[MemberOut]
    invitations: list[InvitationOut]


class InviteIn(BaseModel):
    email: str = Field(max_length=254)
    role: str = Field(max_length=20)


class InvitedOut(BaseModel):
    email: str
    role: str
    membership_added: bool = Field(description="True when the account existed: nothing to accept")
    invitation_url: str | None = Field(
        default=None, description="The one-time link to pass on (shown once; valid 14 days)"
    )
    emailed: bool | None = Field(
        default=None,
        description="Whether the server e-mailed the link to the invitee too; absent when this "
        "server sends no e-mail",
    )


class OrganisationIn(BaseModel):
    slug: str = Field(max_length=80)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    country: str | None = Field(default=None, max_length=2)
    region: str | None = Field(default=None, max_length=120)


class OrganisationOut(BaseModel):
    id: str
    slug: str
    name: str
    kind: str


@api.get(
    "/organisations/{slug}/members",
    response_model=MembersOut,
    summary="Members and open invitations (organisation admins, scope accounts:admin)",
)
def api_members(
    slug: str,
    session: DbSession,
    principal: CurrentPrincipal,
    role: Annotated[str | None, Query(max_length=20)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> MembersOut:
    members = admin.members_of(session, principal, slug, role=role, query=q, limit=limit)
    invitations = admin.pending_invitations(session, principal, slug)
    return MembersOut(
        members=[
            MemberOut(membership_id=m.membership_id, user_id=m.user_id, email=m.email,
                      name=m.name, role=m.role.value)
            for m in members
        ],
        invitations=[
            InvitationOut(id=i.id, email=i.email, role=i.role.value, expires_at=i.expires_at)
            for i in invitations
        ],
    )  # fmt: skip


@api.post(
    "/organisations/{slug}/invitations",
    response_model=InvitedOut,
    response_model_exclude_unset=True,
    status_code=201,
    summary="Invite someone in a role (organisation admins, scope accounts:admin)",
)
def api_invite(
    slug: str, body: InviteIn, request: Request, session: DbSession, principal: CurrentPrincipal
) -> InvitedOut:
    invited = admin.invite(session, principal, slug, email=body.email, role=body.role)
    settings = app_context(request).settings
    mailed = {"emailed": mail_invited(session, settings, invited, principal)}
    return InvitedOut(
        email=invited.email, role=invited.role.value,
        membership_added=invited.membership is not None,
        **(mailed if mail_enabled(settings) else {}),
        invitation_url=invitation_link(request, invited.secret) if invited.secret else None,
    )  # fmt: skip


@api.delete(
    "/organisations/{slug}/members/{membership_id}",
    status_code=204,
    summary="Remove a membership (never the last admin)",
)
def api_remove_member(
    slug: str, membership_id: str, session: DbSession, principal: CurrentPrincipal
) -> Response:
    admin.remove_member(session, principal, membership_id, organisation=slug)
    return Response(status_code=204)


@api.post(
    "/organisations",
    response_model=OrganisationOut,
    status_code=201,
    summary="Create an organisation (platform admins)",
)
def api_create_organisation(
    body: OrganisationIn, session: DbSession, principal: CurrentPrincipal
) -> OrganisationOut:
    created = admin.add_organisation(
        session, principal, slug=body.slug, name=body.name, kind=body.kind,
        country=body.country, region=body.region,
    )  # fmt: skip
    return OrganisationOut(
        id=created.id, slug=created.slug, name=created.name, kind=created.kind.value
    )


routers = [api, pages]
