from __future__ import annotations

import socket

import pytest

from microcred.credentials.errors import CredentialError
from microcred.credentials.jsonld.loader import CONTEXT_FILES, CONTEXTS_DIR, document_loader
from microcred.credentials.proofs.rdfc import canonicalize


def test_every_mapped_context_is_shipped_with_the_package() -> None:
    for url, file_name in CONTEXT_FILES.items():
        assert (CONTEXTS_DIR / file_name).is_file(), url
        assert "@context" in document_loader(url)["document"]


def test_unknown_context_is_an_error_naming_the_url_without_touching_the_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://evil.example/context.json"],
        "type": ["VerifiableCredential"],
    }
    with pytest.raises(CredentialError, match=r"https://evil\.example/context\.json"):
        canonicalize(document)


def test_trailing_slash_and_fragment_do_not_change_the_context() -> None:
    url = "https://www.w3.org/ns/credentials/v2"
    expected = document_loader(url)["document"]
    assert document_loader(url + "/")["document"] == expected
    assert document_loader(url + "#x")["document"] == expected
