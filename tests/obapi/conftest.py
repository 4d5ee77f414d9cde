"""A client app of the OB 3.0 API, simulated over HTTP with the test client: it registers,
sends the learner to the authorization endpoint, and exchanges the code with PKCE."""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from fastapi.testclient import TestClient

from microcred.obapi import protocol
from tests.catalogue.factories import skills
from tests.credentials.service.conftest import academy_definition_id, definition_id

__all__ = ["academy_definition_id", "definition_id", "skills"]

REDIRECT_URI = "https://backpack.example/callback"
ALL_SCOPES = " ".join(protocol.SCOPES)


def registration(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "client_name": "Example Backpack",
        "client_uri": "https://backpack.example/",
        "logo_uri": "https://backpack.example/logo.png",
        "tos_uri": "https://backpack.example/terms",
        "policy_uri": "https://backpack.example/privacy",
        "software_id": "c1a9e1f2-backpack",
        "software_version": "1.2.0",
        "redirect_uris": [REDIRECT_URI],
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": ALL_SCOPES,
    }
    body.update(overrides)
    return body


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html))


@dataclass
class ClientApp:
    """What a backpack does, step by step, against the server under test."""

    http: TestClient
    client_id: str = ""
    client_secret: str = ""
    verifier: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    state: str = field(default_factory=lambda: secrets.token_urlsafe(8))

    def register(self, **overrides: Any) -> dict[str, Any]:
        response = self.http.post("/ims/ob/v3p0/register", json=registration(**overrides))
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        self.client_id, self.client_secret = body["client_id"], body["client_secret"]
        return body

    @property
    def basic(self) -> dict[str, str]:
        raw = f"{self.client_id}:{self.client_secret}".encode()
        return {"Authorization": f"Basic {base64.b64encode(raw).decode()}"}

    def authorize_url(self, **overrides: str | None) -> str:
        params: dict[str, str | None] = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": ALL_SCOPES,
            "state": self.state,
            "code_challenge": protocol.s256(self.verifier),
            "code_challenge_method": "S256",
        }
        params.update(overrides)
        return "/ims/ob/v3p0/authorize?" + urlencode(
            {key: value for key, value in params.items() if value is not None}
        )

    def consent(self, decision: str = "allow", **overrides: str | None) -> dict[str, list[str]]:
        """The signed-in learner opens the authorization URL and answers; the redirect's query."""
        page = self.http.get(self.authorize_url(**overrides))
        assert page.status_code == 200, page.text
        fields = hidden_fields(page.text)
        answer = self.http.post(
            "/ims/ob/v3p0/authorize", data={**fields, "decision": decision}, follow_redirects=False
        )
        assert answer.status_code == 303, answer.text
        location = answer.headers["location"]
        assert location.startswith(REDIRECT_URI + "?")
        return parse_qs(urlsplit(location).query, keep_blank_values=True)

    def exchange(self, code: str, **overrides: str | None) -> Any:
        data: dict[str, str | None] = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": self.verifier,
        }
        data.update(overrides)
        return self.http.post(
            "/ims/ob/v3p0/token",
            data={key: value for key, value in data.items() if value is not None},
            headers=self.basic,
        )

    def connect(self) -> dict[str, Any]:
        """Consent (to what the app registered for) and exchange: the token response."""
        code = self.consent(scope=None)["code"][0]  # the scopes the app registered
        response = self.exchange(code)
        assert response.status_code == 200, response.text
        tokens: dict[str, Any] = response.json()
        return tokens


@pytest.fixture
def app_client(client: TestClient) -> ClientApp:
    backpack = ClientApp(client)
    backpack.register()
    return backpack


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
