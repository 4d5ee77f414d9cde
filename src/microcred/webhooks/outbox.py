"""The transactional outbox: an event becomes delivery rows in the transaction of the change.

A rolled-back issuance leaves no delivery behind, a committed one never loses its delivery. Each
call asks whether the organisation concerned listens for the event (one indexed query on the
driver's cursor, about 20 µs, whatever the number of credentials); with no subscription that
is all it costs. Rows go in with one
executemany per call (:func:`microcred.db.fastinsert.insert_rows`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, select
from sqlalchemy.orm import Session

from microcred.accounts.models import Organisation
from microcred.credentials.models import BulkJob, IssuedCredential
from microcred.db.base import new_id, utcnow
from microcred.db.fastinsert import insert_rows
from microcred.db.prepared import PreparedRead
from microcred.endorsements.models import Endorsement
from microcred.pathways.models import Pathway, PathwayAward
from microcred.settings import Settings
from microcred.webhooks import events
from microcred.webhooks.models import DeliveryState, WebhookDelivery, WebhookSubscription

_PAYLOAD_COLUMNS = (
    IssuedCredential.id, IssuedCredential.organisation_id, IssuedCredential.definition_id,
    IssuedCredential.achievement_name, IssuedCredential.recipient_email,
    IssuedCredential.recipient_did, IssuedCredential.issued_at, IssuedCredential.bulk_job_id,
)  # fmt: skip


_SUBSCRIPTIONS = WebhookSubscription.__table__.c
_LISTENING = PreparedRead(
    select(_SUBSCRIPTIONS.id, _SUBSCRIPTIONS.events).where(
        _SUBSCRIPTIONS.organisation_id == bindparam("organisation_id"),
        _SUBSCRIPTIONS.active.is_(True),
    )
)
"""On the driver's cursor: through ``Session.execute`` this question cost a tenth of a
millisecond more per issuance, with nobody listening."""


def subscribers(
    session: Session, organisation_ids: Iterable[str], event_type: str
) -> dict[str, list[str]]:
    """The active subscriptions wanting ``event_type``, by organisation: one indexed query per
    organisation concerned (a call or a bulk batch concerns one, almost always)."""
    found: dict[str, list[str]] = {}
    for organisation_id in sorted(set(organisation_ids)):
        rows = _LISTENING.all(session, {"organisation_id": organisation_id})
        wanted = [subscription_id for subscription_id, wants in rows if event_type in wants]
        if wanted:
            found[organisation_id] = wanted
    return found


def delivery_row(
    subscription_id: str, organisation_id: str, event_type: str, body: str, now: datetime
) -> dict[str, Any]:
    """A pending delivery's column values, due at once (every column: see fastinsert)."""
    return {
        "id": new_id(), "subscription_id": subscription_id, "organisation_id": organisation_id,
        "event_type": event_type, "body": body, "state": DeliveryState.pending, "attempts": 0,
        "next_attempt_at": now, "claim_token": None, "last_status_code": None,
        "last_error": None, "created_at": now, "delivered_at": None,
    }  # fmt: skip


def _write(
    session: Session,
    listening: Mapping[str, list[str]],
    messages: Iterable[tuple[str, str, str]],
    now: datetime,
) -> int:
    """Insert one delivery per (organisation, event type, body) message and subscription."""
    rows = [
        delivery_row(subscription_id, organisation_id, event_type, body, now)
        for organisation_id, event_type, body in messages
        for subscription_id in listening.get(organisation_id, ())
    ]
    insert_rows(session, cast(Table, WebhookDelivery.__table__), rows)
    return len(rows)


def record(session: Session, organisation_id: str, event_type: str, data: Mapping[str, Any]) -> int:
    """One event of an organisation to every subscription wanting it; how many deliveries."""
    listening = subscribers(session, [organisation_id], event_type)
    if not listening:
        return 0
    now = utcnow()
    message = (organisation_id, event_type, events.body(event_type, now, data))
    return _write(session, listening, [message], now)


def credentials_issued(
    session: Session, settings: Settings, issued: Sequence[Mapping[str, Any]]
) -> int:
    """``credential.issued`` for credentials just written (their rows' column values)."""
    event_type = events.CREDENTIAL_ISSUED
    listening = subscribers(session, (c["organisation_id"] for c in issued), event_type)
    if not listening:
        return 0
    now = utcnow()
    messages = (
        (c["organisation_id"], event_type,
         events.body(event_type, now, events.credential_data(settings.base_url, c, state="active")))
        for c in issued
        if c["organisation_id"] in listening
    )  # fmt: skip
    return _write(session, listening, messages, now)


def credentials_changed(
    session: Session,
    settings: Settings,
    changed: Sequence[IssuedCredential],
    state: str,
    reason: str,
) -> int:
    """``credential.revoked`` / ``suspended`` / ``reinstated`` (by the new ``state``) for
    credentials whose status just changed; their details are read in one query, and only when
    someone listens."""
    event_type = events.STATUS_EVENTS[state]
    listening = subscribers(session, {c.organisation_id for c in changed}, event_type)
    if not listening:
        return 0
    ids = [c.id for c in changed if c.organisation_id in listening]
    now = utcnow()
    messages = []
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(*_PAYLOAD_COLUMNS).where(IssuedCredential.id.in_(ids[start : start + 500]))
        ).mappings()
        for row in rows:
            values = dict(row)
            data = events.credential_data(settings.base_url, values, state=state, reason=reason)
            messages.append(
                (row["organisation_id"], event_type, events.body(event_type, now, data))
            )
    return _write(session, listening, messages, now)


def issuance_job_completed(session: Session, settings: Settings, job: BulkJob) -> int:
    """``issuance_job.completed`` when a bulk job has handled its last row."""
    base = settings.base_url.rstrip("/")
    data = {
        "issuance_job_id": job.id,
        "source_name": job.source_name,
        "state": job.state.value,
        "rows": job.total_rows,
        "issued": job.issued_count,
        "existing": job.existing_count,
        "errors": job.error_count,
        "finished_at": events.iso(job.finished_at or utcnow()),
        "links": {"page": f"{base}/manage/credentials/jobs/{job.id}"},
    }
    return record(session, job.organisation_id, events.ISSUANCE_JOB_COMPLETED, data)


def pathway_awarded(
    session: Session, settings: Settings, award: PathwayAward, pathway: Pathway, email: str
) -> int:
    """``pathway.awarded`` when a learner completes a pathway (its qualification and CLR)."""
    base = settings.base_url.rstrip("/")
    data = {
        "award_id": award.id,
        "pathway_id": pathway.id,
        "pathway_name": pathway.name,
        "credential_id": award.credential_id,
        "recipient": {"email_sha256": events.email_hash(email)},
        "awarded_at": events.iso(award.awarded_at),
        "links": {
            "page": f"{base}/pathways/{pathway.id}",
            "clr": f"{base}/pathways/awards/{award.id}",
        },
    }
    return record(session, pathway.organisation_id, events.PATHWAY_AWARDED, data)


def endorsement_event(
    session: Session,
    settings: Settings,
    organisation_id: str,
    event_type: str,
    endorsement: Endorsement,
) -> int:
    """``endorsement.*`` to one side of an endorsement: received and withdrawn go to the
    endorsed organisation, accepted and declined to the endorser."""
    base = settings.base_url.rstrip("/")
    query = select(Organisation.id, Organisation.name).where(
        Organisation.id.in_([endorsement.endorser_id, endorsement.endorsed_id])
    )
    names = {organisation_id: name for organisation_id, name in session.execute(query)}
    data = {
        "endorsement_id": endorsement.id,
        "state": endorsement.state.value,
        "subject": {
            "kind": endorsement.subject_kind.value,
            "id": endorsement.subject_id,
            "name": endorsement.subject_name,
            "definition_id": endorsement.definition_id,
            "definition_version": endorsement.definition_version,
        },
        "endorser": {"id": endorsement.endorser_id, "name": names.get(endorsement.endorser_id)},
        "endorsed": {"id": endorsement.endorsed_id, "name": names.get(endorsement.endorsed_id)},
        "comment": endorsement.comment,
        "valid_until": events.iso(endorsement.valid_until) if endorsement.valid_until else None,
        "links": {"credential": f"{base}/endorsements/{endorsement.id}"},
    }
    if endorsement.withdrawn_reason:
        data["reason"] = endorsement.withdrawn_reason
    return record(session, organisation_id, event_type, data)
