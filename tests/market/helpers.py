"""Real vocabularies for market tests, read straight from O*NET 29.2 in shared/data."""

from __future__ import annotations

import csv
import gzip
import re
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from microcred.market.occupations import OccupationClassifier, OccupationLabel
from microcred.market.pipeline import Resources
from microcred.skills.extraction import SkillConcept, SkillExtractor
from tests.conftest import SHARED_DIR

ONET = SHARED_DIR / "data" / "onet"


def _rows(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def technology_uri(name: str) -> str:
    return "https://example.org/test/technology/" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip(
        "-"
    )


@lru_cache(maxsize=1)
def technology_vocabulary() -> tuple[SkillConcept, ...]:
    names = sorted({row["Example"] for row in _rows(ONET / "Technology_Skills.tsv.gz")})
    by_uri = {technology_uri(name): name for name in reversed(names)}
    return tuple(SkillConcept(uri, name) for uri, name in sorted(by_uri.items()))


@lru_cache(maxsize=1)
def onet_occupations() -> tuple[OccupationLabel, ...]:
    alternates: dict[str, list[str]] = defaultdict(list)
    for row in _rows(ONET / "Alternate_Titles.tsv.gz"):
        alternates[row["O*NET-SOC Code"]].append(row["Alternate Title"])
    return tuple(
        OccupationLabel(
            f"urn:test:onet:{row['O*NET-SOC Code']}",
            row["Title"],
            tuple(alternates[row["O*NET-SOC Code"]]),
            row["O*NET-SOC Code"],
        )
        for row in _rows(ONET / "Occupation_Data.tsv.gz")
    )


@lru_cache(maxsize=1)
def resources() -> Resources:
    return Resources(
        extractor=SkillExtractor.build(technology_vocabulary()),
        classifier=OccupationClassifier.build(onet_occupations()),
    )
