"""Pages in the reader's language: how a request's locale is chosen, ``<html lang>``, the public
credential page and the verification report in German, French and Spanish, and the account's
saved language."""

from __future__ import annotations

import io
import re

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy.orm import Session, sessionmaker

from microcred.accounts.models import User
from microcred.catalogue import service as catalogue
from microcred.credentials import service
from microcred.settings import Settings
from microcred.web.i18n import choose, from_accept_language
from tests.assessment.conftest import Course, course
from tests.catalogue.factories import definition_input, skills
from tests.conftest import World, sign_in_client
from tests.credentials.service.conftest import definition_id, issue_input
from tests.pathways.conftest import Catalogue, defs, issue
from tests.wallet.test_plans import occupation
from tests.web.test_plans_web import _catalogue as plan_catalogue

__all__ = ["course", "definition_id", "defs", "occupation", "skills"]


def _lang(html: str) -> str:
    found = re.search(r'<html lang="([^"]+)">', html)
    assert found
    return found.group(1)


def _issue(sessions: sessionmaker[Session], settings: Settings, definition: str) -> str:
    with sessions.begin() as session:
        return service.issue_credential(
            session, None, settings=settings, **issue_input(definition)
        ).id


def test_query_beats_cookie_beats_header_beats_english() -> None:
    assert choose("fr", "de", "es") == ("fr", "query")
    assert choose(None, "de", "es") == ("de", "cookie")
    assert choose("xx", "de", "es") == ("de", "cookie")
    assert choose(None, None, "es-ES,es;q=0.9,en;q=0.5") == ("es", "header")
    assert choose(None, "klingon", "ja") == ("en", "default")


def test_accept_language_honours_quality_and_regional_tags() -> None:
    assert from_accept_language("de-AT") == "de"
    assert from_accept_language("it, fr;q=0.4, de;q=0.8") == "de"
    assert from_accept_language("fr-CA;q=0.1, en;q=0.2") == "en"
    assert from_accept_language("es;q=0") is None
    assert from_accept_language("") is None


def test_html_lang_follows_query_cookie_and_header(client: TestClient) -> None:
    assert _lang(client.get("/verify").text) == "en"
    assert _lang(client.get("/verify", headers={"Accept-Language": "fr-FR,fr"}).text) == "fr"
    response = client.get("/verify?lang=de", headers={"Accept-Language": "fr"})
    assert _lang(response.text) == "de"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("lang=de;") and "Max-Age=31536000" in cookie
    assert "SameSite=Lax" in cookie and "Path=/" in cookie
    assert {part.strip() for part in response.headers["vary"].split(",")} == {
        "Accept-Language",
        "Cookie",
    }
    # the cookie now wins over the header, and a later ?lang= over the cookie
    assert _lang(client.get("/verify", headers={"Accept-Language": "fr"}).text) == "de"
    assert _lang(client.get("/verify?lang=es").text) == "es"
    assert _lang(client.get("/sign-in").text) == "es"


def test_footer_offers_each_language_in_its_own_words(client: TestClient) -> None:
    page = client.get("/sign-in?lang=fr").text
    assert '<nav class="language-switcher" aria-label="Langue"' in page
    assert '<a href="?lang=de" lang="de" hreflang="de">Deutsch</a>' in page
    assert 'aria-current="true"><strong>Français</strong>' in page
    assert "Aller au contenu" in page and "<h1>Se connecter</h1>" in page


def test_public_credential_page_in_german_french_and_spanish(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    definition_id: str,
) -> None:  # fmt: skip
    credential_id = _issue(sessions, settings, definition_id)
    english = client.get(f"/credentials/{credential_id}").text
    assert "Valid from" in english and "✔</span> Valid</h2>" in english
    assert "<strong>pass</strong> · proof:" in english

    german = client.get(f"/credentials/{credential_id}?lang=de").text
    assert _lang(german) == "de"
    assert "✔</span> Gültig</h2>" in german
    assert "<dt>Gültig ab</dt>" in german and "<dt>Gültig bis</dt>" in german
    assert "<strong>bestanden</strong> · Signatur:" in german
    assert "<strong>bestanden</strong> · Status:" in german
    assert 'id="credential-state">aktiv</span>' in german
    assert "<h2>Leistung</h2>" in german and "Ausgestellt von" in german
    valid_from = re.search(r'<time datetime="([^"]+)">([^<]+)</time>', german)
    assert valid_from and re.fullmatch(r"\d{1,2}\. \w+ \d{4}", valid_from.group(2))

    french = client.get(f"/credentials/{credential_id}?lang=fr").text
    assert "✔</span> Valide</h2>" in french and "<strong>réussi</strong> · signature:" in french
    assert "<dt>Valide à partir du</dt>" in french and "Délivrée par" in french

    spanish = client.get(f"/credentials/{credential_id}?lang=es").text
    assert "✔</span> Válida</h2>" in spanish and "<strong>superada</strong> · firma:" in spanish
    assert "<dt>Válida desde</dt>" in spanish and "<h2>Descargas</h2>" in spanish


def test_verify_report_in_french(client: TestClient) -> None:
    page = client.get("/verify?lang=fr")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    response = client.post(
        "/verify", data={"credential": "{not json", "csrf_token": token.group(1)}
    )
    assert "<h1>Vérifier une attestation</h1>" in response.text
    assert "✘</span> Non valide</h2>" in response.text
    assert "<strong>échec</strong> · lecture:" in response.text


@pytest.mark.parametrize("field", ["de", ""])
def test_saved_language_is_kept_and_applies_before_the_browser_header(
    client: TestClient, sessions: sessionmaker[Session], world: World, field: str
) -> None:
    csrf = sign_in_client(client, world.learner.email)
    client.cookies.set("lang", "fr")
    response = client.post(
        "/account/language", data={"locale": field, "csrf_token": csrf}, follow_redirects=False
    )
    assert response.status_code == 303
    assert 'lang=""' in response.headers["set-cookie"]  # the browser's choice is cleared
    client.cookies.delete("lang")
    with sessions() as session:
        user = session.get(User, world.learner.id)
        assert user is not None and user.locale == (field or None)
    page = client.get("/account", headers={"Accept-Language": "es"}).text
    assert _lang(page) == (field or "es")
    # an explicit choice in this browser still wins over the saved one
    assert _lang(client.get("/account?lang=fr").text) == "fr"


def test_an_unknown_saved_language_is_refused(
    client: TestClient, sessions: sessionmaker[Session], world: World
) -> None:
    csrf = sign_in_client(client, world.learner.email)
    response = client.post("/account/language", data={"locale": "xx", "csrf_token": csrf})
    assert response.status_code == 400
    assert "Choose one of the languages offered." in response.text
    with sessions() as session:
        user = session.get(User, world.learner.id)
        assert user is not None and user.locale is None


def test_the_certificate_follows_the_definitions_language_else_the_viewers(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    skills: dict[str, str],
) -> None:  # fmt: skip
    def issued_in(language: str) -> str:
        with sessions.begin() as session:
            definition = catalogue.create_definition(
                session, None, "north-college",
                definition_input(in_language=language, human_code=f"NC-{language}"), publish=True,
            )  # fmt: skip
        return _issue(sessions, settings, definition.definition_id)

    def certificate(path: str) -> tuple[str, str]:
        response = client.get(path)
        assert "Accept-Language" in response.headers["vary"]
        reader = PdfReader(io.BytesIO(response.content))
        return str(reader.trailer["/Root"]["/Lang"]), " ".join(
            reader.pages[0].extract_text().split()
        )

    german = issued_in("de")
    language, text = certificate(f"/credentials/{german}/certificate.pdf?lang=fr")
    assert language == "de" and "Ausgestellt von North College" in text
    english = issued_in("en")
    assert certificate(f"/credentials/{english}/certificate.pdf?lang=fr")[0] == "en"
    italian = issued_in("it")
    language, text = certificate(f"/credentials/{italian}/certificate.pdf?lang=fr")
    assert language == "fr" and "Délivrée par North College" in text


def test_wallet_in_german_french_and_spanish(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    definition_id: str,
) -> None:  # fmt: skip
    with sessions.begin() as session:
        service.issue_credential(
            session, None, definition_id=definition_id, recipient_user_id=world.learner.id,
            settings=settings,
        )  # fmt: skip
    sign_in_client(client, world.learner.email)
    english = client.get("/wallet?lang=en").text
    assert "<h1>My wallet</h1>" in english and "<h2>Import a credential</h2>" in english
    assert re.search(r"<td>\d{4}-\d{2}-\d{2}</td>", english)

    german = client.get("/wallet?lang=de").text
    assert "<h1>Meine Wallet</h1>" in german and "<h2>Hier erworben</h2>" in german
    assert "<h2>Einen Nachweis importieren</h2>" in german and ">aktiv</span>" in german
    assert "Importieren und prüfen</button>" in german and "Noch nichts importiert." in german
    assert re.search(r"<td>\d{1,2}\. \w+ \d{4}</td>", german)

    french = client.get("/wallet?lang=fr").text
    assert "<h1>Mon portefeuille</h1>" in french and "<h2>Importer une attestation</h2>" in french
    assert "<h2>Attestations importées</h2>" in french and ">active</span>" in french

    spanish = client.get("/wallet?lang=es").text
    assert "<h1>Mi cartera</h1>" in spanish and "<h2>Importar una credencial</h2>" in spanish
    assert "<h2>Obtenidas aquí</h2>" in spanish and ">activa</span>" in spanish


def test_account_page_in_german_french_and_spanish(client: TestClient, world: World) -> None:
    sign_in_client(client, world.learner.email)
    english = client.get("/account?lang=en").text
    assert "<h2>Your organisations</h2>" in english and "Change password</button>" in english

    german = client.get("/account?lang=de").text
    assert "<title>Ihr Konto" in german and "<h2>Ihre Organisationen</h2>" in german
    assert "<td>Lernende/r</td>" in german and "Passwort ändern</button>" in german
    assert "<h2>Verbundene Apps</h2>" in german and "Meine Daten herunterladen</button>" in german

    french = client.get("/account?lang=fr").text
    assert "<h2>Vos organisations</h2>" in french and "<td>apprenant</td>" in french
    assert "Changer le mot de passe</button>" in french and "<h2>Jetons d’API</h2>" in french

    spanish = client.get("/account?lang=es").text
    assert "<h2>Sus organizaciones</h2>" in spanish and "<td>estudiante</td>" in spanish
    assert "Cambiar la contraseña</button>" in spanish and "<h2>Sus datos</h2>" in spanish


def test_my_assessments_and_the_survey_in_german_french_and_spanish(
    client: TestClient, course: Course
) -> None:
    staff = TestClient(client.app)
    staff_token = sign_in_client(staff, "staff@north.example")
    sign_in_client(client, "learner@example.org")
    german = client.get("/assessments?lang=de").text
    assert "<h1>Meine Prüfungen</h1>" in german and "<td>Quiz / Klausur</td>" in german
    assert ">Nicht begonnen</td>" in german and "Verbleibende Versuche</th>" in german

    rows = "learner@example.org,QUIZ-1,100\nlearner@example.org,PROJECT-1,5\n"
    imported = staff.post(
        f"/api/v1/definitions/{course.definition_id}/results/import",
        content=f"email,assessment,score\n{rows}".encode(),
        headers={"X-CSRF-Token": staff_token, "Content-Type": "text/csv"},
    )  # fmt: skip
    assert imported.status_code == 200, imported.text
    english = client.get("/assessments?lang=en").text
    assert ">Passed</td>" in english and "<legend>How was it? (a short survey)</legend>" in english
    german = client.get("/assessments?lang=de").text
    assert ">Bestanden</td>" in german
    assert "<legend>Wie war es? (eine kurze Umfrage)</legend>" in german
    assert "Feedback senden</button>" in german and 'aria-label="Bewertung"' in german
    french = client.get("/assessments?lang=fr").text
    assert ">Réussi</td>" in french and "<p>Le recommanderiez-vous ?</p>" in french
    spanish = client.get("/assessments?lang=es").text
    assert ">Superada</td>" in spanish and "Enviar opinión</button>" in spanish


def test_pathway_pages_in_german_french_and_spanish(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, defs: Catalogue,
) -> None:  # fmt: skip
    token = sign_in_client(client, "staff@north.example")
    created = client.post(
        "/api/v1/pathways",
        headers={"X-CSRF-Token": token},
        json={
            "name": "Data", "kind": "certificate", "organisation": "north-college",
            "publish": True, "qualification_definition_id": defs.qualification,
            "requirements": {"type": "all_of", "children": [
                {"type": "credential", "definition_id": defs.python},
                {"type": "credential", "definition_id": defs.sql},
            ]},
        },
    )  # fmt: skip
    assert created.status_code == 201, created.text
    pathway_id = created.json()["id"]
    issue(sessions, settings, defs.python)
    client.post("/sign-out", data={"csrf_token": token})
    sign_in_client(client, "learner@example.org")

    english = client.get(f"/pathways/{pathway_id}?lang=en").text
    assert "<h3>Shortest remaining route</h3>" in english and ">50% done</strong>" in english
    german = client.get(f"/pathways/{pathway_id}?lang=de").text
    assert '<h2 id="progress-title">Ihr Fortschritt</h2>' in german
    assert "<h3>Kürzester verbleibender Weg</h3>" in german and ">50 % erledigt</strong>" in german
    assert '<span class="tag">Zertifikat</span>' in german and ">Erledigt</span>" in german
    assert "Noch 1 Nachweis, etwa" in german
    french = client.get(f"/pathways/{pathway_id}?lang=fr").text
    assert '<h2 id="progress-title">Votre progression</h2>' in french
    assert "<h3>Chemin restant le plus court</h3>" in french and ">À faire</span>" in french
    spanish = client.get(f"/pathways/{pathway_id}?lang=es").text
    assert "<h3>Ruta restante más corta</h3>" in spanish and ">Pendiente</span>" in spanish

    listing = client.get("/pathways?lang=de").text
    assert "<h1>Lernpfade</h1>" in listing and "<p>50 % erledigt</p>" in listing
    assert "<h1>Parcours</h1>" in client.get("/pathways?lang=fr").text
    assert "<h1>Itinerarios</h1>" in client.get("/pathways?lang=es").text


def test_outcome_report_form_in_german_french_and_spanish(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    definition_id: str,
) -> None:  # fmt: skip
    with sessions.begin() as session:
        credential_id = service.issue_credential(
            session, None, definition_id=definition_id, recipient_user_id=world.learner.id,
            settings=settings,
        ).id  # fmt: skip
    sign_in_client(client, world.learner.email)
    path = f"/wallet/outcomes?credential={credential_id}"
    english = client.get(f"{path}&lang=en").text
    assert "<legend>Your situation now</legend>" in english and "Save my report" in english

    german = client.get(f"{path}&lang=de").text
    assert "<h1>Wie ging es nach Ihrem Nachweis weiter?</h1>" in german
    assert (
        "<legend>Ihre aktuelle Situation</legend>" in german
        and "> Auf Arbeitssuche</label>" in german
    )
    assert (
        "Meine Angabe speichern</button>" in german
        and '<h2 id="mine-heading">Ihre Nachweise' in german
    )
    assert re.search(r"Abgeschlossen am \d{1,2}\. \w+ \d{4}", german)

    french = client.get(f"{path}&lang=fr").text
    assert (
        "<legend>Votre situation actuelle</legend>" in french and "> Indépendant</label>" in french
    )
    assert "Enregistrer ma déclaration</button>" in french

    spanish = client.get(f"{path}&lang=es").text
    assert (
        "<legend>Su situación actual</legend>" in spanish
        and "> Buscando trabajo</label>" in spanish
    )
    assert "Guardar mi respuesta</button>" in spanish


def test_learning_plan_in_german_french_and_spanish(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    occupation: str,
) -> None:  # fmt: skip
    plan_catalogue(sessions, settings, world)
    sign_in_client(client, world.learner.email)
    params = {"job": "data analyst"}
    english = client.get("/learning-plan", params={**params, "lang": "en"}).text
    assert "<h2>Your steps</h2>" in english and "Make my plan</button>" in english

    german = client.get("/learning-plan", params={**params, "lang": "de"}).text
    assert "<h1>Lernplan</h1>" in german and "<h2>Ihre Schritte</h2>" in german
    assert (
        "Meinen Plan erstellen</button>" in german and "</strong> jetzt vorhanden</div>" in german
    )
    assert "<h2>Durch Ihre Nachweise bereits belegt</h2>" in german

    french = client.get("/learning-plan", params={**params, "lang": "fr"}).text
    assert "<h1>Plan d’apprentissage</h1>" in french and "<h2>Vos étapes</h2>" in french
    assert "Établir mon plan</button>" in french

    spanish = client.get("/learning-plan", params={**params, "lang": "es"}).text
    assert "<h1>Plan de aprendizaje</h1>" in spanish and "<h2>Sus pasos</h2>" in spanish
    assert "Crear mi plan</button>" in spanish


def test_public_profile_form_in_german_french_and_spanish(client: TestClient, world: World) -> None:
    sign_in_client(client, world.learner.email)
    assert "Publish my profile</label>" in client.get("/wallet/profile?lang=en").text
    german = client.get("/wallet/profile?lang=de").text
    assert "<h1>Mein öffentliches Profil</h1>" in german and "Mein Profil veröffentlichen" in german
    assert "<legend>Hier erworbene Nachweise</legend>" in german and ">Speichern</button>" in german
    french = client.get("/wallet/profile?lang=fr").text
    assert "<h1>Mon profil public</h1>" in french and "Publier mon profil" in french
    spanish = client.get("/wallet/profile?lang=es").text
    assert "<h1>Mi perfil público</h1>" in spanish and "Publicar mi perfil" in spanish


def test_presentations_page_in_german_french_and_spanish(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    definition_id: str,
) -> None:  # fmt: skip
    with sessions.begin() as session:
        service.issue_credential(
            session, None, definition_id=definition_id, recipient_user_id=world.learner.id,
            settings=settings,
        )  # fmt: skip
    sign_in_client(client, world.learner.email)
    assert "Download presentation</button>" in client.get("/wallet/presentations?lang=en").text
    german = client.get("/wallet/presentations?lang=de").text
    assert "<h1>Nachweise einer prüfenden Stelle vorlegen</h1>" in german
    assert "<legend>Vorzulegende Nachweise</legend>" in german
    assert "Präsentation herunterladen</button>" in german
    french = client.get("/wallet/presentations?lang=fr").text
    assert "<legend>Attestations à présenter</legend>" in french
    spanish = client.get("/wallet/presentations?lang=es").text
    assert "<legend>Credenciales que presentar</legend>" in spanish


def test_wallet_app_offer_page_in_german_french_and_spanish(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    definition_id: str,
) -> None:  # fmt: skip
    with sessions.begin() as session:
        credential_id = service.issue_credential(
            session, None, definition_id=definition_id, recipient_user_id=world.learner.id,
            settings=settings,
        ).id  # fmt: skip
    csrf = sign_in_client(client, world.learner.email)
    created = client.post(
        f"/credentials/{credential_id}/wallet-offers", data={"csrf_token": csrf},
        follow_redirects=False,
    )  # fmt: skip
    assert created.status_code == 303
    offer = created.headers["location"]
    assert "Open in my wallet app</a>" in client.get(offer, params={"lang": "en"}).text
    german = client.get(offer, params={"lang": "de"}).text
    assert (
        "In meiner Wallet-App öffnen</a>" in german and "<h2>Was Ihre Wallet erhält</h2>" in german
    )
    assert "Neuer QR-Code</button>" in german and 'id="offer-pin"' in german
    french = client.get(offer, params={"lang": "fr"}).text
    assert "Ouvrir dans mon application de portefeuille</a>" in french
    spanish = client.get(offer, params={"lang": "es"}).text
    assert "Abrir en mi aplicación de cartera</a>" in spanish
