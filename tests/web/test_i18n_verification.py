"""Verification reasons in the reader's language: the public credential page and /verify show
each check's reason translated (quoted values kept), while the JSON API keeps the English."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from microcred.credentials import service, verify
from microcred.credentials.dids import DidResolver
from microcred.credentials.verify import VerificationReport
from microcred.i18n import L_, translate, using_locale
from microcred.settings import Settings
from tests.catalogue.factories import skills
from tests.conftest import World
from tests.credentials.service.conftest import definition_id, issue_input

__all__ = ["definition_id", "skills"]


def _issue(sessions: sessionmaker[Session], settings: Settings, definition: str) -> str:
    with sessions.begin() as session:
        return service.issue_credential(
            session, None, settings=settings, **issue_input(definition)
        ).id


def _document(sessions: sessionmaker[Session], credential_id: str) -> dict[str, Any]:
    with sessions() as session:
        return dict(service.get_credential(session, credential_id).document)


def _checks(page: str) -> list[str]:
    return [
        " ".join(html.unescape(re.sub(r"<[^>]+>", "", item)).split())
        for item in re.findall(r"<li class=\"check check-[a-z]+\">(.*?)</li>", page, re.S)
    ]


def test_credential_page_reasons_in_german_french_and_spanish(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    definition_id: str,
) -> None:  # fmt: skip
    credential_id = _issue(sessions, settings, definition_id)
    english = _checks(client.get(f"/credentials/{credential_id}").text)
    assert "✔ pass · proof: eddsa-rdfc-2022: Signature verified" in english
    assert any(line.startswith("✔ pass · issuer key: Key did:web:") for line in english)

    german = _checks(client.get(f"/credentials/{credential_id}?lang=de").text)
    assert "✔ bestanden · Signatur: eddsa-rdfc-2022: Signatur geprüft" in german
    key = next(
        line for line in german if line.startswith("✔ bestanden · Schlüssel des Ausstellers")
    )
    assert re.fullmatch(
        r"✔ bestanden · Schlüssel des Ausstellers: Der Schlüssel did:web:\S+ gehört dem Aussteller "
        r"did:web:\S+",
        key,
    ), key
    assert any(re.fullmatch(r"✔ bestanden · Gültigkeit: Gültig ab \S+", line) for line in german)
    assert any(
        re.fullmatch(
            r"✔ bestanden · Status: Nicht widerrufen \(Index \d+ ist nicht gesetzt\)", line
        )
        for line in german
    ), german

    french = _checks(client.get(f"/credentials/{credential_id}?lang=fr").text)
    assert "✔ réussi · signature: eddsa-rdfc-2022 : Signature vérifiée" in french
    assert any(re.fullmatch(r"✔ réussi · validité: Valide à partir du \S+", x) for x in french)

    spanish = _checks(client.get(f"/credentials/{credential_id}?lang=es").text)
    assert "✔ superada · firma: eddsa-rdfc-2022: Firma verificada" in spanish
    assert any("Emitida por North College, registrado en este servidor" in x for x in spanish)


def _post_verify(client: TestClient, lang: str, text: str) -> str:
    page = client.get(f"/verify?lang={lang}")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    return client.post("/verify", data={"credential": text, "csrf_token": token.group(1)}).text


def test_verify_page_reasons_keep_quoted_values_from_the_credential(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    definition_id: str,
) -> None:  # fmt: skip
    credential_id = _issue(sessions, settings, definition_id)
    document = _document(sessions, credential_id)
    document["@context"].append("https://example.org/Unbekannt")
    text = json.dumps(document)

    german = _checks(_post_verify(client, "de", text))
    assert (
        "✘ nicht bestanden · Kontext: Unbekannter JSON-LD-Kontext 'https://example.org/Unbekannt'"
        in german
    )
    assert "✔ bestanden · Einlesen: Nachweis gelesen (json)" in german
    french = _checks(_post_verify(client, "fr", text))
    assert "✘ échec · contexte: Contexte JSON-LD inconnu 'https://example.org/Unbekannt'" in french
    spanish = _checks(_post_verify(client, "es", text))
    assert any("Contexto JSON-LD desconocido 'https://example.org/Unbekannt'" in x for x in spanish)
    assert any(
        "firma: eddsa-rdfc-2022: Contexto JSON-LD desconocido 'https://example.org/Unbekannt': "
        "solo se cargan" in line
        for line in spanish
    ), spanish
    document["@context"].pop()
    document["credentialSubject"]["achievement"]["name"] = "Geändert"
    tampered = _checks(_post_verify(client, "es", json.dumps(document)))
    assert "✘ fallida · firma: eddsa-rdfc-2022: La firma no coincide con el documento" in tampered
    assert (
        "✘ nicht bestanden · Einlesen: Kein Nachweis: erwartet wird JSON, ein kompaktes JWT oder "
        "ein PNG-/SVG-Bild" in _checks(_post_verify(client, "de", "kein Nachweis"))
    )


def test_the_api_keeps_english_reasons_whatever_the_language(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    definition_id: str,
) -> None:  # fmt: skip
    credential_id = _issue(sessions, settings, definition_id)
    document = _document(sessions, credential_id)
    client.cookies.set("lang", "de")
    report = client.post("/api/v1/verify", json=document, headers={"Accept-Language": "de"}).json()
    reasons = {check["name"]: check["reason"] for check in report["checks"]}
    assert reasons["proof"] == "eddsa-rdfc-2022: Signature verified"
    assert reasons["parse"] == "Read a credential (json)"
    assert reasons["issuer"] == "Issued by North College, registered on this server"


def test_an_endorsements_failed_checks_are_named_in_the_readers_language() -> None:
    endorsement = {
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "id": "urn:uuid:endorsement-1",
        "issuer": {"id": "did:example:acme", "name": "ACME"},
        "credentialSubject": {"id": "urn:uuid:achievement-1"},
    }
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "credentialSubject": {
            "achievement": {"id": "urn:uuid:achievement-1", "endorsement": [endorsement]}
        },
    }

    def failing(_item: object) -> VerificationReport:
        report = VerificationReport()
        report.add(verify.PROOF, "fail", L_("The signature does not match the document"))
        return report

    report = verify.verify_credential(
        credential, resolver=DidResolver(fetch_json=_no_network), verify_endorsement=failing
    )
    (line,) = report.check(verify.ENDORSEMENTS)
    assert line.reason == (
        "Endorsement urn:uuid:endorsement-1 by ACME (on the achievement) does not hold: "
        "proof: The signature does not match the document"
    )
    with using_locale("de"):
        assert translate(line.reason) == (
            "Die Befürwortung urn:uuid:endorsement-1 by ACME (an der Leistung) hält nicht: "
            "Signatur: Die Signatur passt nicht zum Dokument"
        )


def _no_network(url: str) -> dict[str, Any]:
    raise AssertionError(f"no look-up expected: {url}")
