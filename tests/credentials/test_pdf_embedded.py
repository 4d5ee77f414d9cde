"""Verifying a credential embedded in a PDF: our certificates, a JWT-only PDF, bad PDFs."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from fpdf import FPDF
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter

from microcred.credentials.dids import DidResolver
from microcred.credentials.errors import CredentialError
from microcred.credentials.pdf_embedded import MAX_ATTACHMENTS, extract_pdf
from microcred.credentials.proofs.jwt import JoseKey, sign_jwt
from microcred.credentials.verify import PARSE, PROOF, verify_credential
from microcred.wallet.certificate import certificate_pdf
from tests.credentials.factories import unsigned_credential
from tests.credentials.test_verify import KEY, NOW, failing, signed

PAGE = "https://badges.example.org/credentials/c0ffee"


def certificate(document: dict[str, Any], **options: Any) -> bytes:
    return certificate_pdf(
        document, recipient_name="Lee Learner", badge_png=None, page_url=PAGE, now=NOW, **options
    )


def pdf_with(*attachments: tuple[str, bytes]) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    for name, data in attachments:
        pdf.embed_file(bytes=data, basename=name)
    return bytes(pdf.output())


@pytest.fixture(scope="module")
def signed_certificate() -> tuple[dict[str, Any], bytes]:
    document = signed()
    return document, certificate(document)


def test_a_certificate_verifies_as_the_credential_it_carries(
    signed_certificate: tuple[dict[str, Any], bytes],
) -> None:
    document, pdf = signed_certificate
    report = verify_credential(pdf, resolver=DidResolver(), now=NOW)
    assert report.valid, report.checks
    assert report.source == "pdf+json" and report.credential == document


def test_tampering_with_the_embedded_credential_breaks_the_proof() -> None:
    document = signed()
    document["credentialSubject"]["achievement"]["name"] = "Rocket Science"
    report = verify_credential(certificate(document), resolver=DidResolver(), now=NOW)
    assert not report.valid and failing(report) == {PROOF}


def test_credential_json_is_preferred_and_a_jwt_is_read_when_it_is_alone() -> None:
    token = sign_jwt(unsigned_credential(KEY), JoseKey.from_ed25519(KEY), embed_jwk=True)
    both = pdf_with(("credential-vc-jose-eddsa.jwt", token.encode()), ("credential.json", b"{}"))
    assert extract_pdf(both) == "{}"
    alone = pdf_with(("notes.txt", b"hello"), ("credential-vc-jose-eddsa.jwt", token.encode()))
    report = verify_credential(alone, resolver=DidResolver(), now=NOW)
    assert report.valid and report.source == "pdf+jwt"


def test_a_pdf_without_a_credential_fails_to_parse_clearly() -> None:
    for pdf in (pdf_with(), pdf_with(("photo.png", b"\x89PNG..."))):
        report = verify_credential(pdf, resolver=DidResolver(), now=NOW)
        assert failing(report) == {PARSE}
        assert "This PDF carries no credential" in report.check(PARSE)[0].reason


def test_truncated_corrupt_and_encrypted_pdfs_fail_to_parse(
    signed_certificate: tuple[dict[str, Any], bytes],
) -> None:
    _, pdf = signed_certificate
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt("secret")
    encrypted = io.BytesIO()
    writer.write(encrypted)
    for bad in (pdf[: len(pdf) // 2], pdf[:200], b"%PDF-1.7\n" + bytes(range(256)) * 8,
                b"%PDF-", encrypted.getvalue()):  # fmt: skip
        report = verify_credential(bad, resolver=DidResolver(), now=NOW)
        assert failing(report) == {PARSE}, report.checks


def test_a_credential_that_is_not_utf8_text_is_refused() -> None:
    with pytest.raises(CredentialError, match="not UTF-8"):
        extract_pdf(pdf_with(("credential.json", b"\xff\xfe{")))


def test_too_many_attachments_are_not_walked() -> None:
    many = [(f"file-{number}.txt", b"x") for number in range(MAX_ATTACHMENTS + 1)]
    with pytest.raises(CredentialError, match="too many attachments"):
        extract_pdf(pdf_with(*many))


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_damaged_certificates_never_raise_anything_but_a_parse_failure(
    data: st.DataObject, signed_certificate: tuple[dict[str, Any], bytes]
) -> None:
    _, pdf = signed_certificate
    damaged = bytearray(pdf)
    for _ in range(data.draw(st.integers(1, 20))):
        position = data.draw(st.integers(0, len(damaged) - 1))
        damaged[position] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        damaged = damaged[: data.draw(st.integers(5, len(damaged)))]
    report = verify_credential(bytes(damaged), resolver=DidResolver(), now=NOW)
    assert report.checks
    if report.failed(PARSE):
        assert len(report.checks) == 1
    else:
        json.dumps(report.as_dict())
