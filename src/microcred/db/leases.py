"""Claiming one due row of an outbox (mail, webhook deliveries) for one sender among several.

An outbox row is due when its state is the pending one and ``next_attempt_at`` has passed. A
sender claims it with one conditional UPDATE that moves ``next_attempt_at`` past a lease and
sets a fresh ``claim_token``, in a transaction of its own: of several senders (web workers,
cron) exactly one sees its row updated, on SQLite and PostgreSQL alike. A sender that dies
mid-send leaves a row that falls due again when the lease ends (at least once, never lost); the
outcome is recorded only if the row still carries the sender's token.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker


def claim_row(
    sessions: sessionmaker[Session],
    model: Any,
    row_id: str,
    pending: Any,
    now: datetime,
    lease: timedelta,
) -> str | None:
    """Claim the row ``row_id`` of ``model`` (a mapped class with ``id``, ``state``,
    ``next_attempt_at`` and ``claim_token`` columns) if it is ``pending`` and due at ``now``:
    the claim token, or None when another sender has it or it is no longer due."""
    token = secrets.token_hex(16)
    with sessions.begin() as session:
        claimed = session.execute(
            update(model)
            .where(model.id == row_id, model.state == pending, model.next_attempt_at <= now)
            .values(next_attempt_at=now + lease, claim_token=token)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return None
    return token
