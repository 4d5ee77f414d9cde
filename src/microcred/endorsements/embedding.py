"""What issuance embeds: the accepted, unwithdrawn, unexpired endorsements of an achievement and
of its issuer, read in one indexed query per definition template (not per credential).

Imports only this capability's tables, so the credentials capability can call it without an
import cycle (the endorsements service builds on credentials).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from microcred.db.base import utcnow
from microcred.endorsements.models import Endorsement, EndorsementState

_COLUMNS = Endorsement.__table__.c
_ACCEPTED = (
    select(_COLUMNS.subject_id, _COLUMNS.document)
    .where(
        _COLUMNS.subject_id.in_(bindparam("subjects", expanding=True)),
        _COLUMNS.state == EndorsementState.accepted.value,
        or_(_COLUMNS.valid_until.is_(None), _COLUMNS.valid_until > bindparam("now")),
    )
    .order_by(_COLUMNS.accepted_at, _COLUMNS.id)
)


def accepted_documents(
    session: Session, subject_ids: list[str], now: datetime | None = None
) -> dict[str, list[dict[str, Any]]]:
    """The signed endorsement credentials now in force, by subject id (oldest accepted first)."""
    found: dict[str, list[dict[str, Any]]] = {}
    rows = session.execute(_ACCEPTED, {"subjects": subject_ids, "now": now or utcnow()})
    for subject_id, document in rows:
        found.setdefault(subject_id, []).append(document)
    return found


def embed_endorsements(session: Session, *targets: MutableMapping[str, Any]) -> None:
    """Give each target (an achievement, an issuer profile) its ``endorsement`` list (left out
    where there is none), as every credential issued from them from now on will carry; one
    query for all of them."""
    found = accepted_documents(session, [str(target["id"]) for target in targets])
    for target in targets:
        documents = found.get(str(target["id"]))
        if documents:
            target["endorsement"] = documents
