"""A small real vocabulary (ESCO labels and O*NET technologies) for extraction tests."""

from __future__ import annotations

import pytest

from microcred.skills.extraction import SkillConcept, SkillExtractor

ESCO = "http://data.europa.eu/esco/skill/"

VOCABULARY = [
    SkillConcept(ESCO + "project", "manage projects", ("project management", "run projects")),
    SkillConcept(ESCO + "stakeholders", "communicate with stakeholders"),
    SkillConcept(ESCO + "teams", "work in teams", ("teamwork",)),
    SkillConcept(ESCO + "sql", "SQL", ("structured query language",)),
    SkillConcept(ESCO + "python", "Python (computer programming)", ("Python",)),
    SkillConcept(ESCO + "cpp", "C++"),
    SkillConcept(ESCO + "r", "R"),
    SkillConcept(ESCO + "go", "Go"),
    SkillConcept(ESCO + "pm-software", "project management software"),
    SkillConcept(ESCO + "customer", "customer service", ("client service",)),
    SkillConcept(ESCO + "forklift", "operate forklift"),
    SkillConcept(ESCO + "budget", "manage budgets"),
]


@pytest.fixture(scope="session")
def extractor() -> SkillExtractor:
    return SkillExtractor.build(VOCABULARY)
