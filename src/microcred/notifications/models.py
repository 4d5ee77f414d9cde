"""A person's notifications: one row each, read or not."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from microcred.db.base import Base, id_column, utcnow
from microcred.i18n import from_json, translate


class Notification(Base):
    """Something that happened that the person should know about, with where to look."""

    __tablename__ = "notifications"
    __table_args__ = (
        # The page and the API list a person's newest first; the menu counts the unread ones.
        Index("ix_notifications_user_id_created_at", "user_id", "created_at"),
        Index("ix_notifications_user_id_read_at", "user_id", "read_at"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str | None] = mapped_column(String(500), default=None)
    message: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    """The title and body as message ids with parameters (:func:`microcred.i18n.to_json`), so
    that each reader gets them in their language; None for rows written before (migration
    0029), shown as stored. ``title`` and ``body`` keep the English, for the API."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)

    def shown(self, part: str) -> str:
        """The ``title`` or ``body`` in the current locale (as stored for an older row)."""
        stored: str = getattr(self, part)
        if self.message and part in self.message:
            return translate(from_json(self.message[part]))
        return stored


class MailPreference(Base):
    """Which groups of a person's notifications are also e-mailed (when the server sends mail):
    every group unless muted here, on the Notifications page or by a mail's unsubscribe link."""

    __tablename__ = "notification_mail_preferences"

    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    muted: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
