"""OB 3.0 Achievement and Profile documents validate against the 1EdTech JSON schema."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from jsonschema import Draft201909Validator
from sqlalchemy.orm import Session

from microcred.catalogue import service
from microcred.catalogue.badge_image import default_badge_svg, initials, issuer_colour
from tests.catalogue.factories import PYTHON, definition_input
from tests.conftest import SHARED_DIR, World

SCHEMA = SHARED_DIR / "standards/schemas/ob-3.0/ob_v3p0_achievementcredential_schema.json"
BASE = "https://microcred.example"


@cache
def validator_for(definition: str) -> Draft201909Validator:
    schema = json.loads(SCHEMA.read_text())
    return Draft201909Validator({"$ref": f"#/$defs/{definition}", "$defs": schema["$defs"]})


def assert_valid(document: dict[str, Any], definition: str) -> None:
    errors = sorted(validator_for(definition).iter_errors(document), key=str)
    assert not errors, [e.message for e in errors]


def test_achievement_is_valid_ob3_with_skills_eqf_and_rubric(
    session: Session, world: World, skills: dict[str, str]
) -> None:
    service.update_issuer_profile(
        session, None, "north-college",
        {"url": "https://north.example", "email": "info@north.example", "locality": "Leeds"},
    )  # fmt: skip
    definition = service.create_definition(
        session, None, "north-college", definition_input(), publish=True
    )
    service.update_definition(session, None, definition.definition_id, {"eqf_level": 6})
    second = service.publish_definition(session, None, definition.definition_id)
    document = service.achievement_document(session, second, BASE)
    assert_valid(document, "Achievement")
    assert document["id"] == f"{BASE}/definitions/{definition.definition_id}/v/2"
    assert document["achievementType"] == "MicroCredential"
    esco = document["alignment"][0]
    assert (esco["targetUrl"], esco["targetFramework"], esco["targetType"]) == (
        PYTHON, "ESCO", "ext:ESCOSkill",
    )  # fmt: skip
    assert esco["targetName"] == skills[PYTHON]
    assert document["alignment"][-1]["targetUrl"] == "http://data.europa.eu/snb/eqf/6"
    result = document["resultDescription"][0]
    assert [level["name"] for level in result["rubricCriterionLevel"]] == ["Novice", "Competent"]
    assert result["requiredLevel"].endswith("#level-2")
    assert document["creditsAvailable"] == 2
    assert document["humanCode"] == "DATA-101"
    assert "Load and clean CSV data" in document["criteria"]["narrative"]
    assert "- Duration: 6 weeks (P6W)" in document["criteria"]["narrative"].splitlines()
    assert document["related"][0]["id"].endswith("/v/1")
    assert document["creator"]["url"] == "https://north.example"
    assert document["image"]["id"].endswith("/image.svg?v=2")


def test_profile_is_valid_ob3(session: Session, world: World) -> None:
    view = service.update_issuer_profile(
        session, None, "north-college",
        {"url": "https://north.example", "phone": "+44 113 000 0000",
         "image_url": "https://north.example/logo.png", "parent_organisation": "south-academy"},
    )  # fmt: skip
    document = service.profile_document(session, view, BASE)
    assert_valid(document, "Profile")
    assert document["id"] == f"{BASE}/issuers/north-college"
    assert document["parentOrg"]["name"] == "South Academy"


@pytest.mark.parametrize("name", ["North College", "x", "Ünïcode & <Co>", ""])
def test_default_badge_is_well_formed_svg(name: str) -> None:
    import xml.etree.ElementTree as ElementTree

    issuer = name or "?"
    svg = default_badge_svg(f"{name} credential", issuer)
    root = ElementTree.fromstring(svg)
    assert root.tag.endswith("svg")
    assert issuer_colour(issuer) in svg
    assert initials("North College") == "NC"
