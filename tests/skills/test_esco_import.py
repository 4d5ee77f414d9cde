# ruff: noqa: E501  (the CSV fixtures keep ESCO's exact header lines)
"""`microcred import taxonomy DIR`: the official ESCO CSV download format, good and bad files."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from microcred.skills import service
from microcred.skills.errors import TaxonomyFileError
from microcred.skills.loader import current_version, import_esco_directory
from microcred.skills.models import Occupation, OccupationSkill, Skill, SkillRelation

ESCO = "http://data.europa.eu/esco"
SKILLS = f"""conceptType,conceptUri,skillType,reuseLevel,preferredLabel,altLabels,hiddenLabels,status,modifiedDate,scopeNote,definition,inScheme,description
KnowledgeSkillCompetence,{ESCO}/skill/s1,skill/competence,cross-sector,manage budgets,"control budgets
administer budgets",budgetting,released,2023-01-01,,,,"Plan, monitor and report on the budget."
KnowledgeSkillCompetence,{ESCO}/skill/s2,knowledge,sector-specific,accounting techniques,bookkeeping techniques,,released,2023-01-01,,,,The techniques of recording business transactions.
"""
OCCUPATIONS = f"""conceptType,conceptUri,iscoGroup,preferredLabel,altLabels,hiddenLabels,status,modifiedDate,regulatedProfessionNote,scopeNote,definition,inScheme,description,code
Occupation,{ESCO}/occupation/o1,2411,accountant,"chartered accountant
certified accountant",,released,2023-01-01,,,,,Accountants check financial records.,2411.1
"""
RELATIONS = f"""occupationUri,relationType,skillType,skillUri
{ESCO}/occupation/o1,essential,skill/competence,{ESCO}/skill/s1
{ESCO}/occupation/o1,optional,knowledge,{ESCO}/skill/s2
"""
BROADER = f"""conceptType,conceptUri,broaderType,broaderUri
KnowledgeSkillCompetence,{ESCO}/skill/s1,SkillGroup,{ESCO}/skill/g1
"""
HIERARCHY = f"""Level 0 URI,Level 0 preferred term,Level 1 URI,Level 1 preferred term,Level 2 URI,Level 2 preferred term,Level 3 URI,Level 3 preferred term,Description,Scope note,Level 0 code,Level 1 code,Level 2 code,Level 3 code
{ESCO}/skill/S,skills,{ESCO}/skill/g1,managing budgets and finances,,,,,,,S,S4,,
"""


def write_download(folder: Path, **overrides: str) -> Path:
    files = {
        "skills_en": SKILLS,
        "occupations_en": OCCUPATIONS,
        "occupationSkillRelations_en": RELATIONS,
        "broaderRelationsSkillPillar_en": BROADER,
        "skillsHierarchy_en": HIERARCHY,
        **overrides,
    }
    folder.mkdir(parents=True, exist_ok=True)
    for stem, content in files.items():
        if content:
            (folder / f"{stem}.csv").write_text(content, encoding="utf-8")
    return folder


def _counts(session: Session) -> tuple[int, ...]:
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Skill, Occupation, OccupationSkill, SkillRelation)
    )


def test_imports_skills_occupations_relations_and_hierarchy(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with sessions.begin() as session:
        summary = import_esco_directory(session, write_download(tmp_path / "esco"))
    assert "Loaded skills taxonomy ESCO CSV download" in summary
    with sessions() as session:
        skill = service.get_skill(session, f"{ESCO}/skill/s1")
        assert skill.preferred_label == "manage budgets"
        assert skill.alt_labels == ["control budgets", "administer budgets", "budgetting"]
        assert (skill.skill_type, skill.reuse_level) == ("skill/competence", "cross-sector")
        needs = service.occupation_skills(session, f"{ESCO}/occupation/o1")
        assert [(n.skill_label, n.relation_type, n.source) for n in needs] == [
            ("manage budgets", "essential", "esco"),
            ("accounting techniques", "optional", "esco"),
        ]
        assert [r.label for r in service.skill_broader(session, f"{ESCO}/skill/s1")] == [
            "managing budgets and finances"
        ]
        assert [r.label for r in service.skill_broader(session, f"{ESCO}/skill/g1")] == ["skills"]
        occupation = service.get_occupation(session, f"{ESCO}/occupation/o1")
        assert occupation.code == "2411.1"
        assert occupation.broader_uri == f"{ESCO}/isco/C2411"
        assert service.search_skills(session, "administering budget")[0].uri == f"{ESCO}/skill/s1"
        assert _counts(session) == (2 + 2, 1, 2, 2)
        version = current_version(session)
        assert version is not None and len(version.sources) == 5


def test_importing_the_same_download_twice_does_nothing_the_second_time(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    folder = write_download(tmp_path / "esco")
    with sessions.begin() as session:
        import_esco_directory(session, folder)
    with sessions.begin() as session:
        assert "unchanged, nothing to do" in import_esco_directory(session, folder)
        assert len(service.taxonomy_versions(session)) == 2  # the default load, then this one


BAD_DOWNLOADS = {
    "missing column": (
        {"skills_en": "conceptUri,altLabels\nhttp://x/s,a\n"},
        "skills_en.csv:preferredLabel",
    ),
    "empty label": (
        {"skills_en": SKILLS.replace("manage budgets", "")},
        "skills_en.csv line 2:preferredLabel",
    ),
    "not a URI": (
        {"skills_en": SKILLS.replace(f"{ESCO}/skill/s2", "s2")},
        "skills_en.csv line 4:conceptUri",
    ),
    "bad relation type": (
        {"occupationSkillRelations_en": RELATIONS.replace("optional", "nice-to-have")},
        "occupationSkillRelations_en.csv line 3:relationType",
    ),
    "unknown skill": (
        {"occupationSkillRelations_en": RELATIONS.replace("skill/s2", "skill/s9")},
        "occupationSkillRelations_en.csv line 3:skillUri",
    ),
    "unknown broader": (
        {"broaderRelationsSkillPillar_en": BROADER.replace("skill/g1", "skill/g9")},
        "broaderRelationsSkillPillar_en.csv line 2:broaderUri",
    ),
    "bad skill type": (
        {"skills_en": SKILLS.replace(",knowledge,", ",wisdom,")},
        "skills_en.csv line 4:skillType",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_DOWNLOADS))
def test_bad_files_are_refused_with_the_field_and_nothing_is_written(
    case: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    overrides, field = BAD_DOWNLOADS[case]
    folder = write_download(tmp_path / "esco", **overrides)
    with sessions() as session:
        before = _counts(session), len(service.taxonomy_versions(session))
    with pytest.raises(TaxonomyFileError) as error, sessions.begin() as session:
        import_esco_directory(session, folder)
    assert error.value.field == field
    assert error.value.status_code == 400
    with sessions() as session:
        assert (_counts(session), len(service.taxonomy_versions(session))) == before


def test_a_folder_without_skills_file_is_refused(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with (
        pytest.raises(TaxonomyFileError, match=r"skills_en\.csv was not found"),
        sessions.begin() as s,
    ):
        import_esco_directory(s, write_download(tmp_path / "esco", skills_en=""))
    with pytest.raises(TaxonomyFileError, match="is not a directory"), sessions.begin() as s:
        import_esco_directory(s, tmp_path / "nowhere")
