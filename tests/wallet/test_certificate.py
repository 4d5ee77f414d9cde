"""The PDF certificate: what it shows, what it carries, how it marks an invalid credential."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from microcred.credentials.badge_png import default_badge_png
from microcred.credentials.keys import Ed25519Key
from microcred.wallet import fallback_fonts
from microcred.wallet.certificate import JSON_ATTACHMENT, certificate_pdf
from tests.credentials.factories import unsigned_credential

KEY = Ed25519Key.generate()
PAGE = "https://badges.example.org/credentials/c0ffee"
NOW = datetime(2025, 6, 1, tzinfo=UTC)


def certificate(document: dict[str, Any] | None = None, **options: Any) -> bytes:
    arguments: dict[str, Any] = {
        "recipient_name": "Lee Learner",
        "badge_png": default_badge_png("North College"),
        "page_url": PAGE,
        "now": NOW,
    }
    arguments.update(options)
    return certificate_pdf(document or unsigned_credential(KEY), **arguments)


def read(pdf: bytes) -> tuple[PdfReader, str]:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return reader, " ".join(reader.pages[0].extract_text().split())


def test_the_page_shows_recipient_achievement_issuer_results_dates_and_where_to_verify() -> None:
    reader, text = read(certificate())
    for expected in (
        "Lee Learner",
        "Data Literacy",
        "Reads, questions and presents data.",
        "Completed the six-week course",
        "Project grade: Proficient",
        "Issued by North College",
        "Issued on 1 January 2025",
        f"Verify at {PAGE}",
        "urn:uuid:00000000-0000-4000-8000-000000000001",
    ):
        assert expected in text
    assert "REVOKED" not in text and "SUSPENDED" not in text and "EXPIRED" not in text
    metadata = reader.metadata
    assert metadata is not None
    assert metadata.title == "Data Literacy — Lee Learner"
    assert metadata.author == "North College"
    assert metadata.creation_date == datetime(2025, 1, 1, tzinfo=UTC)


def test_the_pdf_carries_the_signed_document_and_each_jwt() -> None:
    document = unsigned_credential(KEY)
    pdf = certificate(document, jwts={"vc-jwt-rs256": "h.p.s", "vc-jose-eddsa": "a.b.c"})
    attachments = PdfReader(io.BytesIO(pdf)).attachments
    assert json.loads(attachments[JSON_ATTACHMENT][0]) == document
    assert attachments["credential-vc-jwt-rs256.jwt"] == [b"h.p.s"]
    assert attachments["credential-vc-jose-eddsa.jwt"] == [b"a.b.c"]


def test_the_same_credential_gives_the_same_bytes() -> None:
    assert certificate() == certificate()


def _structure(pdf: bytes) -> tuple[DictionaryObject, list[tuple[str, str | None, int]]]:
    """The document catalog, and the structure tree's elements under /Document in order:
    (type, alternative text, marked-content id)."""
    root: Any = PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    [document] = [kid.get_object() for kid in root["/StructTreeRoot"]["/K"]]
    assert document["/S"] == "/Document"
    elements = []
    for kid in document["/K"]:
        element = kid.get_object()
        [mcid] = element["/K"]
        elements.append((str(element["/S"])[1:], element.get("/Alt"), int(mcid)))
    return root, elements


def test_the_pdf_is_tagged_for_screen_readers_in_reading_order() -> None:
    pdf = certificate()
    root, elements = _structure(pdf)
    assert root["/Lang"] == "en" and bool(root["/MarkInfo"]["/Marked"])
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])  # the title, not the file name
    assert PdfReader(io.BytesIO(pdf)).metadata.title == "Data Literacy — Lee Learner"
    kinds = [kind for kind, _, _ in elements]
    assert kinds[:2] == ["Figure", "H1"] and kinds[-1] == "Figure"
    assert kinds[2:-1] == ["P"] * 12  # 7 texts under the heading, 5 in the footer
    assert elements[0][1] == "Badge: Data Literacy"
    assert elements[-1][1] == f"QR code: a link to this credential's verification page, {PAGE}"
    assert [mcid for _, _, mcid in elements] == list(range(len(elements)))
    content = PdfReader(io.BytesIO(pdf)).pages[0].get_contents().get_data().decode("latin-1")
    marked = re.findall(r"/(\w+) <</MCID (\d+)>> BDC", content)
    assert [int(mcid) for _, mcid in marked] == list(range(len(elements)))
    assert content.count("/Artifact BMC") == 1  # the frame
    assert content.count("EMC") == len(marked) + 1


def test_a_revoked_certificate_says_so_first_and_its_watermark_is_decoration() -> None:
    pdf = certificate(state="revoked", badge_png=None)
    _, elements = _structure(pdf)
    assert [kind for kind, _, _ in elements[:2]] == ["P", "H1"]  # the warning, then the heading
    assert [alt for kind, alt, _ in elements if kind == "Figure"] == [
        f"QR code: a link to this credential's verification page, {PAGE}"
    ]
    content = PdfReader(io.BytesIO(pdf)).pages[0].get_contents().get_data().decode("latin-1")
    assert content.count("/Artifact BMC") == 2  # the frame and the word across the page


def test_without_a_name_there_is_no_name_line_and_never_the_email() -> None:
    _, text = read(certificate(recipient_name=None, badge_png=None))
    assert "This certifies that" not in text and "has earned" not in text
    assert "@" not in text.replace(PAGE, "")
    assert "Data Literacy" in text


def test_a_revoked_or_suspended_credential_is_marked_across_the_page() -> None:
    for state, word in (("revoked", "REVOKED"), ("suspended", "SUSPENDED")):
        reader, text = read(certificate(state=state))
        assert f"{word} — the issuer has" in text and "It is not valid" in text
        assert reader.metadata is not None and reader.metadata.title.startswith(f"{word}: ")


def test_an_expired_credential_is_marked_expired() -> None:
    document = unsigned_credential(KEY, valid_until=datetime(2025, 3, 1, tzinfo=UTC))
    _, text = read(certificate(document))
    assert "EXPIRED on 1 March 2025" in text
    _, before = read(certificate(document, now=datetime(2025, 2, 1, tzinfo=UTC)))
    assert "EXPIRED" not in before and "valid until 1 March 2025" in before


def test_long_texts_wrap_and_stay_on_one_page() -> None:
    document = unsigned_credential(KEY)
    document["credentialSubject"]["achievement"]["name"] = "Interdisciplinary Systems " * 40
    document["credentialSubject"]["achievement"]["description"] = "x" * 5000
    _, text = read(certificate(document, recipient_name="Featherstonehaugh " * 30))
    assert "Interdisciplinary Systems Interdisciplinary" in text
    assert "…" in text


def test_without_fallback_fonts_what_no_font_draws_becomes_replacement_marks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(fallback_fonts, "STANDARD_DIRS", ())
    reader, text = read(certificate(recipient_name="山田 Tarō"))
    assert "\ufffd\ufffd Tarō" in text
    assert reader.metadata is not None and reader.metadata.title.endswith("山田 Tarō")


SCRIPTS = st.sampled_from(
    [
        "עברית מימין לשמאל",
        "محمد عبد الله",
        "中文名字 日本語 한국어",
        "राहुल शर्मा স্বাতী தமிழ் สมชาย ใจดี",
        "🎓👩🏽‍💻 emoji ✨",
        "Ελληνικά Кириллица ქართული Հայերեն",
        "e\u0301\u200f\u202e\u2066mixed\u0000\x07\ufeff",
    ]
)
TEXTS = st.one_of(st.text(max_size=80), SCRIPTS, st.text(min_size=300, max_size=3000))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.one_of(st.none(), TEXTS), achievement=TEXTS, description=TEXTS, issuer=TEXTS)
def test_any_unicode_gives_a_readable_one_page_pdf(
    name: str | None, achievement: str, description: str, issuer: str
) -> None:
    document = unsigned_credential(KEY)
    document["credentialSubject"]["achievement"]["name"] = achievement
    document["credentialSubject"]["achievement"]["description"] = description
    document["issuer"]["name"] = issuer
    pdf = certificate(document, recipient_name=name)
    reader, _ = read(pdf)
    assert json.loads(reader.attachments[JSON_ATTACHMENT][0]) == document


def _in_language(language: str) -> dict[str, Any]:
    document = unsigned_credential(KEY, valid_until=datetime(2025, 3, 1, tzinfo=UTC))
    document["credentialSubject"]["achievement"]["inLanguage"] = language
    return document


def test_a_german_achievement_gets_german_fixed_texts_whoever_views_it() -> None:
    pdf = certificate(_in_language("de-DE"), viewer_locale="fr")
    reader, text = read(pdf)
    for expected in (
        "LEISTUNGSZERTIFIKAT",
        "Hiermit wird bescheinigt, dass",
        "Ausgestellt von North College",
        "Ausgestellt am 1. Januar 2025",
        f"Prüfen unter {PAGE}",
        "ABGELAUFEN am 1. März 2025",
    ):
        assert expected in text
    assert "This certifies that" not in text and "Issued on" not in text
    assert reader.trailer["/Root"]["/Lang"] == "de"
    assert certificate(_in_language("de-DE"), viewer_locale="es") == pdf  # deterministic


def test_the_viewers_language_serves_when_the_achievement_states_none_we_have() -> None:
    _, spanish = read(certificate(_in_language("ja"), viewer_locale="es"))
    assert "Se certifica que" in spanish and "Emitida el 1 de enero de 2025" in spanish
    _, english = read(certificate(_in_language("ja")))
    assert "This certifies that" in english and "EXPIRED on 1 March 2025" in english
