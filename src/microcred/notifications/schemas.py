"""Notifications at the API boundary."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from microcred.notifications.models import Notification


class NotificationOut(BaseModel):
    id: str
    kind: str = Field(
        description="credential.issued, credential.revoked, credential.suspended, "
        "credential.reinstated, credential.expiring, pathway.awarded, pathway_award.review, "
        "issuance_job.completed, endorsement.received, endorsement.accepted, "
        "endorsement.declined, endorsement.withdrawn, app.connected, wallet.credential_pushed "
        "assessment.survey_due or outcomes.report_due"
    )
    title: str
    body: str
    link: str | None = Field(description="Where to look, a path on this server")
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, row: Notification) -> NotificationOut:
        return cls(
            id=row.id,
            kind=row.kind,
            title=row.title,
            body=row.body,
            link=row.link,
            created_at=row.created_at,
            read_at=row.read_at,
        )


class NotificationsOut(BaseModel):
    items: list[NotificationOut]
    unread: int = Field(description="Unread notifications in all, not only on this page")
    next_before: str | None = Field(description="Pass as `before` for the next, older page")


class MarkReadIn(BaseModel):
    ids: list[str] | None = Field(
        default=None, max_length=500, description="The notifications to mark read; omit for all"
    )


class MarkedOut(BaseModel):
    marked: int


class MailChoicesOut(BaseModel):
    groups: list[str] = Field(description="The groups of your notifications that are e-mailed")
    available: dict[str, str] = Field(description="Every group, with what it holds")
    mail_enabled: bool = Field(
        description="Whether this server sends e-mail at all (if not, nothing is e-mailed)"
    )


class MailChoicesIn(BaseModel):
    groups: list[str] = Field(
        max_length=10,
        description="E-mail these groups (credentials, pathways, account, surveys, "
        "organisation); mute the others",
    )
