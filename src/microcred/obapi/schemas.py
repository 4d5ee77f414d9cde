"""What the OB 3.0 API's OAuth endpoints and resource endpoints answer (Pydantic)."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from pydantic import BaseModel, Field

from microcred.obapi.models import ApiClient
from microcred.obapi.protocol import AUTH_METHOD, GRANT_TYPES


class StatusInfoOut(BaseModel):
    """Imsx_StatusInfo: every error of the resource endpoints."""

    imsx_codeMajor: str
    imsx_severity: str
    imsx_description: str | None = None
    imsx_codeMinor: dict[str, Any] | None = None


class RegistrationOut(BaseModel):
    """The client information response of RFC 7591 §3.2.1: the registered metadata echoed,
    with the client's credentials."""

    client_id: str
    client_secret: str = Field(description="Shown once; stored hashed")
    client_id_issued_at: int
    client_secret_expires_at: int = Field(description="0: it does not expire")
    client_name: str
    client_uri: str
    logo_uri: str
    tos_uri: str
    policy_uri: str
    software_id: str
    software_version: str
    redirect_uris: list[str]
    token_endpoint_auth_method: str = AUTH_METHOD
    grant_types: list[str] = Field(default_factory=lambda: list(GRANT_TYPES))
    response_types: list[str] = Field(default_factory=lambda: ["code"])
    scope: str

    @classmethod
    def of(cls, client: ApiClient, secret: str) -> RegistrationOut:
        issued = client.created_at
        issued = issued if issued.tzinfo else issued.replace(tzinfo=UTC)
        return cls(
            client_id=client.id,
            client_secret=secret,
            client_id_issued_at=int(issued.timestamp()),
            client_secret_expires_at=0,
            client_name=client.client_name,
            client_uri=client.client_uri,
            logo_uri=client.logo_uri,
            tos_uri=client.tos_uri,
            policy_uri=client.policy_uri,
            software_id=client.software_id,
            software_version=client.software_version,
            redirect_uris=list(client.redirect_uris),
            scope=" ".join(client.scopes),
        )


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int = Field(description="Seconds the access token can be used for")
    refresh_token: str
    scope: str


class CredentialsOut(BaseModel):
    """GetOpenBadgeCredentialsResponse (an empty array is left out of the answer)."""

    credential: list[dict[str, Any]] = Field(default_factory=list)
    compactJwsString: list[str] = Field(default_factory=list)
