"""Employment reports: what a learner did after earning a credential here, in their own words.

Shown to the issuer only in aggregate (see :mod:`microcred.outcomes.kpis`), never by name.
"""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import Date, Enum, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from microcred.db.base import Base, TimestampMixin, id_column
from microcred.i18n import N_


class EmploymentStatus(enum.StrEnum):
    employed_related = "employed_related"
    employed_other = "employed_other"
    self_employed = "self_employed"
    further_study = "further_study"
    seeking_work = "seeking_work"
    prefer_not_to_say = "prefer_not_to_say"


EMPLOYMENT_STATUSES = {
    EmploymentStatus.employed_related: N_("Employed in a role related to this credential"),
    EmploymentStatus.employed_other: N_("Employed in another role"),
    EmploymentStatus.self_employed: N_("Self-employed"),
    EmploymentStatus.further_study: N_("In further study"),
    EmploymentStatus.seeking_work: N_("Seeking work"),
    EmploymentStatus.prefer_not_to_say: N_("Prefer not to say"),
}


class EmploymentReport(TimestampMixin, Base):
    """One learner's report for one credential they hold; they may update it or withdraw it."""

    __tablename__ = "outcome_employment_reports"
    __table_args__ = (
        UniqueConstraint("user_id", "credential_id"),
        Index("ix_outcome_employment_reports_organisation_id", "organisation_id"),
    )

    id: Mapped[str] = id_column()
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    credential_id: Mapped[str] = mapped_column(
        ForeignKey("issued_credentials.id", ondelete="CASCADE")
    )
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    """The credential's issuer (copied: the KPIs read an issuer's reports without a join)."""
    definition_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[EmploymentStatus] = mapped_column(
        Enum(EmploymentStatus, native_enum=False, length=20)
    )
    status_since: Mapped[date] = mapped_column(Date)
    job_title: Mapped[str | None] = mapped_column(String(200), default=None)


class CredentialEngagement(Base):
    """How often one credential was looked at, verified or shared, per day and kind: counts
    only — who looked, and from where, is never stored."""

    __tablename__ = "credential_engagement"
    __table_args__ = (
        Index("ix_credential_engagement_organisation_id_day", "organisation_id", "day"),
    )

    credential_id: Mapped[str] = mapped_column(
        ForeignKey("issued_credentials.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"))
    count: Mapped[int] = mapped_column(default=0)
