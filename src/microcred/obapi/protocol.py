"""The pure parts of the OB 3.0 API and its OAuth 2.0 profile: scopes, PKCE (RFC 7636), the
client metadata check (RFC 7591 as the OB 3.0 spec profiles it), paging links, Imsx_StatusInfo
bodies and the Service Description Document. Plain functions over plain data."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

BASE_PATH = "/ims/ob/v3p0"
SCOPE_PREFIX = "https://purl.imsglobal.org/spec/ob/v3p0/scope/"
CREDENTIAL_READONLY = SCOPE_PREFIX + "credential.readonly"
CREDENTIAL_UPSERT = SCOPE_PREFIX + "credential.upsert"
PROFILE_READONLY = SCOPE_PREFIX + "profile.readonly"
PROFILE_UPDATE = SCOPE_PREFIX + "profile.update"
SCOPES = {
    CREDENTIAL_READONLY: "Permission to read OpenBadgeCredentials for the authenticated entity.",
    CREDENTIAL_UPSERT: "Permission to create or update OpenBadgeCredentials for the "
    "authenticated entity.",
    PROFILE_READONLY: "Permission to read the profile for the authenticated entity.",
    PROFILE_UPDATE: "Permission to update the profile for the authenticated entity.",
}
SCOPE_WORDS = {
    CREDENTIAL_READONLY: "See the credentials issued to you here and those in your wallet",
    CREDENTIAL_UPSERT: "Add credentials to your wallet, or replace one there with a newer copy",
    PROFILE_READONLY: "See your name and e-mail address",
    PROFILE_UPDATE: "Change your display name",
}
"""What the consent page and the account page say each scope lets an app do."""
AUTH_METHOD = "client_secret_basic"
GRANT_TYPES = ("authorization_code", "refresh_token")
PKCE_METHOD = "S256"
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")
MAX_TEXT = 200
MAX_URI = 500
MAX_REDIRECT_URIS = 10


class ProtocolError(Exception):
    """An OAuth 2.0 error code and its description."""

    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error = error
        self.description = description


# --- scopes and PKCE -------------------------------------------------------------------------


def parse_scope(value: str | None) -> list[str]:
    """A space-separated scope string as a list (order kept, duplicates dropped); unknown
    scopes are refused with ``invalid_scope``."""
    scopes = list(dict.fromkeys((value or "").split()))
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown:
        raise ProtocolError("invalid_scope", f"Unknown scope: {' '.join(unknown)}")
    return scopes


def s256(verifier: str) -> str:
    """The S256 code challenge of a code verifier: BASE64URL(SHA256(ASCII(verifier)))."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def is_code_challenge(value: str) -> bool:
    return bool(_CHALLENGE.fullmatch(value))


def verifier_matches(verifier: str | None, challenge: str) -> bool:
    """Whether a code verifier (43–128 unreserved characters, RFC 7636 §4.1) hashes to the
    stored S256 challenge; compared in constant time."""
    if not verifier or not _VERIFIER.fullmatch(verifier):
        return False
    return hmac.compare_digest(s256(verifier), challenge)


# --- client metadata -------------------------------------------------------------------------


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _web_url(value: Any, name: str, error: str = "invalid_client_metadata") -> str:
    """An absolute https URL (http only on a loopback host), without a fragment."""
    if not isinstance(value, str) or not value.strip():
        raise ProtocolError(error, f"{name} is required: an absolute https URL.")
    url = value.strip()
    if len(url) > MAX_URI:
        raise ProtocolError(error, f"{name} is longer than {MAX_URI} characters.")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ProtocolError(error, f"{name} must be an absolute https URL: {url!r}.")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ProtocolError(error, f"{name} must use https (http only for loopback): {url!r}.")
    if parts.fragment or "#" in url:
        raise ProtocolError(error, f"{name} must not have a fragment: {url!r}.")
    return url


def _text(value: Any, name: str, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProtocolError("invalid_client_metadata", f"{name} is required.")
    cleaned = " ".join(value.split())
    if len(cleaned) > limit:
        raise ProtocolError("invalid_client_metadata", f"{name} is over {limit} characters.")
    return cleaned


def _string_list(value: Any, name: str, default: Sequence[str]) -> list[str]:
    if value is None:
        return list(default)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ProtocolError("invalid_client_metadata", f"{name} must be an array of strings.")
    return list(dict.fromkeys(value))


@dataclass(frozen=True)
class ClientMetadata:
    client_name: str
    client_uri: str
    logo_uri: str
    tos_uri: str
    policy_uri: str
    software_id: str
    software_version: str
    redirect_uris: list[str]
    scopes: list[str]


def client_metadata(body: Any) -> ClientMetadata:
    """Check a registration request. The OB 3.0 spec requires every field but the three that
    have a default (auth method, grant types, response types), which must be ours if given."""
    if not isinstance(body, Mapping):
        raise ProtocolError("invalid_client_metadata", "The body must be a JSON object.")
    uris = body.get("redirect_uris")
    if not isinstance(uris, list) or not uris:
        raise ProtocolError("invalid_redirect_uri", "redirect_uris must be a non-empty array.")
    if len(uris) > MAX_REDIRECT_URIS:
        raise ProtocolError("invalid_redirect_uri", f"At most {MAX_REDIRECT_URIS} redirect_uris.")
    redirect_uris = list(
        dict.fromkeys(_web_url(uri, "Each redirect URI", "invalid_redirect_uri") for uri in uris)
    )
    method = body.get("token_endpoint_auth_method", AUTH_METHOD)
    if method != AUTH_METHOD:
        raise ProtocolError(
            "invalid_client_metadata", f"token_endpoint_auth_method must be {AUTH_METHOD}."
        )
    grant_types = _string_list(body.get("grant_types"), "grant_types", GRANT_TYPES)
    if "authorization_code" not in grant_types or set(grant_types) - set(GRANT_TYPES):
        raise ProtocolError(
            "invalid_client_metadata",
            "grant_types must be authorization_code, optionally with refresh_token.",
        )
    if _string_list(body.get("response_types"), "response_types", ["code"]) != ["code"]:
        raise ProtocolError("invalid_client_metadata", 'response_types must be ["code"].')
    scope = body.get("scope")
    if not isinstance(scope, str) or not scope.split():
        raise ProtocolError("invalid_client_metadata", "scope is required (space-separated).")
    try:
        scopes = parse_scope(scope)
    except ProtocolError as error:
        raise ProtocolError("invalid_client_metadata", error.description) from None
    return ClientMetadata(
        client_name=_text(body.get("client_name"), "client_name"),
        client_uri=_web_url(body.get("client_uri"), "client_uri"),
        logo_uri=_web_url(body.get("logo_uri"), "logo_uri"),
        tos_uri=_web_url(body.get("tos_uri"), "tos_uri"),
        policy_uri=_web_url(body.get("policy_uri"), "policy_uri"),
        software_id=_text(body.get("software_id"), "software_id"),
        software_version=_text(body.get("software_version"), "software_version", 100),
        redirect_uris=redirect_uris,
        scopes=scopes,
    )


def redirect_with(redirect_uri: str, **params: str | None) -> str:
    """The client's redirect URI with response parameters added to its query (RFC 6749 §4.1.2)."""
    query = urlencode({name: value for name, value in params.items() if value is not None})
    separator = "&" if urlsplit(redirect_uri).query else "?"
    return f"{redirect_uri}{separator}{query}"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# --- resource server -------------------------------------------------------------------------


def status_info(
    code_minor: str, description: str, *, code_major: str = "failure", severity: str = "error"
) -> dict[str, Any]:
    """An Imsx_StatusInfo body; ``code_minor`` from the spec's Imsx_CodeMinorFieldValue list."""
    return {
        "imsx_codeMajor": code_major,
        "imsx_severity": severity,
        "imsx_description": description,
        "imsx_codeMinor": {
            "imsx_codeMinorField": [
                {
                    "imsx_codeMinorFieldName": "TargetEndSystem",
                    "imsx_codeMinorFieldValue": code_minor,
                }
            ]
        },
    }


def paging_links(url: str, *, limit: int, offset: int, total: int, extra: Mapping[str, str]) -> str:
    """The ``Link`` header of a page of getCredentials (OB 3.0 §6.4): first and last always,
    next when more follow, prev when the offset is past zero."""

    def link(at: int, rel: str) -> str:
        return f'<{url}?{urlencode({**extra, "limit": limit, "offset": at})}>; rel="{rel}"'

    last = max(0, (total - 1) // limit * limit)
    links = []
    if offset + limit < total:
        links.append(link(offset + limit, "next"))
    links.append(link(last, "last"))
    links.append(link(0, "first"))
    if offset > 0:
        links.append(link(max(0, offset - limit), "prev"))
    return ", ".join(links)


# --- the Service Description Document --------------------------------------------------------


def _errors(*codes: str) -> dict[str, Any]:
    ref = {"$ref": "#/components/schemas/Imsx_StatusInfo"}
    described = {
        "304": "Not modified.",
        "400": "The request is not valid.",
        "401": "No valid access token.",
        "403": "The access token lacks the scope this needs.",
        "404": "Not found.",
        "405": "Method not allowed.",
        "500": "Internal server error.",
        "default": "The request was invalid or cannot be served.",
    }
    return {
        code: {"description": described[code], "content": {"application/json": {"schema": ref}}}
        for code in (*codes, "default")
    }


def _json(ref: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


def service_description(
    base_url: str, *, name: str, privacy_policy_url: str, terms_url: str, image_url: str
) -> dict[str, Any]:
    """getServiceDescription's document: an OpenAPI 3.0 description of this server's OB 3.0
    API, whose ``OAuth2ACG`` security scheme tells a client where to register, authorize and
    get tokens."""
    base = base_url.rstrip("/")
    api = base + BASE_PATH

    def secured(scope: str) -> list[dict[str, list[str]]]:
        return [{"OAuth2ACG": [scope]}]

    credential_body = {
        "application/json": {"schema": {"$ref": "#/components/schemas/AchievementCredential"}},
        "text/plain": {"schema": {"$ref": "#/components/schemas/CompactJws"}},
    }
    schemas_base = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/"
    return {
        "openapi": "3.0.1",
        "info": {
            "title": name,
            "description": "The Open Badges 3.0 API of this microcred server.",
            "termsOfService": terms_url,
            "version": "3.0",
            "x-imssf-image": image_url,
            "x-imssf-privacyPolicyUrl": privacy_policy_url,
        },
        "servers": [{"url": api, "description": "Open Badges 3.0 API"}],
        "tags": [
            {"name": "OpenBadgeCredentials", "description": "Exchange OpenBadgeCredentials."},
            {"name": "Profile", "description": "Exchange a Profile."},
            {"name": "Discovery", "description": "The Service Description Document."},
        ],
        "paths": {
            "/credentials": {
                "get": {
                    "tags": ["OpenBadgeCredentials"],
                    "summary": "The set of OpenBadgeCredentials of the authenticated entity",
                    "operationId": "getCredentials",
                    "parameters": [
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1},
                        },
                        {
                            "name": "offset",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 0},
                        },
                        {
                            "name": "since",
                            "in": "query",
                            "schema": {"type": "string", "format": "date-time"},
                        },
                    ],
                    "responses": {
                        "200": _json("GetOpenBadgeCredentialsResponse", "The credentials."),
                        **_errors("400", "401", "403", "405", "500"),
                    },
                    "security": secured(CREDENTIAL_READONLY),
                },
                "post": {
                    "tags": ["OpenBadgeCredentials"],
                    "summary": "Create or replace an AchievementCredential",
                    "operationId": "upsertCredential",
                    "requestBody": {"required": True, "content": credential_body},
                    "responses": {
                        "200": {"description": "Replaced.", "content": credential_body},
                        "201": {"description": "Created.", "content": credential_body},
                        **_errors("304", "400", "401", "403", "404", "405", "500"),
                    },
                    "security": secured(CREDENTIAL_UPSERT),
                },
            },
            "/profile": {
                "get": {
                    "tags": ["Profile"],
                    "summary": "The profile of the authenticated entity",
                    "operationId": "getProfile",
                    "responses": {
                        "200": _json("Profile", "The profile."),
                        **_errors("400", "401", "403", "404", "405", "500"),
                    },
                    "security": secured(PROFILE_READONLY),
                },
                "put": {
                    "tags": ["Profile"],
                    "summary": "Update the profile of the authenticated entity",
                    "operationId": "putProfile",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Profile"}}
                        },
                    },
                    "responses": {
                        "200": _json("Profile", "The profile."),
                        "202": _json("Imsx_StatusInfo", "Accepted."),
                        **_errors("304", "400", "401", "403", "404", "405", "500"),
                    },
                    "security": secured(PROFILE_UPDATE),
                },
            },
            "/discovery": {
                "get": {
                    "tags": ["Discovery"],
                    "summary": "The Service Description Document",
                    "operationId": "getServiceDescription",
                    "responses": {
                        "200": {
                            "description": "The Service Description Document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        },
                        **_errors(),
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "OAuth2ACG": {
                    "type": "oauth2",
                    "description": "OAuth 2.0 Authorization Code Grant authorization",
                    "x-imssf-name": name,
                    "x-imssf-privacyPolicyUrl": privacy_policy_url,
                    "x-imssf-registrationUrl": f"{api}/register",
                    "x-imssf-termsOfServiceUrl": terms_url,
                    "flows": {
                        "authorizationCode": {
                            "authorizationUrl": f"{api}/authorize",
                            "tokenUrl": f"{api}/token",
                            "refreshUrl": f"{api}/token",
                            "x-imssf-revocationUrl": f"{api}/revoke",
                            "scopes": dict(SCOPES),
                        }
                    },
                }
            },
            "schemas": {
                "GetOpenBadgeCredentialsResponse": {
                    "$ref": schemas_base + "ob_v3p0_getopenbadgecredentialsresponse_schema.json"
                },
                "AchievementCredential": {
                    "$ref": schemas_base + "ob_v3p0_achievementcredential_schema.json"
                },
                "Profile": {"$ref": schemas_base + "ob_v3p0_profile_schema.json"},
                "Imsx_StatusInfo": {"$ref": schemas_base + "ob_v3p0_imsx_statusinfo_schema.json"},
                "CompactJws": {
                    "type": "string",
                    "pattern": "^[a-zA-Z0-9_-]+\\.[a-zA-Z0-9_-]*\\.[a-zA-Z0-9_-]+$",
                },
            },
        },
    }
