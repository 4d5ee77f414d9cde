"""A small LTI 1.3 platform (an LMS) for tests: a real HTTP server on 127.0.0.1.

It holds its own RSA key and serves its JWKS; signs id_tokens (on its own, with
``cryptography``: not with microcred's code); answers the OIDC authentication request with a page
that auto-posts the id_token to the tool (as an LMS does); answers the token endpoint only for a
client assertion that verifies with the tool's JWKS; and serves AGS line items and results to a
bearer of a token it issued.
"""

from __future__ import annotations

import base64
import html
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
AGS_SCOPES = [
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
]
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwk_of(key: rsa.RSAPublicKey, kid: str) -> dict[str, str]:
    numbers = key.public_numbers()
    return {
        "kty": "RSA",
        "kid": kid,
        "alg": "RS256",
        "use": "sig",
        "n": b64(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        "e": b64(numbers.e.to_bytes(3, "big")),
    }


def sign_jwt(payload: dict[str, Any], key: rsa.RSAPrivateKey, kid: str, alg: str = "RS256") -> str:
    header = {"alg": alg, "typ": "JWT", "kid": kid}
    head = b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode())
    if alg == "none":
        return head + "."
    return head + "." + b64(key.sign(head.encode(), padding.PKCS1v15(), hashes.SHA256()))


def verify_rs256(token: str, jwks: dict[str, Any]) -> dict[str, Any] | None:
    """The payload of an RS256 JWS that one of ``jwks``'s keys (by kid) verifies, else None."""
    head, body, signature = token.split(".")
    header = json.loads(unb64(head))
    for jwk in jwks.get("keys", []):
        if jwk.get("kid") != header.get("kid") or header.get("alg") != "RS256":
            continue
        public = rsa.RSAPublicNumbers(
            int.from_bytes(unb64(jwk["e"]), "big"), int.from_bytes(unb64(jwk["n"]), "big")
        ).public_key()
        try:
            public.verify(
                unb64(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except Exception:
            return None
        payload: dict[str, Any] = json.loads(unb64(body))
        return payload
    return None


@dataclass
class TestPlatform:
    """State of the platform; ``url`` once started."""

    __test__ = False

    url: str = ""
    issuer: str = ""
    client_id: str = "microcred-client"
    deployment_id: str = "deployment-1"
    kid: str = "platform-key-1"
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    """login_hint -> the claims of that user's launches (sub, email, name, roles …)."""
    tool_jwks: dict[str, Any] = field(default_factory=dict)
    line_items: list[dict[str, Any]] = field(default_factory=list)
    results: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """line item id -> its results"""
    tokens: set[str] = field(default_factory=set)
    token_requests: list[dict[str, list[str]]] = field(default_factory=list)
    fail: dict[str, int] = field(default_factory=dict)
    """path -> HTTP status to answer with instead"""
    delay: dict[str, float] = field(default_factory=dict)
    """path -> seconds to wait before answering"""
    resource_link_id: str = "rl-1"
    deep_link_return: list[str] = field(default_factory=list)
    hits: dict[str, int] = field(default_factory=dict)
    """path -> how many requests it answered"""
    tool_url: str = "http://127.0.0.1:8000"
    """Where the tool is (the course page launches it there)."""

    @property
    def jwks(self) -> dict[str, Any]:
        return {"keys": [jwk_of(self.key.public_key(), self.kid)]}

    def claims(self, login_hint: str, nonce: str, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        user = dict(self.users[login_hint])
        roles = user.pop("roles", [LEARNER])
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            **user,
            LTI + "message_type": "LtiResourceLinkRequest",
            LTI + "version": "1.3.0",
            LTI + "deployment_id": self.deployment_id,
            LTI + "target_link_uri": "",
            LTI + "roles": roles,
            LTI + "resource_link": {"id": self.resource_link_id, "title": "Week 1 badge"},
            LTI + "context": {"id": "course-7", "title": "Data Analysis 101"},
            AGS: {"scope": AGS_SCOPES, "lineitems": f"{self.url}/courses/7/lineitems"},
        }
        claims.update(overrides)
        return claims

    def id_token(self, login_hint: str, nonce: str, **overrides: Any) -> str:
        return sign_jwt(self.claims(login_hint, nonce, **overrides), self.key, self.kid)


def _handler(platform: TestPlatform) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(
            self,
            status: int,
            body: Any,
            content_type: str = "application/json",
            headers: dict[str, str] | None = None,
        ) -> None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def _intercepted(self, path: str) -> bool:
            platform.hits[path] = platform.hits.get(path, 0) + 1
            if path in platform.delay:
                time.sleep(platform.delay[path])
            if path in platform.fail:
                self._send(platform.fail[path], {"error": "platform failure"})
                return True
            return False

        def _authorised(self) -> bool:
            bearer = self.headers.get("Authorization", "")
            if bearer.removeprefix("Bearer ") not in platform.tokens:
                self._send(401, {"error": "invalid_token"})
                return False
            return True

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            path, query = parts.path, parse_qs(parts.query)
            if self._intercepted(path):
                return
            if path == "/jwks":
                self._send(200, platform.jwks)
            elif path == "/auth":
                self._auth(query)
            elif path == "/course":
                hint = html.escape(query.get("hint", ["learner"])[0])
                page = (
                    "<!doctype html><html lang='en'><head><title>Data Analysis 101</title></head>"
                    "<body><h1>Data Analysis 101</h1>"
                    f"<iframe title='microcred' name='tool' src='/start?hint={hint}' "
                    "width='900' height='600'></iframe></body></html>"
                )
                self._send(200, page, "text/html")
            elif path == "/start":
                self._start(query.get("hint", ["learner"])[0])
            elif path == "/courses/7/lineitems":
                if self._authorised():
                    self._send(
                        200,
                        platform.line_items,
                        "application/vnd.ims.lis.v2.lineitemcontainer+json",
                    )
            elif path.startswith("/courses/7/lineitems/") and path.endswith("/results"):
                if self._authorised():
                    item = f"{platform.url}{path.removesuffix('/results')}"
                    self._send(
                        200,
                        platform.results.get(item, []),
                        "application/vnd.ims.lis.v2.resultcontainer+json",
                    )
            else:
                self._send(404, {"error": "not found"})

        def _start(self, hint: str) -> None:
            """Third-party initiated login: post the browser to the tool's login URL."""
            fields = {
                "iss": platform.issuer,
                "login_hint": hint,
                "client_id": platform.client_id,
                "target_link_uri": f"{platform.tool_url}/lti/launch",
                "lti_deployment_id": platform.deployment_id,
                "lti_message_hint": "course-7",
            }
            inputs = "".join(
                f"<input type='hidden' name='{k}' value='{html.escape(v)}'>"
                for k, v in fields.items()
            )
            page = (
                f"<!doctype html><html><body><form id='f' method='post' "
                f"action='{platform.tool_url}/lti/login'>{inputs}</form>"
                "<script>document.getElementById('f').submit()</script></body></html>"
            )
            self._send(200, page, "text/html")

        def _auth(self, query: dict[str, list[str]]) -> None:
            """The OIDC authentication request: answer with a page posting the id_token."""
            one = {k: v[0] for k, v in query.items()}
            required = (
                "scope",
                "response_type",
                "response_mode",
                "prompt",
                "client_id",
                "redirect_uri",
                "login_hint",
                "state",
                "nonce",
            )
            if any(name not in one for name in required) or one["client_id"] != platform.client_id:
                self._send(400, {"error": "invalid_request"})
                return
            token = platform.id_token(
                one["login_hint"], one["nonce"], **{LTI + "target_link_uri": one["redirect_uri"]}
            )
            page = (
                "<!doctype html><html><body><form id='f' method='post' action='"
                + html.escape(one["redirect_uri"])
                + "'>"
                + f"<input type='hidden' name='id_token' value='{html.escape(token)}'>"
                + f"<input type='hidden' name='state' value='{html.escape(one['state'])}'>"
                + "</form><script>document.getElementById('f').submit()</script></body></html>"
            )
            self._send(200, page, "text/html")

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            length = int(self.headers.get("Content-Length") or 0)
            form = parse_qs(self.rfile.read(length).decode())
            if self._intercepted(path):
                return
            if path == "/token":
                platform.token_requests.append(form)
                assertion = (form.get("client_assertion") or [""])[0]
                payload = verify_rs256(assertion, platform.tool_jwks) if assertion else None
                valid = (
                    payload is not None
                    and form.get("grant_type") == ["client_credentials"]
                    and payload.get("iss") == platform.client_id
                    and payload.get("sub") == platform.client_id
                    and payload.get("aud") == f"{platform.url}/token"
                    and payload.get("exp", 0) > time.time()
                )
                if not valid:
                    self._send(401, {"error": "invalid_client"})
                    return
                token = secrets.token_urlsafe(16)
                platform.tokens.add(token)
                self._send(
                    200,
                    {
                        "access_token": token,
                        "token_type": "bearer",
                        "expires_in": 3600,
                        "scope": form["scope"][0],
                    },
                )
            elif path == "/deep-link-return":
                platform.deep_link_return.append((form.get("JWT") or [""])[0])
                self._send(200, "<!doctype html><p id='returned'>Back in the LMS</p>", "text/html")
            else:
                self._send(404, {"error": "not found"})

    return Handler


def start(platform: TestPlatform) -> Iterator[TestPlatform]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(platform))
    platform.url = f"http://127.0.0.1:{server.server_address[1]}"
    platform.issuer = platform.issuer or platform.url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield platform
    finally:
        server.shutdown()
        server.server_close()
