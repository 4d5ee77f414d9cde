"""A synthetic job-postings corpus built from real material, for tests, demos and benchmarks.

There is no open corpus of real postings in ``shared/data``, so each posting is assembled from
real parts: an O*NET 29.2 occupation (a real alternate title, 3–6 of its task statements, a few
of its technology skills), two real job-ad sentences from SkillSpan (Zhang et al., NAACL 2022),
a real place (ISO 3166 subdivisions and large cities, written the ways boards write them),
a date in the 24 months up to ``end`` and, for some, a salary in one of several notations.
O*NET "Hot Technology" examples become more frequent over time so that trends exist to find.
A few postings are repeated exactly or with a small edit, to exercise duplicate removal.
"""

from __future__ import annotations

import csv
import gzip
import json
import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from microcred.market.errors import MarketError
from microcred.market.locations import CITIES

PLACES = [
    "Hamburg, Germany",
    "Munich, Bavaria",
    "Berlin",
    "Köln, Nordrhein-Westfalen",
    "Leipzig, DE",
    "Columbus, OH",
    "Austin, Texas",
    "Seattle, WA",
    "New York, NY",
    "Chicago, IL",
    "Remote - US",
    "Atlanta, GA",
    "Denver, CO",
    "Boston, Massachusetts",
    "London, UK",
    "Manchester, England",
    "Glasgow, Scotland",
    "Cardiff, Wales",
    "Belfast, Northern Ireland",
    "Dublin, Ireland",
    "Cork, Ireland",
    "Galway",
    "Remote (UK)",
    "Toronto, ON, Canada",
    "Paris, France",
    "Amsterdam, Netherlands",
]
EMPLOYER_WORDS = [
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Globex",
    "Initech",
    "Umbrella",
    "Wayne",
    "Stark",
    "Tyrell",
    "Cyberdyne",
    "Hooli",
    "Vandelay",
    "Acme",
    "Soylent",
]
EMPLOYER_KINDS = [
    "Health",
    "Logistics",
    "Systems",
    "Manufacturing",
    "Finance",
    "Retail",
    "Energy",
    "Foods",
    "Labs",
    "Services",
]
CURRENCY_BY_PLACE = {
    "Germany": "€",
    "Bavaria": "€",
    "Berlin": "€",
    "DE": "€",
    "Nordrhein": "€",
    "France": "€",
    "Netherlands": "€",
    "Ireland": "€",
    "Galway": "€",
    "UK": "£",
    "England": "£",
    "Scotland": "£",
    "Wales": "£",
    "Northern Ireland": "£",
    "Canada": "CAD ",
}


@dataclass
class Material:
    titles: dict[str, list[str]]
    tasks: dict[str, list[str]]
    technologies: dict[str, list[tuple[str, bool]]]
    zones: dict[str, int]
    sentences: list[str]


def _tsv(path: Path) -> Iterator[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        yield from csv.DictReader(handle, delimiter="\t")


def load_material(shared_dir: Path) -> Material:
    onet = shared_dir / "data" / "onet"
    skillspan = shared_dir / "data" / "skillspan"
    if not (onet / "Occupation_Data.tsv.gz").is_file():
        raise MarketError(f"O*NET data not found under {onet}.", field="shared_dir")
    titles: dict[str, list[str]] = defaultdict(list)
    for row in _tsv(onet / "Occupation_Data.tsv.gz"):
        titles[row["O*NET-SOC Code"]].append(row["Title"])
    for row in _tsv(onet / "Alternate_Titles.tsv.gz"):
        titles[row["O*NET-SOC Code"]].append(row["Alternate Title"])
    tasks: dict[str, list[str]] = defaultdict(list)
    for row in _tsv(onet / "Task_Statements.tsv.gz"):
        tasks[row["O*NET-SOC Code"]].append(row["Task"])
    technologies: dict[str, list[tuple[str, bool]]] = defaultdict(list)
    for row in _tsv(onet / "Technology_Skills.tsv.gz"):
        technologies[row["O*NET-SOC Code"]].append((row["Example"], row["Hot Technology"] == "Y"))
    zones = {row["O*NET-SOC Code"]: int(row["Job Zone"]) for row in _tsv(onet / "Job_Zones.tsv.gz")}
    sentences: list[str] = []
    for split in ("train", "dev"):
        path = skillspan / f"{split}.jsonl.gz"
        if path.is_file():
            with gzip.open(path, "rt", encoding="utf-8") as handle:
                for line in handle:
                    tokens = json.loads(line)["tokens"]
                    if len(tokens) >= 6 and not any(t.startswith("<") for t in tokens):
                        sentences.append(_detokenise(tokens))
    usable = {code for code in titles if tasks.get(code)}
    return Material(
        titles={code: titles[code] for code in usable},
        tasks={code: tasks[code] for code in usable},
        technologies=dict(technologies),
        zones=zones,
        sentences=sentences,
    )


def _detokenise(tokens: list[str]) -> str:
    text = " ".join(tokens)
    for mark in (" ,", " .", " :", " ;", " )", " !", " ?"):
        text = text.replace(mark, mark[1:])
    return text.replace("( ", "(")


def _salary(rng: random.Random, zone: int, place: str) -> str | None:
    if rng.random() > 0.45:
        return None
    sign = next((s for key, s in CURRENCY_BY_PLACE.items() if key in place), "$")
    annual = rng.gauss(22_000 + zone * 14_000, 6_000)
    style = rng.randrange(4)
    if style == 0:
        low = round(annual * 0.9, -3)
        return f"{sign}{low:,.0f} - {sign}{round(annual * 1.1, -3):,.0f} a year"
    if style == 1:
        return f"{sign}{annual / 2080:.2f} per hour"
    if style == 2:
        return (
            f"{round(annual / 1000)}k {'EUR' if sign == '€' else 'GBP' if sign == '£' else 'USD'}"
        )
    return f"{sign}{annual / 12:,.0f} per month"


def synthesise(
    shared_dir: Path,
    count: int,
    seed: int = 7,
    end: date = date(2025, 12, 31),
    material: Material | None = None,
) -> Iterator[dict[str, Any]]:
    """``count`` posting rows (dicts with title, text, employer, location, posted, salary)."""
    rng = random.Random(seed)
    material = material or load_material(shared_dir)
    codes = sorted(material.titles)
    weights = [1.0 + len(material.technologies.get(code, ())) / 10 for code in codes]
    days = 730
    recent: list[dict[str, Any]] = []
    for number in range(count):
        if recent and rng.random() < 0.06:
            copy = dict(rng.choice(recent))
            copy["id"] = f"syn-{seed}-{number}"
            if rng.random() < 0.5:
                copy["text"] = copy["text"].replace(". ", ". Apply today. ", 1)
            yield copy
            continue
        code = rng.choices(codes, weights)[0]
        age = rng.randrange(days)
        progress = 1 - age / days
        posted = end - timedelta(days=age)
        tasks = rng.sample(material.tasks[code], min(len(material.tasks[code]), rng.randint(3, 6)))
        technologies = material.technologies.get(code, [])
        chosen = [
            name
            for name, hot in technologies
            if rng.random() < (0.1 + 0.5 * progress if hot else 0.35 - 0.2 * progress)
        ]
        place = rng.choice(PLACES)
        parts = [f"Responsibilities: {' '.join(tasks)}"]
        if chosen:
            parts.append(f"Experience with {', '.join(chosen[:8])} is required.")
        if material.sentences:
            parts.extend(rng.sample(material.sentences, 2))
        row = {
            "id": f"syn-{seed}-{number}",
            "title": rng.choice(material.titles[code]),
            "text": " ".join(parts),
            "employer": f"{rng.choice(EMPLOYER_WORDS)} {rng.choice(EMPLOYER_KINDS)}",
            "location": place,
            "posted": posted.isoformat(),
            "salary": _salary(rng, material.zones.get(code, 3), place),
        }
        recent.append(row)
        if len(recent) > 500:
            recent.pop(0)
        yield row


def write_postings(rows: Iterator[dict[str, Any]], path: Path, batch: int = 50_000) -> int:
    """Write rows as CSV, JSONL or Parquet by the file's suffix; returns the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = ["id", "title", "text", "employer", "location", "posted", "salary"]
    written = 0
    name = path.name.lower()
    if name.endswith(".parquet"):
        schema = pa.schema([(column, pa.string()) for column in columns])
        with pq.ParquetWriter(path, schema, compression="zstd") as writer:
            buffer: list[dict[str, Any]] = []
            for row in rows:
                buffer.append(row)
                if len(buffer) >= batch:
                    writer.write_table(pa.Table.from_pylist(buffer, schema))
                    written += len(buffer)
                    buffer = []
            if buffer:
                writer.write_table(pa.Table.from_pylist(buffer, schema))
                written += len(buffer)
        return written
    with path.open("w", encoding="utf-8", newline="") as handle:
        if name.endswith(".csv"):
            writer_csv = csv.DictWriter(handle, fieldnames=columns)
            writer_csv.writeheader()
            for row in rows:
                writer_csv.writerow(row)
                written += 1
        elif name.endswith((".jsonl", ".ndjson")):
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
                written += 1
        else:
            raise MarketError("Write .csv, .jsonl or .parquet.", field="out")
    return written


__all__ = ["CITIES", "Material", "load_material", "synthesise", "write_postings"]
