"""Event types and their payloads (``{"type", "timestamp", "data"}``, Standard Webhooks' shape).

Plain functions over plain values: what an issuer's system learns about a credential is what the
issuer already knows, minus the recipient's e-mail address (a SHA-256 of it stands in, which the
issuer can match against its own records) and minus any private key or secret.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

CREDENTIAL_ISSUED = "credential.issued"
CREDENTIAL_REVOKED = "credential.revoked"
CREDENTIAL_SUSPENDED = "credential.suspended"
CREDENTIAL_REINSTATED = "credential.reinstated"
ISSUANCE_JOB_COMPLETED = "issuance_job.completed"
PATHWAY_AWARDED = "pathway.awarded"
ENDORSEMENT_RECEIVED = "endorsement.received"
ENDORSEMENT_ACCEPTED = "endorsement.accepted"
ENDORSEMENT_DECLINED = "endorsement.declined"
ENDORSEMENT_WITHDRAWN = "endorsement.withdrawn"
PING = "ping"

EVENT_TYPES = {
    CREDENTIAL_ISSUED: "A credential was issued",
    CREDENTIAL_REVOKED: "A credential was revoked",
    CREDENTIAL_SUSPENDED: "A credential was suspended",
    CREDENTIAL_REINSTATED: "A suspended credential was reinstated",
    ISSUANCE_JOB_COMPLETED: "A bulk issuance job finished",
    PATHWAY_AWARDED: "A learner was awarded a pathway",
    ENDORSEMENT_RECEIVED: "Another organisation endorsed yours or one of its credentials",
    ENDORSEMENT_ACCEPTED: "An organisation accepted your endorsement",
    ENDORSEMENT_DECLINED: "An organisation declined your endorsement",
    ENDORSEMENT_WITHDRAWN: "An endorsement of yours was withdrawn by its endorser",
}
"""What a subscription may ask for; ``ping`` is sent only on request, to one endpoint."""

STATUS_EVENTS = {
    "revoked": CREDENTIAL_REVOKED,
    "suspended": CREDENTIAL_SUSPENDED,
    "active": CREDENTIAL_REINSTATED,
}
"""The event of a status change, by the credential's new state."""


def iso(moment: datetime) -> str:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def body(event_type: str, at: datetime, data: Mapping[str, Any]) -> str:
    """The message as sent and signed: minified JSON, keys in a stable order."""
    message = {"type": event_type, "timestamp": iso(at), "data": dict(data)}
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False, default=str)


def email_hash(email: str | None) -> str | None:
    if not email:
        return None
    return "sha256$" + hashlib.sha256(email.strip().lower().encode()).hexdigest()


def credential_data(
    base_url: str,
    credential: Mapping[str, Any],
    *,
    state: str,
    reason: str | None = None,
) -> dict[str, Any]:
    """A credential event's ``data`` from its row's column values (id, organisation_id,
    definition_id, achievement_name, recipient_email, recipient_did, issued_at, bulk_job_id)."""
    base = base_url.rstrip("/")
    credential_id = credential["id"]
    data: dict[str, Any] = {
        "credential_id": credential_id,
        "definition_id": credential["definition_id"],
        "definition_name": credential["achievement_name"],
        "recipient": {
            "email_sha256": email_hash(credential.get("recipient_email")),
            "did": credential.get("recipient_did"),
        },
        "state": state,
        "issued_at": iso(credential["issued_at"]),
        "links": {
            "page": f"{base}/credentials/{credential_id}",
            "json": f"{base}/credentials/{credential_id}/credential.json",
        },
    }
    if reason is not None:
        data["reason"] = reason
    if credential.get("bulk_job_id"):
        data["issuance_job_id"] = credential["bulk_job_id"]
    return data
