"""Pydantic shapes of the LTI API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from microcred.lti.ags import SyncReport
from microcred.lti.models import LtiPlatform, LtiResourceLink
from microcred.lti.registrations import ToolUrls


class PlatformIn(BaseModel):
    name: str = Field(max_length=200, description="A name for staff, e.g. 'Moodle (production)'")
    issuer: str = Field(max_length=500, description="The platform's issuer (iss)")
    client_id: str = Field(max_length=255, description="The client id the LMS gave microcred")
    deployment_ids: list[str] = Field(description="The LMS deployment id(s) of the tool")
    auth_login_url: str = Field(max_length=2000, description="The platform's OIDC auth URL")
    auth_token_url: str = Field(max_length=2000, description="The platform's OAuth2 token URL")
    jwks_url: str = Field(default="", max_length=2000, description="The platform's JWKS URL")
    platform_jwks: dict[str, Any] | None = Field(
        default=None, description="The platform's public JWKS, when it has no JWKS URL"
    )


class ToolUrlsOut(BaseModel):
    login: str
    launch: str
    deep_linking: str
    jwks: str

    @classmethod
    def of(cls, urls: ToolUrls) -> ToolUrlsOut:
        return cls(
            login=urls.login, launch=urls.launch, deep_linking=urls.deep_linking, jwks=urls.jwks
        )


class PlatformOut(BaseModel):
    id: str
    name: str
    issuer: str
    client_id: str
    deployment_ids: list[str]
    auth_login_url: str
    auth_token_url: str
    jwks_url: str | None
    has_pasted_jwks: bool
    tool_kid: str
    tool_public_jwk: dict[str, Any]
    created_at: datetime
    tool: ToolUrlsOut

    @classmethod
    def of(cls, platform: LtiPlatform, urls: ToolUrls) -> PlatformOut:
        return cls(
            id=platform.id,
            name=platform.name,
            issuer=platform.issuer,
            client_id=platform.client_id,
            deployment_ids=list(platform.deployment_ids),
            auth_login_url=platform.auth_login_url,
            auth_token_url=platform.auth_token_url,
            jwks_url=platform.jwks_url,
            has_pasted_jwks=platform.platform_jwks is not None,
            tool_kid=platform.tool_kid,
            tool_public_jwk=dict(platform.tool_public_jwk),
            created_at=platform.created_at,
            tool=ToolUrlsOut.of(urls),
        )


class LinkOut(BaseModel):
    id: str
    platform_id: str
    deployment_id: str
    resource_link_id: str
    title: str
    context_title: str
    definition_id: str | None
    grade_services: bool = Field(description="Whether the LMS offered AGS for this link")
    last_synced_at: datetime | None

    @classmethod
    def of(cls, link: LtiResourceLink) -> LinkOut:
        return cls(
            id=link.id,
            platform_id=link.platform_id,
            deployment_id=link.deployment_id,
            resource_link_id=link.resource_link_id,
            title=link.title,
            context_title=link.context_title,
            definition_id=link.definition_id,
            grade_services=bool(link.ags_lineitems_url or link.ags_lineitem_url),
            last_synced_at=link.last_synced_at,
        )


class SyncOut(BaseModel):
    line_items: int
    matched_line_items: list[str]
    unmatched_line_items: list[str]
    grades_found: int
    skipped_unknown_learners: int
    imported: int
    unchanged: int
    awarded: int
    summary: str

    @classmethod
    def of(cls, report: SyncReport) -> SyncOut:
        inner = report.report
        return cls(
            line_items=report.line_items,
            matched_line_items=report.matched,
            unmatched_line_items=report.unmatched,
            grades_found=report.results,
            skipped_unknown_learners=report.unknown_learners,
            imported=len(inner.imported) if inner else 0,
            unchanged=len(inner.unchanged) if inner else 0,
            awarded=len(inner.awarded) if inner else 0,
            summary=report.summary(),
        )
