"""Columnar storage of processed postings: Parquet parts under ``data_dir/market``.

``postings/`` holds one row per posting, ``posting_skills/`` one row per (posting, skill) with
the dimensions analytics group by (region, country, month, occupation, salary) copied in, so
the demand query is one scan without a join. ``skills.parquet`` maps URIs to labels and
``state.json`` records, per input file (by content digest), the last line safely stored:
that is the checkpoint a resumed ingestion starts from. Parts are written to a temporary name
and renamed, so a crash never leaves half a part behind.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from microcred.market.dedup import DuplicateIndex, Signature


@dataclass
class StoredPosting:
    posting_id: str
    source: str
    line: int
    title: str
    employer: str | None
    location: str | None
    region: str
    region_code: str | None
    country: str | None
    remote: bool
    posted: date
    occupation_uri: str | None
    occupation_label: str | None
    occupation_code: str | None
    salary_annual: float | None
    currency: str | None
    language: str | None
    truncated: bool
    skills: list[str]
    signature: Signature


POSTINGS_SCHEMA = pa.schema(
    [
        ("posting_id", pa.string()),
        ("source", pa.string()),
        ("line", pa.int64()),
        ("title", pa.string()),
        ("employer", pa.string()),
        ("location", pa.string()),
        ("region", pa.string()),
        ("region_code", pa.string()),
        ("country", pa.string()),
        ("remote", pa.bool_()),
        ("posted", pa.date32()),
        ("month", pa.date32()),
        ("occupation_uri", pa.string()),
        ("occupation_label", pa.string()),
        ("occupation_code", pa.string()),
        ("salary_annual", pa.float64()),
        ("currency", pa.string()),
        ("language", pa.string()),
        ("truncated", pa.bool_()),
        ("skill_count", pa.int32()),
        ("signature", pa.binary()),
    ]
)
SKILLS_SCHEMA = pa.schema(
    [
        ("posting_id", pa.string()),
        ("skill_uri", pa.string()),
        ("region", pa.string()),
        ("country", pa.string()),
        ("month", pa.date32()),
        ("occupation_uri", pa.string()),
        ("salary_annual", pa.float64()),
        ("currency", pa.string()),
    ]
)


def first_of_month(day: date) -> date:
    return day.replace(day=1)


@dataclass
class MarketStore:
    root: Path

    @property
    def postings_dir(self) -> Path:
        return self.root / "postings"

    @property
    def skills_dir(self) -> Path:
        return self.root / "posting_skills"

    @property
    def labels_path(self) -> Path:
        return self.root / "skills.parquet"

    @property
    def state_path(self) -> Path:
        return self.root / "state.json"

    @property
    def cube_postings_path(self) -> Path:
        return self.root / "cube" / "postings.parquet"

    @property
    def cube_skills_path(self) -> Path:
        return self.root / "cube" / "skills.parquet"

    @property
    def cube_manifest_path(self) -> Path:
        return self.root / "cube" / "parts.json"

    def _part_names(self) -> list[str]:
        return sorted(path.name for path in self.postings_dir.glob("*.parquet"))

    def build_cube(self) -> None:
        """Postings and skill mentions counted per region × country × month (and skill).

        The counting analytics read this instead of every row; it is rebuilt after each
        ingestion and ignored when the parts changed since (see :meth:`cube_is_current`).
        """
        import duckdb

        if not self.has_data():
            return
        folder = self.cube_postings_path.parent
        folder.mkdir(parents=True, exist_ok=True)
        connection = duckdb.connect()
        queries = (
            (
                self.cube_postings_path,
                f"SELECT region, country, month, count(*) AS n "
                f"FROM read_parquet('{self.postings_dir.as_posix()}/*.parquet') GROUP BY ALL",
            ),
            (
                self.cube_skills_path,
                f"SELECT skill_uri, region, country, month, count(*) AS n "
                f"FROM read_parquet('{self.skills_dir.as_posix()}/*.parquet') GROUP BY ALL "
                "ORDER BY skill_uri",
            ),
        )
        for path, query in queries:
            temporary = path.with_name(f".{path.name}.tmp")
            connection.execute(f"COPY ({query}) TO '{temporary.as_posix()}' (FORMAT parquet)")
            os.replace(temporary, path)
        connection.close()
        self.cube_manifest_path.write_text(json.dumps(self._part_names()))

    def cube_is_current(self) -> bool:
        if not (self.cube_manifest_path.is_file() and self.cube_skills_path.is_file()):
            return False
        stored: list[str] = json.loads(self.cube_manifest_path.read_text())
        return stored == self._part_names()

    def has_data(self) -> bool:
        return self.postings_dir.is_dir() and any(self.postings_dir.glob("*.parquet"))

    # -- checkpoints -------------------------------------------------------------------------
    def load_state(self) -> dict[str, Any]:
        if not self.state_path.is_file():
            return {"files": {}}
        state: dict[str, Any] = json.loads(self.state_path.read_text())
        return state

    def save_state(self, state: Mapping[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        temporary = self.state_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=2, sort_keys=True))
        os.replace(temporary, self.state_path)

    # -- writing -----------------------------------------------------------------------------
    def write_part(self, name: str, postings: Sequence[StoredPosting]) -> None:
        if not postings:
            return
        self.postings_dir.mkdir(parents=True, exist_ok=True)
        self.skills_dir.mkdir(parents=True, exist_ok=True)
        months = [first_of_month(p.posted) for p in postings]
        table = pa.table(
            {
                "posting_id": [p.posting_id for p in postings],
                "source": [p.source for p in postings],
                "line": [p.line for p in postings],
                "title": [p.title for p in postings],
                "employer": [p.employer for p in postings],
                "location": [p.location for p in postings],
                "region": [p.region for p in postings],
                "region_code": [p.region_code for p in postings],
                "country": [p.country for p in postings],
                "remote": [p.remote for p in postings],
                "posted": [p.posted for p in postings],
                "month": months,
                "occupation_uri": [p.occupation_uri for p in postings],
                "occupation_label": [p.occupation_label for p in postings],
                "occupation_code": [p.occupation_code for p in postings],
                "salary_annual": [p.salary_annual for p in postings],
                "currency": [p.currency for p in postings],
                "language": [p.language for p in postings],
                "truncated": [p.truncated for p in postings],
                "skill_count": [len(p.skills) for p in postings],
                "signature": [p.signature.astype(np.uint32).tobytes() for p in postings],
            },
            schema=POSTINGS_SCHEMA,
        )
        rows = [
            (p, month, uri) for p, month in zip(postings, months, strict=True) for uri in p.skills
        ]
        skills = pa.table(
            {
                "posting_id": [p.posting_id for p, _, _ in rows],
                "skill_uri": [uri for _, _, uri in rows],
                "region": [p.region for p, _, _ in rows],
                "country": [p.country for p, _, _ in rows],
                "month": [month for _, month, _ in rows],
                "occupation_uri": [p.occupation_uri for p, _, _ in rows],
                "salary_annual": [p.salary_annual for p, _, _ in rows],
                "currency": [p.currency for p, _, _ in rows],
            },
            schema=SKILLS_SCHEMA,
        )
        _write_atomically(skills, self.skills_dir / f"{name}.parquet")
        _write_atomically(table, self.postings_dir / f"{name}.parquet")

    def merge_labels(self, labels: Mapping[str, str]) -> None:
        known = self.labels()
        if all(known.get(uri) == label for uri, label in labels.items()):
            return
        known.update(labels)
        self.root.mkdir(parents=True, exist_ok=True)
        table = pa.table({"skill_uri": list(known), "label": list(known.values())})
        _write_atomically(table, self.labels_path)

    # -- reading -----------------------------------------------------------------------------
    def labels(self) -> dict[str, str]:
        if not self.labels_path.is_file():
            return {}
        table = pq.read_table(self.labels_path)
        return dict(zip(table["skill_uri"].to_pylist(), table["label"].to_pylist(), strict=True))

    def duplicate_index(self) -> DuplicateIndex:
        """What is stored already, for duplicate checks across runs and files."""
        index = DuplicateIndex()
        for keys, signatures in self._stored_signatures():
            index.remember(keys, signatures)
        return index

    def _stored_signatures(self) -> Iterator[tuple[list[str], list[Signature]]]:
        if not self.postings_dir.is_dir():
            return
        for part in sorted(self.postings_dir.glob("*.parquet")):
            table = pq.read_table(part, columns=["posting_id", "signature"])
            signatures = [
                np.frombuffer(blob, dtype=np.uint32).astype(np.uint64)
                for blob in table["signature"].to_pylist()
            ]
            yield table["posting_id"].to_pylist(), signatures


def _write_atomically(table: pa.Table, path: Path) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, temporary, compression="zstd")
    os.replace(temporary, path)
