"""Endorsements API input and output."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from microcred.accounts.models import Organisation
from microcred.endorsements.documents import MAX_COMMENT
from microcred.endorsements.models import Endorsement


class EndorseIn(BaseModel):
    """Endorse exactly one of a published credential definition or an issuer."""

    definition_id: str | None = Field(
        None, max_length=32, description="A published definition (its current version)"
    )
    issuer: str | None = Field(None, max_length=80, description="An issuer's slug")
    comment: str = Field(max_length=MAX_COMMENT, description="What you vouch for (Markdown)")
    valid_until: datetime | None = Field(None, description="When the endorsement ends")
    format: Literal["eddsa-rdfc-2022", "eddsa-jcs-2022"] = "eddsa-rdfc-2022"


class WithdrawIn(BaseModel):
    reason: str = Field(max_length=1000, description="Kept and audited, not published")


class OrganisationRef(BaseModel):
    slug: str
    name: str


class EndorsementOut(BaseModel):
    id: str
    credential_url: str = Field(description="The credential's id; public once accepted")
    state: str = Field(description="pending, accepted, declined or withdrawn")
    subject_kind: str = Field(description="definition or issuer")
    subject_id: str = Field(description="credentialSubject.id: an achievement id or an issuer DID")
    subject_name: str
    definition_id: str | None
    definition_version: int | None
    endorser: OrganisationRef
    endorsed: OrganisationRef
    comment: str
    valid_from: datetime
    valid_until: datetime | None
    created_at: datetime
    decided_at: datetime | None
    withdrawn_at: datetime | None
    withdrawn_reason: str | None

    @classmethod
    def of(
        cls,
        endorsement: Endorsement,
        organisations: dict[str, Organisation],
    ) -> EndorsementOut:
        def ref(organisation_id: str) -> OrganisationRef:
            org = organisations[organisation_id]
            return OrganisationRef(slug=org.slug, name=org.name)

        return cls(
            id=endorsement.id,
            credential_url=str(endorsement.document.get("id", "")),
            state=endorsement.state.value,
            subject_kind=endorsement.subject_kind.value,
            subject_id=endorsement.subject_id,
            subject_name=endorsement.subject_name,
            definition_id=endorsement.definition_id,
            definition_version=endorsement.definition_version,
            endorser=ref(endorsement.endorser_id),
            endorsed=ref(endorsement.endorsed_id),
            comment=endorsement.comment,
            valid_from=endorsement.valid_from,
            valid_until=endorsement.valid_until,
            created_at=endorsement.created_at,
            decided_at=endorsement.decided_at,
            withdrawn_at=endorsement.withdrawn_at,
            withdrawn_reason=endorsement.withdrawn_reason,
        )


EndorsementCredentialOut = dict[str, Any]
"""The signed OB 3.0 EndorsementCredential, as JSON."""
