"""Webhooks: an organisation's admins manage endpoints and deliveries (/manage/webhooks, API)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from microcred.accounts.models import Organisation
from microcred.accounts.service import Principal
from microcred.market import charts
from microcred.web.deps import CurrentPrincipal, DbSession, app_context
from microcred.web.form_errors import errors_on_inputs
from microcred.web.rendering import render
from microcred.web.security import check_csrf
from microcred.webhooks import events
from microcred.webhooks import service as webhooks
from microcred.webhooks.errors import WebhookError, WebhookForbidden
from microcred.webhooks.schemas import (
    DeliveryOut,
    SecretOut,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatch,
)

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["webhooks"])
routers = [pages, api]

Slug = Annotated[str, Form(max_length=80)]
CsrfToken = Annotated[str, Form()]


def _organisations(
    session: Session, principal: Principal, slug: str | None
) -> tuple[list[Organisation], Organisation]:
    organisations = webhooks.managed_organisations(session, principal)
    if not organisations:
        raise WebhookForbidden("Only an organisation's admins manage its webhooks.")
    chosen = next((o for o in organisations if o.slug == slug), organisations[0])
    return organisations, chosen


def _chart(session: Session, principal: Principal, slug: str) -> Markup | None:
    days = webhooks.daily_counts(session, principal, slug)
    rows = [(f"{d.day:%d %b} delivered", float(d.delivered)) for d in days if d.delivered] + [
        (f"{d.day:%d %b} failed", float(d.failed)) for d in days if d.failed
    ]
    if not rows:
        return None
    return Markup(
        charts.bar_chart("Deliveries per day", rows, value_format="{:.0f}")
        + charts.figures("Deliveries per day", ("Day", "Deliveries"), rows, "{:.0f}")
    )


WEBHOOK_INPUTS = {"url": "url", "events": "events", "description": "description"}
"""The endpoint form's input for each field a refusal names."""


def _page(
    request: Request,
    session: Session,
    principal: Principal,
    slug: str | None,
    *,
    secret: tuple[str, str] | None = None,
    error: WebhookError | None = None,
    form: dict[str, object] | None = None,
    notice: str = "",
) -> HTMLResponse:
    organisations, current = _organisations(session, principal, slug)
    subscriptions = webhooks.subscriptions_of(session, principal, current.slug)
    deliveries = {
        s.id: webhooks.deliveries_of(session, principal, current.slug, s.id, limit=10)
        for s in subscriptions
    }
    return render(
        request, "webhooks/manage.html", principal,
        status_code=error.status_code if error else 200, organisations=organisations,
        current=current, subscriptions=subscriptions, deliveries=deliveries,
        event_types=events.EVENT_TYPES, secret=secret, notice=notice,
        errors=errors_on_inputs(error, WEBHOOK_INPUTS) if error else {},
        form=form or {"url": "", "events": [], "description": ""},
        chart=_chart(session, principal, current.slug),
    )  # fmt: skip


@pages.get("/manage/webhooks", response_class=HTMLResponse)
def manage_webhooks(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    organisation: Annotated[str | None, Query(max_length=80)] = None,
    done: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    notices = {
        "ping": "A test event is queued; it goes out within seconds.",
        "enable": "The endpoint is enabled.",
        "disable": "The endpoint is disabled: events wait until it is enabled again.",
        "delete": "The endpoint is deleted.",
        "retry": "The delivery is due again now.",
    }
    return _page(request, session, principal, organisation, notice=notices.get(done, ""))


@pages.post("/manage/webhooks", response_class=HTMLResponse)
def create_webhook(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    organisation: Slug,
    csrf_token: CsrfToken = "",
    url: Annotated[str, Form(max_length=2000)] = "",
    event: Annotated[list[str] | None, Form()] = None,
    description: Annotated[str, Form(max_length=webhooks.MAX_DESCRIPTION)] = "",
) -> HTMLResponse:
    check_csrf(request, csrf_token)
    settings = app_context(request).settings
    data = webhooks.SubscriptionInput(url, event or [], description)
    try:
        subscription, secret = webhooks.create_subscription(
            session, principal, settings, organisation, data
        )
    except WebhookForbidden:
        raise
    except WebhookError as error:
        form: dict[str, object] = {"url": url, "events": event or [], "description": description}
        return _page(request, session, principal, organisation, error=error, form=form)
    return _page(request, session, principal, organisation, secret=(subscription.id, secret))


@pages.post("/manage/webhooks/{subscription_id}", response_model=None)
def change_webhook(
    subscription_id: str,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    organisation: Slug,
    action: Annotated[str, Form(max_length=20)],
    csrf_token: CsrfToken = "",
) -> HTMLResponse | RedirectResponse:
    """One button of an endpoint: ping, enable, disable, rotate (shows the new secret), delete."""
    check_csrf(request, csrf_token)
    settings = app_context(request).settings
    if action == "rotate":
        secret = webhooks.rotate_secret(session, principal, settings, organisation, subscription_id)
        return _page(request, session, principal, organisation, secret=(subscription_id, secret))
    if action == "ping":
        webhooks.send_ping(session, principal, organisation, subscription_id)
    elif action in ("enable", "disable"):
        webhooks.update_subscription(
            session, principal, settings, organisation, subscription_id, active=action == "enable"
        )
    elif action == "delete":
        webhooks.delete_subscription(session, principal, organisation, subscription_id)
    else:
        raise WebhookError(f"Unknown action '{action}'.")
    return RedirectResponse(f"/manage/webhooks?organisation={organisation}&done={action}", 303)


@pages.post("/manage/webhooks/deliveries/{delivery_id}/retry")
def retry_webhook_delivery(
    delivery_id: str,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    organisation: Slug,
    csrf_token: CsrfToken = "",
) -> RedirectResponse:
    check_csrf(request, csrf_token)
    webhooks.retry_delivery(session, principal, organisation, delivery_id)
    return RedirectResponse(f"/manage/webhooks?organisation={organisation}&done=retry", 303)


# --- JSON API ----------------------------------------------------------------------------------

SCOPE_NOTE = "(organisation admins, scope webhooks:manage)"


@api.get(
    "/organisations/{slug}/webhooks",
    response_model=list[SubscriptionOut],
    summary=f"An organisation's webhook endpoints {SCOPE_NOTE}",
)
def api_list(slug: str, session: DbSession, principal: CurrentPrincipal) -> list[SubscriptionOut]:
    return [SubscriptionOut.of(s) for s in webhooks.subscriptions_of(session, principal, slug)]


@api.post(
    "/organisations/{slug}/webhooks",
    response_model=SubscriptionCreated,
    status_code=201,
    summary=f"Register a webhook endpoint; the answer carries its secret, once {SCOPE_NOTE}",
)
def api_create(
    slug: str,
    body: SubscriptionIn,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
) -> SubscriptionCreated:
    """Events: credential.issued, credential.revoked, credential.suspended,
    credential.reinstated, issuance_job.completed, pathway.awarded. Deliveries are signed per
    Standard Webhooks with the returned ``whsec_`` secret."""
    data = webhooks.SubscriptionInput(body.url, body.events, body.description, body.active)
    settings = app_context(request).settings
    subscription, secret = webhooks.create_subscription(session, principal, settings, slug, data)
    return SubscriptionCreated(**SubscriptionOut.of(subscription).model_dump(), secret=secret)


@api.patch(
    "/organisations/{slug}/webhooks/{subscription_id}",
    response_model=SubscriptionOut,
    summary=f"Change a webhook endpoint (URL, events, description, active) {SCOPE_NOTE}",
)
def api_update(
    slug: str,
    subscription_id: str,
    body: SubscriptionPatch,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
) -> SubscriptionOut:
    subscription = webhooks.update_subscription(
        session, principal, app_context(request).settings, slug, subscription_id,
        url=body.url, event_types=body.events, description=body.description, active=body.active,
    )  # fmt: skip
    return SubscriptionOut.of(subscription)


@api.delete(
    "/organisations/{slug}/webhooks/{subscription_id}",
    status_code=204,
    summary=f"Delete a webhook endpoint and its deliveries {SCOPE_NOTE}",
)
def api_delete(
    slug: str, subscription_id: str, session: DbSession, principal: CurrentPrincipal
) -> Response:
    webhooks.delete_subscription(session, principal, slug, subscription_id)
    return Response(status_code=204)


@api.post(
    "/organisations/{slug}/webhooks/{subscription_id}/rotate-secret",
    response_model=SecretOut,
    summary=f"Replace an endpoint's signing secret; the new one is shown once {SCOPE_NOTE}",
)
def api_rotate(
    slug: str,
    subscription_id: str,
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
) -> SecretOut:
    settings = app_context(request).settings
    return SecretOut(
        secret=webhooks.rotate_secret(session, principal, settings, slug, subscription_id)
    )


@api.post(
    "/organisations/{slug}/webhooks/{subscription_id}/ping",
    response_model=DeliveryOut,
    status_code=202,
    summary=f"Queue a test event (ping) to one endpoint {SCOPE_NOTE}",
)
def api_ping(
    slug: str, subscription_id: str, session: DbSession, principal: CurrentPrincipal
) -> DeliveryOut:
    return DeliveryOut.of(webhooks.send_ping(session, principal, slug, subscription_id))


@api.get(
    "/organisations/{slug}/webhooks/{subscription_id}/deliveries",
    response_model=list[DeliveryOut],
    summary=f"An endpoint's latest deliveries, newest first {SCOPE_NOTE}",
)
def api_deliveries(
    slug: str,
    subscription_id: str,
    session: DbSession,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[DeliveryOut]:
    found = webhooks.deliveries_of(session, principal, slug, subscription_id, limit=limit)
    return [DeliveryOut.of(d) for d in found]


@api.post(
    "/organisations/{slug}/webhooks/deliveries/{delivery_id}/retry",
    response_model=DeliveryOut,
    summary=f"Make a pending or failed delivery due now {SCOPE_NOTE}",
)
def api_retry(
    slug: str, delivery_id: str, session: DbSession, principal: CurrentPrincipal
) -> DeliveryOut:
    return DeliveryOut.of(webhooks.retry_delivery(session, principal, slug, delivery_id))
