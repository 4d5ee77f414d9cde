"""Skill names ESCO and O*NET lack as labels ("AWS", "Kafka", "Jira"), each mapped to the
taxonomy concept it means, from the packaged ``aliases.csv``.

The table is generated offline by ``benchmarks/skills_aliases.py`` from the skill names of the
MIT-licensed PyPI package ``skill-extractor`` 0.2.0 (© 2026 Qarera), mapped to ESCO (or, where ESCO
has no such skill, O*NET technology) URIs by word containment and all-MiniLM-L6-v2 similarity;
docs/skills-extraction.md describes the method. The gazetteer matches an alias with less
confidence than a real label (:data:`.gazetteer.ALIAS_CONFIDENCE`).
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

ALIASES_PATH = Path(__file__).with_name("aliases.csv")


@cache
def alias_table(path: Path = ALIASES_PATH) -> dict[str, tuple[str, ...]]:
    """Skill URI → its aliases, as the table lists them; empty when the file is missing."""
    table: dict[str, list[str]] = {}
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            table.setdefault(row["uri"], []).append(row["alias"])
    return {uri: tuple(aliases) for uri, aliases in table.items()}
