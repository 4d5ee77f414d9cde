"""A small OpenID Connect provider on 127.0.0.1 for single sign-on tests: a real HTTP peer with
a discovery document, an RSA key set, an authorization endpoint (signs in whoever the test says,
at once) and a token endpoint that checks the client's secret, the code, the redirect URI and the
PKCE verifier before it signs an ID token."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from microcred.credentials.keys import base64url_encode

CLIENT_ID = "microcred-test"
CLIENT_SECRET = "s3cret-of-the-client"


def _b64(value: int) -> str:
    return base64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass
class Provider:
    """What the test controls: who signs in, and how the ID token may be spoilt."""

    issuer: str = ""
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    kid: str = "key-1"
    user: dict[str, Any] = field(default_factory=dict)
    claims_override: dict[str, Any] = field(default_factory=dict)
    header_override: dict[str, Any] = field(default_factory=dict)
    discovery_issuer: str | None = None
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    token_requests: list[dict[str, Any]] = field(default_factory=list)

    def jwks(self) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()
        return {"keys": [{"kty": "RSA", "kid": self.kid, "use": "sig", "alg": "RS256",
                          "n": _b64(numbers.n), "e": _b64(numbers.e)}]}  # fmt: skip

    def id_token(self, nonce: str | None) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                  "nonce": nonce, **self.user, **self.claims_override}  # fmt: skip
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid, **self.header_override}
        signing_input = (
            base64url_encode(json.dumps(header).encode())
            + "."
            + base64url_encode(json.dumps(claims).encode())
        )
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{base64url_encode(signature)}"


class _Handler(BaseHTTPRequestHandler):
    provider: Provider

    def log_message(self, format: str, *args: Any) -> None:
        return None

    def _json(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        provider = self.provider
        if parts.path == "/.well-known/openid-configuration":
            self._json(200, {
                "issuer": provider.discovery_issuer or provider.issuer,
                "authorization_endpoint": f"{provider.issuer}/authorize",
                "token_endpoint": f"{provider.issuer}/token",
                "jwks_uri": f"{provider.issuer}/jwks",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256"],
            })  # fmt: skip
        elif parts.path == "/jwks":
            self._json(200, provider.jwks())
        elif parts.path == "/authorize":
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            code = secrets.token_urlsafe(16)
            provider.codes[code] = query
            target = (
                query["redirect_uri"] + "?" + urlencode({"code": code, "state": query["state"]})
            )
            self.send_response(302)
            self.send_header("Location", target)
            self.end_headers()
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self) -> None:
        provider = self.provider
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        provider.token_requests.append(form)
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            self._json(401, {"error": "invalid_client"})
            return
        asked = provider.codes.pop(form.get("code", ""), None)
        if asked is None or asked["redirect_uri"] != form.get("redirect_uri"):
            self._json(400, {"error": "invalid_grant", "error_description": "unknown code"})
            return
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).decode().rstrip("=")
        if asked.get("code_challenge") != challenge:
            self._json(400, {"error": "invalid_grant", "error_description": "PKCE failed"})
            return
        self._json(200, {"access_token": "at", "token_type": "Bearer",
                         "id_token": provider.id_token(asked.get("nonce"))})  # fmt: skip


@pytest.fixture
def oidc_provider() -> Iterator[Provider]:
    from microcred.accounts import sso

    provider = Provider()
    handler = type("Handler", (_Handler,), {"provider": provider})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    provider.issuer = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sso.clear_cache()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
        sso.clear_cache()
