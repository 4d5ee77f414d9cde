"""What the pathway and learning-plan services compose, in the reader's language: a
requirement's description and progress summary, a plan step's reason, why a skill weighs and
why one stays open. Names (credentials, skills, pathways) stay as written."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from microcred.settings import Settings
from tests.catalogue.factories import skills
from tests.conftest import World, sign_in_client
from tests.pathways.conftest import Catalogue, defs, issue
from tests.wallet.test_plans import occupation
from tests.web.test_plans_web import _catalogue as plan_catalogue

__all__ = ["defs", "occupation", "skills"]


def _text(page: str, css_class: str) -> list[str]:
    found = re.findall(rf'<span class="{css_class}">(.*?)</span>', page, re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", "", item)).split()) for item in found]


def test_pathway_requirements_and_progress_in_german_french_and_spanish(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, defs: Catalogue,
) -> None:  # fmt: skip
    token = sign_in_client(client, "staff@north.example")
    created = client.post(
        "/api/v1/pathways",
        headers={"X-CSRF-Token": token},
        json={
            "name": "Data", "kind": "certificate", "organisation": "north-college",
            "publish": True, "qualification_definition_id": defs.qualification,
            "requirements": {"type": "all_of", "within_years": 3, "children": [
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
    assert "All of these 2, earned within 3 years" in _text(english, "pw-desc")
    assert {"1 of 2 done", "Not earned yet"} <= set(_text(english, "muted"))

    german = client.get(f"/pathways/{pathway_id}?lang=de").text
    assert "Alle diese 2, erworben innerhalb von 3 Jahren" in _text(german, "pw-desc")
    summaries = set(_text(german, "muted"))
    assert {"1 von 2 erledigt", "Noch nicht erworben"} <= summaries
    assert any(line.startswith("Erworben: ") for line in summaries), summaries
    french = client.get(f"/pathways/{pathway_id}?lang=fr").text
    assert "Tous ces 2, obtenu(s) au cours des 3 dernières années" in _text(french, "pw-desc")
    assert {"1 sur 2 faits", "Pas encore obtenue"} <= set(_text(french, "muted"))
    spanish = client.get(f"/pathways/{pathway_id}?lang=es").text
    assert "Todos estos 2, obtenido en los últimos 3 años" in _text(spanish, "pw-desc")
    assert {"1 de 2 hechos", "Aún no obtenida"} <= set(_text(spanish, "muted"))
    client.cookies.set("lang", "de")  # the API keeps the English
    (mine,) = client.get("/api/v1/pathways/progress", headers={"Accept-Language": "de"}).json()
    assert mine["tree"]["description"] == "All of these 2, earned within 3 years"
    assert mine["tree"]["summary"] == "1 of 2 done"


def test_learning_plan_reasons_in_german_french_and_spanish(
    client: TestClient, sessions: sessionmaker[Session], settings: Settings, world: World,
    occupation: str,
) -> None:  # fmt: skip
    plan_catalogue(sessions, settings, world)
    sign_in_client(client, world.learner.email)
    params = {"job": "data analyst"}

    def steps(lang: str) -> str:
        page = client.get("/learning-plan", params={**params, "lang": lang}).text
        return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())

    assert "Covers 1 missing skill (SQL) for 90 EUR, 50 h." in steps("en")
    german = steps("de")
    assert "Deckt 1 fehlende Kompetenz ab (SQL), für 90 EUR, 50 Std." in german
    assert "SQL wesentlich für den Beruf (ESCO)" in german
    assert "Es sind keine Stellenanzeigen geladen: Die Gewichte stammen allein aus" in german
    french = steps("fr")
    assert "Couvre 1 compétence manquante (SQL) pour 90 EUR, 50 h." in french
    assert "SQL essentielle pour le métier (ESCO)" in french
    spanish = steps("es")
    assert "Cubre 1 competencia que falta (SQL) por 90 EUR, 50 h." in spanish
    assert "SQL esencial para el puesto (ESCO)" in spanish
