"""The talent pages in the reader's language: the learner's consent page (/wallet/talent) and
the employer's search with each result's reasons; names, e-mail addresses and skills stay as
they are, and the API keeps its English."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.catalogue.factories import SQL, skills
from tests.conftest import World, sign_in_client
from tests.talent.conftest import (
    Catalogue,
    Issue,
    Learner,
    definitions,
    issue,
    make_learner,
    taxonomy,
)

__all__ = ["definitions", "issue", "make_learner", "skills", "taxonomy"]


def test_the_consent_page_in_german_french_and_spanish(client: TestClient, world: World) -> None:
    csrf = sign_in_client(client, world.learner.email)
    assert "<h1>Be found by employers</h1>" in client.get("/wallet/talent?lang=en").text
    german = client.get("/wallet/talent?lang=de").text
    assert "<h1>Von Arbeitgebern gefunden werden</h1>" in german
    assert (
        "<li>Ihre E-Mail-Adresse (<strong>learner@example.org</strong>), damit er Sie "
        "kontaktieren kann;</li>"
    ) in german
    assert "> Arbeitgeber dürfen mich über meine geprüften Kompetenzen finden" in german
    assert '<p class="muted">Noch hat Sie kein Arbeitgeber gefunden.</p>' in german
    saved = client.post("/wallet/talent", data={"searchable": "on", "csrf_token": csrf}).text
    assert "Gespeichert. Arbeitgeber können Sie jetzt finden.</p>" in saved

    french = client.get("/wallet/talent?lang=fr").text
    assert (
        "<li>votre nom ;</li>" in french and '<h2 id="found-heading">Qui m’a trouvé</h2>' in french
    )
    spanish = client.get("/wallet/talent?lang=es").text
    assert "<li>su nombre;</li>" in spanish
    assert '<h2 id="found-heading">Quién me encontró</h2>' in spanish


def test_the_employers_search_and_its_reasons_in_german_french_and_spanish(
    client: TestClient, world: World, definitions: Catalogue, make_learner: Learner,
    issue: Issue,
) -> None:  # fmt: skip
    issue(definitions.sql_only, make_learner("ana@example.org", "Ana Found"))
    csrf = sign_in_client(client, world.employer.email)

    def search(lang: str) -> str:
        page = client.get("/talent", params={"q": "SQL", "lang": lang})
        assert page.status_code == 200
        return page.text

    english = search("en")
    assert "Why: 1 of 1 skill matched (+10);" in english
    german = search("de")
    assert "<h1>Talente nach geprüften Kompetenzen finden</h1>" in german
    assert '<h2 id="talent-count">1 lernende Person gefunden</h2>' in german
    assert "Warum: 1 von 1 Kompetenz getroffen (+10); neuester passender Nachweis " in german
    assert "Ana Found" in german and "mailto:ana@example.org" in german
    assert "Einverstandene Lernende mit geprüftem Nachweis je Kompetenz" in german  # the chart
    french = search("fr")
    assert '<h2 id="talent-count">1 apprenant trouvé</h2>' in french
    assert "Pourquoi : 1 compétence sur 1 trouvée (+10); attestation correspondante" in french
    spanish = search("es")
    assert '<h2 id="talent-count">1 estudiante encontrado</h2>' in spanish
    assert "Por qué: 1 de 1 competencia encontrada (+10); credencial coincidente" in spanish

    client.cookies.set("lang", "de")  # the API keeps the English
    found = client.post(
        "/api/v1/talent/search", json={"skills": [SQL]},
        headers={"X-CSRF-Token": csrf, "Accept-Language": "de"},
    )  # fmt: skip
    assert found.status_code == 200, found.text
    (candidate,) = found.json()["results"]
    assert candidate["score"]["explanation"][0] == "1 of 1 skill matched (+10)"
