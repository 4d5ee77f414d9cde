"""The OpenAPI schema is the API reference: every capability is in it, every answer is typed."""

from __future__ import annotations

from fastapi.testclient import TestClient

CAPABILITIES = {"accounts", "catalogue", "credentials", "skills", "ledger", "market",
                "assessment", "pathways"}  # fmt: skip
STANDARD_PATHS = {
    "/.well-known/openid-credential-issuer",
    "/.well-known/oauth-authorization-server",
    "/oid4vci/offers/{address}",
    "/oid4vci/token",
    "/oid4vci/nonce",
    "/oid4vci/credential",
    "/ims/ob/v3p0/discovery",
    "/ims/ob/v3p0/register",
    "/ims/ob/v3p0/token",
    "/ims/ob/v3p0/revoke",
    "/ims/ob/v3p0/credentials",
    "/ims/ob/v3p0/profile",
}
"""Wallet-facing OpenID4VCI endpoints and the 1EdTech Open Badges 3.0 API, outside /api/v1 where
the standards put them."""


def test_schema_covers_every_capability_with_typed_responses(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    tags = {tag for path in spec["paths"].values() for op in path.values() for tag in op["tags"]}
    assert tags >= CAPABILITIES
    untyped = []
    for path, operations in spec["paths"].items():
        assert path.startswith("/api/v1/") or path in STANDARD_PATHS, path
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method} {path} has no summary"
            success = [code for code in operation["responses"] if code.startswith("2")]
            assert success, f"{method} {path} documents no success response"
            for code in success:
                content = operation["responses"][code].get("content", {})
                if code != "204" and not any("schema" in body for body in content.values()):
                    untyped.append(f"{method} {path}")
    assert untyped == []
