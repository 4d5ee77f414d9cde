"""The mail outbox: one row per message, pending until sent (or failed after its retries)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from microcred.db.base import Base, id_column, utcnow


class MailState(enum.StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class MailMessage(Base):
    """A message as it will be sent, on every attempt: addressee, subject and both bodies."""

    __tablename__ = "mail_messages"
    __table_args__ = (
        # The sender's one question: which pending messages are due?
        Index("ix_mail_messages_due", "state", "next_attempt_at"),
        Index("ix_mail_messages_created_at", "created_at"),
    )

    id: Mapped[str] = id_column()
    to_address: Mapped[str] = mapped_column(String(320))
    user_id: Mapped[str | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None, index=True
    )
    kind: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text, default=None)
    state: Mapped[MailState] = mapped_column(
        Enum(MailState, native_enum=False, length=20), default=MailState.pending
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=utcnow
    )
    """When it is next due; a sender that claims it moves this past its lease."""
    claim_token: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), default=None, unique=True)
    """Set by a caller that may run twice (a retried transaction): the second queueing is a
    no-op."""
    sender_name: Mapped[str | None] = mapped_column(String(120), default=None)
    """Who the mail is from, for its reader (an issuer's name): ``From: <name> via <the
    platform's name> <the platform's address>``. None: the platform's ``mail_from`` as it is."""

    @property
    def message_id(self) -> str:
        """The ``Message-ID`` header's local part: the same on every attempt."""
        return f"{self.id}"
