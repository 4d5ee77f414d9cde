from __future__ import annotations

import json
import ssl
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from microcred.credentials.dids import (
    DidResolver,
    PublishedKey,
    _pinned_get,
    build_did_document,
    did_key_document,
    did_key_from_public_key,
    did_web_to_url,
    http_json_fetcher,
    parse_verification_method,
    url_to_did_web,
)
from microcred.credentials.errors import CredentialError
from microcred.credentials.keys import Ed25519Key, base58_encode
from tests.credentials.helpers import LocalFetcher
from tests.credentials.vectors import load_json


def did_key_vectors() -> list[tuple[str, dict[str, Any]]]:
    return list(load_json("did-key/ed25519-x25519.json").items())


def test_did_key_vectors_derive_identically() -> None:
    for did, vector in did_key_vectors():
        key = Ed25519Key.from_seed(bytes.fromhex(vector["seed"]))
        assert did_key_from_public_key(key.public_key) == did
        published = vector["didDocument"]["verificationMethod"][0]
        assert parse_verification_method(published).ed25519_public_bytes == key.public_key
        if "publicKeyBase58" in published:
            assert base58_encode(key.public_key) == published["publicKeyBase58"]
        document = did_key_document(did)
        assert document["id"] == did
        assert document["assertionMethod"] == vector["didDocument"]["assertionMethod"]
        agreement = vector["didDocument"]["keyAgreement"][0]
        agreement_id = agreement["id"] if isinstance(agreement, dict) else agreement
        if "publicKeyBase58" in published:
            assert document["keyAgreement"][0]["id"] == agreement_id


def test_did_key_resolves_locally_to_its_multikey() -> None:
    key = Ed25519Key.generate()
    did = did_key_from_public_key(key.public_key)
    method = DidResolver().resolve(f"{did}#{key.public_key_multibase}")
    assert method.controller == did
    assert method.ed25519_public_bytes == key.public_key


@pytest.mark.parametrize(
    ("did", "url"),
    [
        ("did:web:example.com", "https://example.com/.well-known/did.json"),
        ("did:web:example.com:issuers:north", "https://example.com/issuers/north/did.json"),
        ("did:web:localhost%3A8000:issuers:x", "https://localhost:8000/issuers/x/did.json"),
    ],
)
def test_did_web_maps_to_its_document_url_and_back(did: str, url: str) -> None:
    assert did_web_to_url(did) == url
    assert url_to_did_web(url) == did


def test_did_web_resolves_through_the_injected_fetcher_and_keeps_rotated_keys() -> None:
    old, new = Ed25519Key.generate(), Ed25519Key.generate()
    did = "did:web:badges.example:issuers:north"
    document = build_did_document(
        did, [PublishedKey("key-1", old.public_key), PublishedKey("key-2", new.public_key)]
    )
    fetcher = LocalFetcher({"https://badges.example/issuers/north/did.json": document})
    resolver = DidResolver(fetch_json=fetcher)
    assert resolver.resolve(f"{did}#key-1").ed25519_public_bytes == old.public_key
    assert resolver.resolve(f"{did}#key-2").ed25519_public_bytes == new.public_key
    with pytest.raises(CredentialError, match="key-3"):
        resolver.resolve(f"{did}#key-3")


def test_did_web_document_for_another_did_is_refused() -> None:
    document = build_did_document("did:web:evil.example", [])
    fetcher = LocalFetcher({"https://badges.example/.well-known/did.json": document})
    with pytest.raises(CredentialError, match="not for"):
        DidResolver(fetch_json=fetcher).resolve("did:web:badges.example#key-1")


def test_remote_resolution_is_off_without_a_fetcher_and_unknown_methods_fail() -> None:
    with pytest.raises(CredentialError, match="disabled"):
        DidResolver().resolve("did:web:badges.example#key-1")
    with pytest.raises(CredentialError, match="Unsupported DID method 'example'"):
        DidResolver().resolve("did:example:123#key-1")


def test_http_key_document_resolves_by_id() -> None:
    key = Ed25519Key.generate()
    url = "https://badges.example/keys/1"
    document = {
        "id": url,
        "type": "Ed25519VerificationKey2020",
        "controller": "https://badges.example/issuer",
        "publicKeyMultibase": key.public_key_multibase,
    }
    method = DidResolver(fetch_json=LocalFetcher({url: document})).resolve(url)
    assert method.controller == "https://badges.example/issuer"
    assert method.ed25519_public_bytes == key.public_key


PUBLIC = "93.184.215.14"


def _fetcher(handler: Any, **options: Any) -> Any:
    options.setdefault("resolve", lambda host, port: [PUBLIC])
    return http_json_fetcher(
        timeout=0.5, max_bytes=1000, transport=httpx.MockTransport(handler), **options
    )


def test_http_fetcher_returns_json_objects() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        seen = {
            "url": str(request.url),
            "host": request.headers["host"],
            "sni": request.extensions.get("sni_hostname"),
        }
        return httpx.Response(200, json=seen)

    # the connection goes to the address that was checked; the name stays for Host and TLS
    assert _fetcher(handler)("https://badges.example:8443/did.json?v=1") == {
        "url": f"https://{PUBLIC}:8443/did.json?v=1",
        "host": "badges.example:8443",
        "sni": "badges.example",
    }
    literal = _fetcher(handler)(f"http://{PUBLIC}/did.json")
    assert literal == {"url": f"http://{PUBLIC}/did.json", "host": PUBLIC, "sni": None}


def test_http_fetcher_connects_to_the_address_it_checked() -> None:
    """DNS rebinding: a name that answers a public address to the check and a private one a
    moment later must not reach the private one."""
    answers = iter([[PUBLIC], ["127.0.0.1"], ["127.0.0.1"]])
    looked_up: list[str] = []
    reached: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        looked_up.append(host)
        return next(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        reached.append(request.url.host)
        return httpx.Response(200, json={"ok": True})

    assert _fetcher(handler, resolve=resolve)("https://rebind.example/did.json") == {"ok": True}
    assert looked_up == ["rebind.example"]
    assert reached == [PUBLIC]
    with pytest.raises(CredentialError, match="no address"):
        _fetcher(handler, resolve=lambda host, port: [])("https://nowhere.example/did.json")


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (httpx.Response(404), "HTTP 404"),
        (httpx.Response(200, content=b"not json"), "Cannot fetch"),
        (httpx.Response(200, json=[1, 2]), "not return a JSON object"),
        (httpx.Response(200, json={"padding": "x" * 2000}), "more than 1000 bytes"),
    ],
)
def test_http_fetcher_turns_bad_answers_into_credential_errors(
    response: httpx.Response, reason: str
) -> None:
    with pytest.raises(CredentialError, match=reason):
        _fetcher(lambda request: response)("https://badges.example/did.json")


def test_http_fetcher_reports_a_time_out() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("too slow", request=request)

    with pytest.raises(CredentialError, match=r"did not answer within 0\.5 s"):
        _fetcher(slow)("https://badges.example/did.json")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/status/1",
        "http://[::1]:8000/did.json",
        "http://169.254.169.254/latest/meta-data",
        "http://10.0.0.5/keys/1",
        "https://intranet.example/did.json",  # resolves to a private address
        "http://0.0.0.0/",
    ],
)
def test_http_fetcher_refuses_non_public_addresses(url: str) -> None:
    reached: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        reached.append(str(request.url))
        return httpx.Response(200, json={})

    resolve = {"intranet.example": ["192.168.1.20"]}
    fetch = _fetcher(handler, resolve=lambda host, port: resolve.get(host, [PUBLIC]))
    with pytest.raises(CredentialError, match="non-public address"):
        fetch(url)
    assert reached == []
    allowed = _fetcher(handler, resolve=lambda host, port: ["192.168.1.20"], allow_private=True)
    assert allowed(url) == {}  # an intranet deployment can allow it


def test_http_fetcher_checks_every_redirect_and_only_speaks_http() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["host"] == "badges.example":
            return httpx.Response(302, headers={"location": "http://127.0.0.1:9000/admin"})
        return httpx.Response(200, json={"reached": True})

    with pytest.raises(CredentialError, match="non-public address"):
        _fetcher(handler)("https://badges.example/did.json")
    with pytest.raises(CredentialError, match="not an http"):
        _fetcher(handler)("file:///etc/passwd")

    def loop(request: httpx.Request) -> httpx.Response:
        return httpx.Response(301, headers={"location": "/again"})

    with pytest.raises(CredentialError, match="redirected more than 5 times"):
        _fetcher(loop)("https://badges.example/start")


def test_http_fetcher_stops_reading_past_the_size_cap() -> None:
    streamed: list[int] = []

    def endless() -> Any:
        for _ in range(1_000):
            streamed.append(1)
            yield b"x" * 100

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless())

    with pytest.raises(CredentialError, match="more than 1000 bytes"):
        _fetcher(handler)("https://badges.example/huge.json")
    assert len(streamed) < 20  # not the whole 100 kB


def _self_signed(tmp_path: Path, name: str) -> tuple[str, str]:
    """A certificate for ``name`` that is its own authority, and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


def test_a_pinned_https_connection_still_checks_the_certificate_against_the_name(
    tmp_path: Path,
) -> None:
    """Over real TLS: connecting to the checked address keeps the name in SNI and in the
    certificate check, so a server without a certificate for the name is refused."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = json.dumps({"host": self.headers["Host"]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    cert, key = _self_signed(tmp_path, "badges.example")
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = server_context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        trusting = ssl.create_default_context(cafile=cert)
        with (
            httpx.Client(verify=trusting, timeout=5) as client,
            _pinned_get(client, f"https://badges.example:{port}/did.json", "127.0.0.1") as answer,
        ):
            answer.read()
            assert answer.json() == {"host": f"badges.example:{port}"}
        with (
            httpx.Client(verify=trusting, timeout=5) as client,
            pytest.raises(httpx.ConnectError, match="Hostname mismatch"),
            _pinned_get(client, f"https://other.example:{port}/did.json", "127.0.0.1"),
        ):
            pass
    finally:
        server.shutdown()
        server.server_close()


def test_http_fetcher_bounds_the_whole_fetch_not_each_read() -> None:
    """A server that drips its answer (each read well within the time-out) and a name look-up
    that hangs both end at the fetch's deadline with the time-out's message."""

    def drip() -> Any:
        for _ in range(50):
            time.sleep(0.05)
            yield b" "

    def dripping(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=drip())

    started = time.monotonic()
    with pytest.raises(CredentialError, match=r"did not answer within 0\.5 s"):
        _fetcher(dripping)("https://badges.example/did.json")
    assert time.monotonic() - started < 1.2  # not the 2.5 s the drip would take

    def hanging(host: str, port: int) -> list[str]:
        time.sleep(1.5)
        return [PUBLIC]

    started = time.monotonic()
    with pytest.raises(CredentialError, match=r"did not answer within 0\.5 s"):
        _fetcher(lambda request: httpx.Response(200, json={}), resolve=hanging)(
            "https://slow-dns.example/did.json"
        )
    assert time.monotonic() - started < 1.2
