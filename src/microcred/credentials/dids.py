"""DIDs and verification methods: did:key, did:web, Multikey / JWK keys, and their resolution.

Resolution is pure and injectable: ``did:key`` resolves locally; ``did:web`` DID documents and
http(s) key documents come through a :data:`JsonFetcher` (production: :func:`http_json_fetcher`,
with a short timeout; tests: a local function), so verification never blocks on the network
unless the caller allows it.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, unquote, urljoin, urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from microcred.caching import short_text_cache
from microcred.credentials.errors import CredentialError
from microcred.credentials.keys import (
    X25519_PUBLIC_PREFIX,
    base58_decode,
    base64url_decode,
    decode_public_key_multibase,
    encode_public_key_multibase,
    multibase_encode,
    x25519_public_from_ed25519,
)

PublicKey = Ed25519PublicKey | rsa.RSAPublicKey | ec.EllipticCurvePublicKey
JsonFetcher = Callable[[str], dict[str, Any]]
"""Returns the JSON object at an URL or raises :class:`CredentialError` (incl. time-outs)."""

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
_ED25519_METHOD_TYPES = {"Multikey", "Ed25519VerificationKey2020", "Ed25519VerificationKey2018"}
_JWK_METHOD_TYPES = {"JsonWebKey", "JsonWebKey2020"}
_RELATIONSHIPS = ("assertionMethod", "authentication", "capabilityInvocation")


@dataclass(frozen=True)
class VerificationMethod:
    """A resolved public key and who controls it."""

    id: str
    controller: str
    type: str
    public_key: PublicKey

    @property
    def ed25519_public_bytes(self) -> bytes | None:
        if isinstance(self.public_key, Ed25519PublicKey):
            return self.public_key.public_bytes_raw()
        return None


class KeyResolver(Protocol):
    def resolve(self, verification_method: str) -> VerificationMethod:
        """The key behind a verification method URL; :class:`CredentialError` if none."""
        ...


# --- did:key ---------------------------------------------------------------------------------


def did_key_from_public_key(public_key: bytes) -> str:
    return f"did:key:{encode_public_key_multibase(public_key)}"


def did_key_verification_method_id(did: str) -> str:
    return f"{did}#{did.removeprefix('did:key:')}"


def public_key_from_did_key(did: str) -> bytes:
    fingerprint = did.removeprefix("did:key:").split("#", 1)[0]
    if not fingerprint.startswith("z6Mk"):
        raise CredentialError(
            f"Unsupported did:key {did!r}: only Ed25519 (z6Mk…) keys are supported"
        )
    return decode_public_key_multibase(fingerprint)


@short_text_cache(maxsize=1024)
def _did_key_method(method_id: str) -> VerificationMethod:
    """A did:key URL resolves to its own key without building the whole DID document."""
    did, _, fragment = method_id.partition("#")
    fingerprint = did.removeprefix("did:key:")
    if fragment and fragment != fingerprint:
        raise CredentialError(f"Verification method {method_id!r} is not in the did:key document")
    public_key = Ed25519PublicKey.from_public_bytes(public_key_from_did_key(did))
    return VerificationMethod(f"{did}#{fingerprint}", did, "Multikey", public_key)


def did_key_document(did: str) -> dict[str, Any]:
    """The DID document a did:key expands to (Multikey form, with its X25519 key agreement key)."""
    public_key = public_key_from_did_key(did)
    fingerprint = did.removeprefix("did:key:")
    method_id = f"{did}#{fingerprint}"
    agreement = multibase_encode(X25519_PUBLIC_PREFIX + x25519_public_from_ed25519(public_key))
    agreement_id = f"{did}#{agreement}"
    return {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": [
            {
                "id": method_id,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": fingerprint,
            }
        ],
        "authentication": [method_id],
        "assertionMethod": [method_id],
        "capabilityDelegation": [method_id],
        "capabilityInvocation": [method_id],
        "keyAgreement": [
            {
                "id": agreement_id,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": agreement,
            }
        ],
    }


# --- did:web ---------------------------------------------------------------------------------


@short_text_cache(maxsize=1024)
def did_web_to_url(did: str) -> str:
    """The https URL of a did:web DID document (``/.well-known/did.json`` for a bare host)."""
    if not did.startswith("did:web:"):
        raise CredentialError(f"{did!r} is not a did:web DID")
    parts = did.removeprefix("did:web:").split("#", 1)[0].split(":")
    host = unquote(parts[0])
    if not host or "/" in host:
        raise CredentialError(f"Invalid did:web host in {did!r}")
    path = "/".join(unquote(part) for part in parts[1:])
    return f"https://{host}/{path}/did.json" if path else f"https://{host}/.well-known/did.json"


def url_to_did_web(url: str) -> str:
    """The did:web DID for an https URL (its host, port and path)."""
    parts = urlsplit(url)
    if parts.scheme not in {"https", "http"} or not parts.hostname:
        raise CredentialError(f"Cannot derive a did:web from {url!r}")
    host = quote(parts.netloc, safe="")
    path = [quote(segment, safe="") for segment in parts.path.strip("/").split("/") if segment]
    if path and path[-1] == "did.json":
        path = path[:-1]
    if path == [".well-known"]:
        path = []
    return ":".join(["did:web", host, *path])


@dataclass(frozen=True)
class PublishedKey:
    """A key an issuer publishes in its DID document (current or retired but still verifying)."""

    fragment: str
    public_key: bytes


def build_did_document(did: str, keys: Sequence[PublishedKey]) -> dict[str, Any]:
    """A DID document (did:web) listing every key as a Multikey usable for assertions.

    Rotated-out keys stay listed so that what they signed keeps verifying.
    """
    methods = [
        {
            "id": f"{did}#{key.fragment}",
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": encode_public_key_multibase(key.public_key),
        }
        for key in keys
    ]
    method_ids = [method["id"] for method in methods]
    return {
        "@context": [DID_CONTEXT, MULTIKEY_CONTEXT],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": method_ids,
        "authentication": method_ids,
    }


# --- verification methods --------------------------------------------------------------------


def public_key_from_jwk(jwk: Mapping[str, Any]) -> PublicKey:
    """An OKP Ed25519, RSA or EC P-256/P-384 public JWK as a cryptography key."""
    kty = jwk.get("kty")
    try:
        if kty == "OKP" and jwk.get("crv") == "Ed25519":
            return Ed25519PublicKey.from_public_bytes(base64url_decode(str(jwk["x"])))
        if kty == "RSA":
            modulus = int.from_bytes(base64url_decode(str(jwk["n"])), "big")
            exponent = int.from_bytes(base64url_decode(str(jwk["e"])), "big")
            return rsa.RSAPublicNumbers(exponent, modulus).public_key()
        if kty == "EC" and jwk.get("crv") in {"P-256", "P-384"}:
            curve: ec.EllipticCurve = ec.SECP256R1() if jwk["crv"] == "P-256" else ec.SECP384R1()
            x = int.from_bytes(base64url_decode(str(jwk["x"])), "big")
            y = int.from_bytes(base64url_decode(str(jwk["y"])), "big")
            return ec.EllipticCurvePublicNumbers(x, y, curve).public_key()
    except (KeyError, ValueError) as error:
        raise CredentialError(f"Invalid {kty} JWK: {error}") from error
    raise CredentialError(f"Unsupported JWK (kty {kty!r}, crv {jwk.get('crv')!r})")


def parse_verification_method(method: Mapping[str, Any]) -> VerificationMethod:
    method_id, controller, method_type = (
        method.get("id"),
        method.get("controller"),
        method.get("type"),
    )
    if not isinstance(method_id, str) or not isinstance(controller, str):
        raise CredentialError("A verification method needs an id and a controller")
    jwk = method.get("publicKeyJwk")
    if "publicKeyMultibase" in method and method_type in _ED25519_METHOD_TYPES:
        material: tuple[str, ...] = ("multibase", str(method["publicKeyMultibase"]))
    elif "publicKeyBase58" in method and method_type == "Ed25519VerificationKey2018":
        material = ("base58", str(method["publicKeyBase58"]))
    elif "publicKeyJwk" in method and (
        method_type in _JWK_METHOD_TYPES or method_type == "Multikey"
    ):
        if not isinstance(jwk, Mapping) or not all(isinstance(v, str) for v in jwk.values()):
            public_key = public_key_from_jwk(method["publicKeyJwk"])  # its own error message
            return VerificationMethod(method_id, controller, str(method_type), public_key)
        material = ("jwk", *(item for pair in sorted(jwk.items()) for item in pair))
    else:
        raise CredentialError(f"Unsupported verification method type {method_type!r}")
    return _verification_method(method_id, controller, str(method_type), material)


@short_text_cache(maxsize=1024, max_chars=16_384)
def _verification_method(
    method_id: str, controller: str, method_type: str, material: tuple[str, ...]
) -> VerificationMethod:
    """Cached by the key's exact published form: decoding a key and building its object (a P-256
    point check, a base58 number) cost more than the signature check it serves."""
    encoding = material[0]
    if encoding == "multibase":
        raw = decode_public_key_multibase(material[1])
        public_key: PublicKey = Ed25519PublicKey.from_public_bytes(raw)
    elif encoding == "base58":
        public_key = Ed25519PublicKey.from_public_bytes(base58_decode(material[1]))
    else:
        public_key = public_key_from_jwk(dict(zip(material[1::2], material[2::2], strict=True)))
    return VerificationMethod(method_id, controller, method_type, public_key)


def _absolute(reference: str, base: str) -> str:
    return base.split("#", 1)[0] + reference if reference.startswith("#") else reference


def find_verification_method(document: Mapping[str, Any], method_id: str) -> VerificationMethod:
    """The method ``method_id`` of a DID or controller document, if it may make assertions."""
    subject = str(document.get("id", ""))
    candidates: list[Any] = list(document.get("verificationMethod") or [])
    for relationship in _RELATIONSHIPS:
        candidates.extend(
            item for item in document.get(relationship) or [] if isinstance(item, dict)
        )
    for candidate in candidates:
        if (
            isinstance(candidate, dict)
            and _absolute(str(candidate.get("id", "")), subject) == method_id
        ):
            method = dict(candidate)
            method["id"] = method_id
            method.setdefault("controller", subject)
            return parse_verification_method(method)
    raise CredentialError(
        f"Verification method {method_id!r} is not in {subject or 'the'} document"
    )


def _first_assertion_method(document: Mapping[str, Any]) -> str:
    """A bare DID (e.g. a JWT issuer without ``kid``) means its first assertion key."""
    methods = document.get("assertionMethod") or []
    if not methods:
        raise CredentialError(f"{document.get('id')} lists no assertionMethod key")
    first = methods[0]
    reference = str(first.get("id", "")) if isinstance(first, dict) else str(first)
    return _absolute(reference, str(document.get("id", "")))


class DidResolver:
    """Resolves did:key locally, did:web and http(s) key URLs through ``fetch_json``.

    ``did_documents`` serves known DID documents without any look-up (this server's issuers).
    """

    def __init__(
        self,
        fetch_json: JsonFetcher | None = None,
        did_documents: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self._fetch_json = fetch_json
        self._did_documents = dict(did_documents or {})

    def _fetch(self, url: str) -> dict[str, Any]:
        if self._fetch_json is None:
            raise CredentialError(f"Cannot look up {url}: remote resolution is disabled")
        document = self._fetch_json(url)
        if not isinstance(document, dict):
            raise CredentialError(f"{url} did not return a JSON object")
        return document

    def resolve_did(self, did: str) -> Mapping[str, Any]:
        did = did.split("#", 1)[0]
        if did in self._did_documents:
            return self._did_documents[did]
        if did.startswith("did:key:"):
            return did_key_document(did)
        if did.startswith("did:web:"):
            document = self._fetch(did_web_to_url(did))
            if document.get("id") != did:
                raise CredentialError(f"The DID document at {did_web_to_url(did)} is not for {did}")
            return document
        method = did.split(":")[1] if did.count(":") >= 2 else did
        raise CredentialError(f"Unsupported DID method {method!r} in {did!r}")

    def resolve(self, verification_method: str) -> VerificationMethod:
        if not isinstance(verification_method, str) or not verification_method:
            raise CredentialError("The proof names no verification method")
        if verification_method.startswith("did:key:") and verification_method.split("#")[0] not in (
            self._did_documents
        ):
            return _did_key_method(verification_method)
        if verification_method.startswith("did:"):
            document = self.resolve_did(verification_method)
            if "#" not in verification_method:
                verification_method = _first_assertion_method(document)
            return find_verification_method(document, verification_method)
        scheme = urlsplit(verification_method).scheme
        if scheme not in {"https", "http"}:
            raise CredentialError(f"Cannot resolve verification method {verification_method!r}")
        document = self._fetch(verification_method.split("#", 1)[0])
        if document.get("id") == verification_method:
            return parse_verification_method(document)
        return find_verification_method(document, verification_method)


Resolver = Callable[[str, int], list[str]]
"""Host and port to the IP addresses a connection would use."""
MAX_REDIRECTS = 5
# The system resolver has no time-out of its own: look-ups run here and are waited for only
# until the fetch's deadline (a look-up that hangs keeps its thread, not the verification).
_LOOKUPS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="microcred-dns")


def dns_addresses(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for ``host``."""
    try:
        return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]
    except (OSError, UnicodeError) as error:
        raise CredentialError(f"Cannot resolve {host}: {error}") from error


def check_fetchable(url: str, resolve: Resolver, *, allow_private: bool = False) -> str | None:
    """Refuse what a public verifier must not fetch for whoever posts a credential: anything but
    http(s), and (unless ``allow_private``) a host on a loopback, private, link-local or other
    non-public address — the server's own network (server-side request forgery).

    Returns the checked address to connect to, so that the connection goes where the check
    looked (a second look-up could answer otherwise: DNS rebinding); ``None`` when
    ``allow_private`` leaves the look-up to the connection."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CredentialError(f"{url} is not an http(s) URL")
    if allow_private:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        ipaddress.ip_address(parts.hostname)
        addresses = [parts.hostname]  # a literal address
    except ValueError:
        addresses = resolve(parts.hostname, port)
    if not addresses:
        raise CredentialError(f"Cannot resolve {parts.hostname}: no address")
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global:
            raise CredentialError(
                f"{url} points to a non-public address ({ip}): not fetched "
                "(set MICROCRED_FETCH_PRIVATE_ADDRESSES=true for issuers on your own network)"
            )
    return addresses[0].split("%", 1)[0]


def _pinned_get(
    client: httpx.Client, url: str, address: str | None
) -> AbstractContextManager[httpx.Response]:
    """Stream a GET of ``url`` sent to ``address``: the URL's host stays in the Host header and,
    for https, in the TLS server name, so the certificate is still checked against the name."""
    request_url = httpx.URL(url)
    headers = {"Accept": "application/did+json, application/json"}
    extensions: dict[str, Any] = {}
    if address is not None and request_url.host != address:
        headers["Host"] = request_url.netloc.decode("ascii")
        extensions["sni_hostname"] = request_url.host
        request_url = request_url.copy_with(host=address)
    return client.stream("GET", request_url, headers=headers, extensions=extensions)


def http_json_fetcher(
    timeout: float = 3.0,
    max_bytes: int = 1_000_000,
    transport: httpx.BaseTransport | None = None,
    *,
    allow_private: bool = False,
    resolve: Resolver = dns_addresses,
) -> JsonFetcher:
    """A fetcher over httpx for production verification: a short time-out for the whole fetch
    (name look-ups, connections, redirects and the body together, so a server that drips its
    answer byte by byte cannot hold a verification), a size cap read as the body streams in,
    http(s) only, public addresses only unless ``allow_private`` (each redirect is checked
    again, at most :data:`MAX_REDIRECTS`).

    ``transport`` and ``resolve`` let tests answer locally (``httpx.MockTransport``). The name is
    resolved once: the connection goes to the address that was checked, with the name kept for
    the Host header and the TLS certificate check, so an answer that changes between the check
    and the connection (DNS rebinding) cannot redirect it. Each hop gets its own connection.
    """

    def fetch(url: str) -> dict[str, Any]:
        current = url
        deadline = time.monotonic() + timeout
        late = f"{url} did not answer within {timeout:g} s"

        def remaining() -> float:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CredentialError(late)
            return left

        def bounded_resolve(host: str, port: int) -> list[str]:
            lookup = _LOOKUPS.submit(resolve, host, port)
            try:
                return lookup.result(timeout=remaining())
            except FutureTimeout:
                raise CredentialError(late) from None

        try:
            for _ in range(MAX_REDIRECTS + 1):
                address = check_fetchable(current, bounded_resolve, allow_private=allow_private)
                with (
                    httpx.Client(timeout=remaining(), transport=transport) as client,
                    _pinned_get(client, current, address) as response,
                ):
                    if response.is_redirect and "location" in response.headers:
                        current = urljoin(current, response.headers["location"])
                        continue
                    if response.status_code != 200:
                        raise CredentialError(f"{url} answered HTTP {response.status_code}")
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body += chunk
                        if len(body) > max_bytes:
                            raise CredentialError(f"{url} answered more than {max_bytes} bytes")
                        remaining()  # a server dripping bytes does not hold the verifier
                    document = json.loads(body)
                    break
            else:
                raise CredentialError(f"{url} redirected more than {MAX_REDIRECTS} times")
        except httpx.TimeoutException as error:
            raise CredentialError(late) from error
        except (httpx.HTTPError, ValueError) as error:
            raise CredentialError(f"Cannot fetch {url}: {error}") from error
        if not isinstance(document, dict):
            raise CredentialError(f"{url} did not return a JSON object")
        return document

    return fetch
