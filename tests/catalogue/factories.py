"""Catalogue test data: a few taxonomy skills (fixture) and a valid definition input."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from microcred.skills.models import Skill, TaxonomyVersion

PYTHON = "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"
SQL = "http://data.europa.eu/esco/skill/598de5b0-5b58-4ea7-8058-a4bc4d18c742"
TEAMWORK = "http://data.europa.eu/esco/skill/6ba7d3a0-f2a1-4e2b-9d2c-6b1a4f1b2f4e"
UNKNOWN = "http://data.europa.eu/esco/skill/00000000-0000-0000-0000-000000000000"


@pytest.fixture
def skills(sessions: sessionmaker[Session]) -> dict[str, str]:
    labels = {PYTHON: "Python (computer programming)", SQL: "SQL", TEAMWORK: "work in teams"}
    with sessions.begin() as session:
        version = TaxonomyVersion(name="test taxonomy", fingerprint="0" * 64, is_current=True)
        session.add(version)
        session.flush()
        for uri, label in labels.items():
            session.add(
                Skill(
                    uri=uri,
                    preferred_label=label,
                    source="esco",
                    skill_type="skill",
                    taxonomy_version_id=version.id,
                )
            )
    return labels


def definition_input(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Data analysis with Python",
        "description": "Clean, analyse and visualise tabular data with Python and pandas.",
        "criteria_narrative": "Pass the final project with at least the Competent level.",
        "learning_outcomes": ["Load and clean CSV data", "Summarise data with group-by"],
        "workload_hours": 50,
        "ects_credits": 2,
        "eqf_level": 5,
        "skills": [PYTHON, SQL],
        "assessment_types": ["project", "exam"],
        "participation_form": "online",
        "price_amount": 120,
        "price_currency": "EUR",
        "duration_weeks": 6,
        "in_language": "en",
        "human_code": "DATA-101",
        "tags": ["data", "python"],
        "rubric_levels": [
            {"name": "Novice", "description": "Needs guidance"},
            {"name": "Competent", "description": "Works alone", "points": "2"},
        ],
        "required_level": "Competent",
        "quality_assurance": "Internal QA board review each year",
        "identity_checked": True,
        "stackable": True,
        "stackable_notes": "Counts towards the Data Analyst pathway",
    }
    data.update(overrides)
    return data
