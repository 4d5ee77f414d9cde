"""The talent pages in the reader's language: the learner's consent page (/wallet/talent) and
the employer's search with each result's reasons; names, e-mail addresses and skills stay as
they are, and the API keeps its English."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.catalogue.factories import skills
from tests.conftest import World, sign_in_client
from tests.talent.conftest import definitions, issue, make_learner, taxonomy

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
