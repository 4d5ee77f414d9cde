"""Who found whom: one row per learner shown on a results page, for the learner's own view."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from microcred.db.base import Base, id_column, utcnow


class TalentSighting(Base):
    """A learner appeared in an employer's search results (the full search is in the audit log).

    Read by the learner newest first through (user_id, seen_at).
    """

    __tablename__ = "talent_sightings"
    __table_args__ = (Index("ix_talent_sightings_user_id_seen_at", "user_id", "seen_at"),)

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    organisation_id: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), default=None
    )
    """The employer searching; None for a platform administrator acting for no organisation."""
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
