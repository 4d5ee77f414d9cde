"""One skill, one URI: ESCO↔O*NET equivalents recorded at load and used by extraction."""

from __future__ import annotations

from collections import Counter

from sqlalchemy.orm import Session

from microcred.skills import service
from microcred.skills.extraction import SkillExtractor, vocabulary_from_session
from microcred.skills.extraction.gazetteer import ESCO_PREFIX
from microcred.skills.extraction.text import label_key
from microcred.skills.taxonomy import (
    EXACT_MATCH,
    SkillRecord,
    TaxonomyData,
    record_equivalents,
)

ONET_ILLUSTRATOR = "urn:onet:technology:adobe-illustrator"


def test_an_onet_skill_with_an_esco_preferred_label_is_linked_to_it() -> None:
    data = TaxonomyData(name="t")
    for record in (
        SkillRecord(ESCO_PREFIX + "skill/b", "C++"),
        SkillRecord(ESCO_PREFIX + "skill/a", "c++ "),
        SkillRecord("urn:onet:technology:c++", "C++", source="onet"),
        SkillRecord("urn:onet:technology:cobol", "COBOL", source="onet"),
        SkillRecord("urn:onet:technology:class", "C++", source="onet", is_group=True),
    ):
        data.skills[record.uri] = record
    assert record_equivalents(data, label_key) == 1
    assert list(data.skill_relations) == [
        (ESCO_PREFIX + "skill/a", "urn:onet:technology:c++", EXACT_MATCH)
    ]


def test_the_loaded_vocabulary_knows_equivalents_and_aliases(session: Session) -> None:
    concepts = {c.uri: c for c in vocabulary_from_session(session)}
    illustrator = concepts[ONET_ILLUSTRATOR]
    (esco_uri,) = illustrator.equivalents
    assert esco_uri.startswith(ESCO_PREFIX)
    assert concepts[esco_uri].preferred_label == "Adobe Illustrator"
    assert ONET_ILLUSTRATOR in concepts[esco_uri].equivalents
    assert sum(1 for c in concepts.values() if c.aliases) > 500
    # an equivalence is no broader/narrower relation on the skill's page
    assert all(r.relation_type != EXACT_MATCH for r in service.skill_narrower(session, esco_uri))


def test_extraction_reports_each_skill_once_by_its_esco_uri(session: Session) -> None:
    extractor = SkillExtractor.build(vocabulary_from_session(session))
    text = "Adobe Illustrator, C++ and Microsoft Access; deployed with Terraform on AWS."
    extraction = extractor.extract(text)
    found = {match.text: match for match in extraction.skills}
    illustrator = found["Adobe Illustrator"]
    assert illustrator.uri.startswith(ESCO_PREFIX)
    assert ONET_ILLUSTRATOR in illustrator.equivalents
    counts = Counter(match.text for match in extraction.skills)
    assert counts["Adobe Illustrator"] == counts["C++"] == counts["Microsoft Access"] == 1
    assert "Terraform" in found and "AWS" in found
    assert len(extraction.uris) == len(set(extraction.uris)) == len(extraction.skills)
