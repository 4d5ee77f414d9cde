"""Request dependencies: a database session per request and the acting principal."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from microcred.accounts import service as accounts
from microcred.accounts import twofactor
from microcred.accounts.service import AuthenticationFailed, Principal
from microcred.errors import MicrocredError
from microcred.web.context import AppContext
from microcred.web.security import CSRF_HEADER, check_csrf, is_current

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SETUP_PATHS = ("/account/two-factor", "/sign-out", "/static/")
"""What a signed-in person who must first set up a second factor may still reach."""


def app_context(request: Request) -> AppContext:
    context: AppContext = request.app.state.context
    return context


def db_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back on error.

    The dependency is function-scoped so that the commit happens *before* the response is
    sent: a client that is told "done" (or redirected to the result) always finds it stored,
    and a commit that fails turns into an error response instead of a lost write.
    """
    session = app_context(request).sessions()
    request.state.db_session = session  # pages rendered by this request read through it too
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


DbSession = Annotated[Session, Depends(db_session, scope="function")]


def optional_principal(request: Request, session: DbSession) -> Principal | None:
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return accounts.principal_for_token(session, authorization[7:].strip())
    user_id = request.session.get("user_id")
    if not isinstance(user_id, str):
        return None
    try:
        user = accounts.get_user(session, user_id)
    except MicrocredError:
        request.session.clear()
        return None
    if not is_current(request, user):  # the password changed since this session began
        request.session.clear()
        return None
    if request.method not in SAFE_METHODS and request.url.path.startswith("/api/"):
        check_csrf(request, request.headers.get(CSRF_HEADER))
    principal = accounts.principal_for(session, user)
    settings = app_context(request).settings
    if not request.url.path.startswith(SETUP_PATHS) and twofactor.setup_required(
        session, settings, user, principal
    ):
        names = ", ".join(twofactor.requiring_organisations(session, settings, user))
        raise twofactor.TwoFactorSetupRequired(
            f"Set up two-factor authentication first ({names} requires it): /account/two-factor."
        )
    return principal


def required_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise AuthenticationFailed("Sign in or send an API token to do this.")
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
CurrentPrincipal = Annotated[Principal, Depends(required_principal)]
