from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from microcred.skills.extraction.gazetteer import Gazetteer
from microcred.skills.extraction.vocabulary import SkillConcept, fingerprint
from tests.skills.extraction.conftest import ESCO, VOCABULARY

GAZETTEER = Gazetteer.build(VOCABULARY)


def uris(text: str) -> list[str]:
    return [match.uri.removeprefix(ESCO) for match in GAZETTEER.match(text)]


def test_finds_preferred_and_alternative_labels_with_spans() -> None:
    text = "You will be Managing Projects and communicating with stakeholders."
    matches = GAZETTEER.match(text)
    assert [(m.uri.removeprefix(ESCO), text[m.start : m.end]) for m in matches] == [
        ("project", "Managing Projects"),
        ("stakeholders", "communicating with stakeholders"),
    ]
    assert matches[0].label == "manage projects"


def test_longest_label_wins_and_spans_do_not_overlap() -> None:
    assert uris("Experience with project management software is a plus") == ["pm-software"]
    assert uris("Project management is key") == ["project"]


def test_alternative_labels_score_below_preferred() -> None:
    preferred = GAZETTEER.match("customer service")[0]
    alternative = GAZETTEER.match("client service")[0]
    assert preferred.uri == alternative.uri
    assert preferred.confidence > alternative.confidence


def test_short_and_common_labels_need_their_written_form() -> None:
    assert uris("Code in R or Go, and C++") == ["r", "go", "cpp"]
    assert uris("we go to r&d meetings") == []


def test_inflected_multiword_forms_match() -> None:
    assert uris("operating forklifts, managing budgets") == ["forklift", "budget"]


def test_fingerprint_changes_with_labels() -> None:
    one = [SkillConcept("u:1", "a label")]
    two = [SkillConcept("u:1", "a label", ("another",))]
    assert fingerprint(one) != fingerprint(two)
    assert fingerprint(one) == fingerprint(list(one))


@given(st.text(max_size=400))
def test_matches_are_sorted_disjoint_spans_of_known_concepts(text: str) -> None:
    known = {concept.uri for concept in VOCABULARY}
    previous_end = 0
    for match in GAZETTEER.match(text):
        assert match.uri in known
        assert previous_end <= match.start < match.end <= len(text)
        assert 0 < match.confidence < 1
        previous_end = match.end


@given(st.sampled_from(VOCABULARY), st.text(alphabet=" .,;\n", max_size=3))
def test_every_preferred_label_is_found_in_itself(concept: SkillConcept, padding: str) -> None:
    text = f"{padding}{concept.preferred_label}{padding}"
    assert concept.uri in {match.uri for match in GAZETTEER.match(text)}


def test_bracketed_qualifiers_are_optional() -> None:
    gazetteer = Gazetteer.build([SkillConcept("u:java", "Java (computer programming)")])
    assert [m.matched_label for m in gazetteer.match("Java and Java computer programming")] == [
        "Java",
        "Java (computer programming)",
    ]


def test_a_label_shared_by_many_concepts_reports_few_and_counts_less() -> None:
    concepts = [SkillConcept(f"u:{i}", f"skill {i}", ("research methods",)) for i in range(10)]
    concepts.append(SkillConcept("u:main", "research methods"))
    concepts.append(SkillConcept("u:noisy", "research", ("research methods",), None, False))
    matches = Gazetteer.build(concepts).match("research methods")
    assert len(matches) == 3 and matches[0].uri == "u:main"
    assert "u:noisy" not in {m.uri for m in matches}
    assert (
        matches[0].confidence
        < Gazetteer.build(concepts[-2:-1]).match("research methods")[0].confidence
    )


def test_generic_words_learnt_from_skillspan_train_count_only_in_their_written_form() -> None:
    gazetteer = Gazetteer.build(
        [
            SkillConcept("u:history", "history"),
            SkillConcept("u:art", "art history"),
            SkillConcept("u:History", "History"),
        ]
    )
    found = [m.uri for m in gazetteer.match("We love history, art history and History.")]
    assert found == ["u:art", "u:History"]


def test_a_bare_word_shared_by_several_concepts_names_one_and_counts_less() -> None:
    concepts = [
        SkillConcept("u:plumbing", "use plumbing kit", ("tools",), None, False),
        SkillConcept("u:video", "video conferencing", ("tools",), None, False),
        SkillConcept("u:crimp", "crimp wire", ("tools",), None, False),
    ]
    matches = Gazetteer.build(concepts).match("Experience with tools.")
    assert [m.uri for m in matches] == ["u:plumbing"]
    alone = Gazetteer.build(concepts[:1]).match("Experience with tools.")[0]
    assert matches[0].confidence < alone.confidence


def test_a_bare_word_prefers_the_concept_whose_trusted_preferred_label_it_is() -> None:
    concepts = [
        SkillConcept("u:noisy", "handle snakes", ("python",), None, False),
        SkillConcept("u:python", "Python"),
    ]
    assert [m.uri for m in Gazetteer.build(concepts).match("We use Python daily")] == ["u:python"]


def test_a_skill_named_by_two_taxonomies_is_reported_once_by_its_esco_uri() -> None:
    esco = "http://data.europa.eu/esco/skill/27b913f0-3c52-448b-ad27-fc6ef08fb326"
    concepts = [
        SkillConcept("urn:onet:technology:adobe-illustrator", "Adobe Illustrator"),
        SkillConcept(esco, "Adobe Illustrator", ("Illustrator",)),
        SkillConcept("urn:onet:technology:c++", "C++"),
        SkillConcept("u:other", "graphic design", ("Adobe Illustrator",)),
    ]
    matches = Gazetteer.build(concepts).match("Adobe Illustrator and C++ daily")
    assert [m.uri for m in matches] == [esco, "u:other", "urn:onet:technology:c++"]
    alone = Gazetteer.build(concepts[1:2]).match("Adobe Illustrator")[0]
    assert matches[0].confidence == alone.confidence  # an equivalent is not an ambiguity


def test_a_common_word_capitalised_only_because_it_opens_a_sentence_is_not_its_label() -> None:
    gazetteer = Gazetteer.build(
        [SkillConcept("urn:onet:technology:analyze", "Analyze"), SkillConcept("u:go", "Go")]
    )
    opening = "Responsibilities: Analyze budgets. Go to sites.\n- Analyze costs"
    assert gazetteer.match(opening) == []
    found = gazetteer.match("We build services in Go and report with Analyze daily.")
    assert [m.uri for m in found] == ["u:go", "urn:onet:technology:analyze"]


def test_common_words_are_compared_as_match_keys() -> None:
    # "services" is listed as a common word; its key is stemmed, so the check must stem too.
    gazetteer = Gazetteer.build([SkillConcept("u:services", "services")])
    assert gazetteer.match("We sell services to councils") == []


def test_a_one_word_label_that_is_a_word_of_its_preferred_phrase_is_not_the_skill() -> None:
    # ESCO lists "computer" for *computer equipment*; recovered labels gave "coordinate" to
    # *coordinate technological activities*; the alias table "supervisors" to *advise
    # supervisors*: a posting's "computer", "coordinate" or "supervisors" is none of them. Names
    # keep theirs ("Excel", "kafka").
    concepts = [
        SkillConcept("u:equipment", "computer equipment", ("computer", "computing equipment")),
        SkillConcept("u:coordinate", "coordinate technological activities", ("coordinate",)),
        SkillConcept("u:advise", "advise supervisors", aliases=("supervisors",)),
        SkillConcept("u:excel", "Microsoft Excel", ("Excel",)),
        SkillConcept("u:kafka", "Apache Kafka", aliases=("kafka",)),
    ]
    gazetteer = Gazetteer.build(concepts)
    assert gazetteer.match("Coordinate the team; computer literacy; computers; supervisors") == []
    found = gazetteer.match(
        "Repair computing equipment, coordinate technological activities, Excel and kafka"
    )
    assert [m.uri for m in found] == ["u:equipment", "u:coordinate", "u:excel", "u:kafka"]


def vague_word_vocabulary(word: str, concepts: int) -> list[SkillConcept]:
    """``concepts`` concepts with ``word`` inside a label of each."""
    return [SkillConcept(f"u:{word}{n}", f"{word} topic {n}") for n in range(concepts)]


def test_a_one_word_recovered_alternative_found_in_many_concepts_labels_is_left_out() -> None:
    # Recovered labels gave "management" to *program management programs* and "study" to
    # *philology language history*: words of too many labels to name one skill.
    noisy = [
        SkillConcept("u:programs", "program management programs", ("management",), None, False),
        SkillConcept("u:philology", "philology language history", ("study",), None, False),
        SkillConcept("u:ledger", "keep ledgers", ("bookkeeping",), None, False),
    ]
    vocabulary = noisy + vague_word_vocabulary("management", 3) + vague_word_vocabulary("study", 3)
    gazetteer = Gazetteer.build(vocabulary, vague_word_concepts=2)
    assert gazetteer.match("Study and management of budgets") == []
    assert [m.uri for m in gazetteer.match("Bookkeeping and program management programs")] == [
        "u:ledger",
        "u:programs",
    ]
    assert [m.uri for m in Gazetteer.build(noisy).match("a study")] == ["u:philology"]


def test_a_one_word_alias_found_in_many_concepts_labels_is_left_out() -> None:
    # The alias "recording" once made *plan a recording* a top skill of the demo.
    recording = SkillConcept("u:plan", "plan a recording", aliases=("recording", "record plan"))
    kafka = SkillConcept("u:kafka", "Apache Kafka", aliases=("kafka",))
    vocabulary = [recording, kafka, *vague_word_vocabulary("recording", 3)]
    gazetteer = Gazetteer.build(vocabulary, alias_word_concepts=2)
    assert [m.uri for m in gazetteer.match("Recording of records; a record plan; Kafka")] == [
        "u:plan",
        "u:kafka",
    ]


def test_a_one_word_label_does_not_match_another_concepts_form_of_its_word() -> None:
    # "securities" and "security" share a match key, but other labels use "security" for
    # something else (*ICT security*): a posting's "security" is not *securities*.
    concepts = [
        SkillConcept("u:securities", "securities", ("security stocks and bonds",), None, False),
        SkillConcept("u:ict", "ICT security", ("security of ICT",)),
        SkillConcept("u:database", "database"),
        SkillConcept("u:dbs", "manage databases"),
        SkillConcept("u:accounting", "accounting", (), None, False),
        SkillConcept("u:accounts", "manage accounts"),
        SkillConcept("u:electronics", "electronics"),
        SkillConcept("u:records", "keep electronic records"),
    ]
    gazetteer = Gazetteer.build(concepts)
    assert gazetteer.match("Security clearance; client accounts; electronic signatures") == []
    found = gazetteer.match("Trading securities, databases and accounting; electronics")
    assert [m.uri for m in found] == ["u:securities", "u:database", "u:accounting", "u:electronics"]


def test_recovered_labels_that_are_fragments_are_left_out() -> None:
    # A garbled recovered alternative "plan and" and a recovered label "set up" made
    # *prepare exercise session* and *set up* frequent demo skills.
    concepts = [
        SkillConcept("u:exercise", "prepare exercise session", ("plan and",), None, False),
        SkillConcept("u:setup", "set up", ("assemble broadcast equipment",), None, False),
        SkillConcept("u:teams", "set up teams"),
    ]
    gazetteer = Gazetteer.build(concepts)
    assert gazetteer.match("Plan and set up the stage") == []
    found = gazetteer.match("Assemble broadcast equipment, prepare exercise session, set up teams")
    assert [m.uri for m in found] == ["u:setup", "u:exercise", "u:teams"]


def test_a_name_of_a_word_labels_write_in_lower_case_counts_only_as_written() -> None:
    # Recovered *Source (digital game creation systems)* was matched by every "sources".
    engine = SkillConcept("u:engine", "Source (digital game creation systems)", (), None, False)
    vocabulary = [engine, *vague_word_vocabulary("source", 3)]
    gazetteer = Gazetteer.build(vocabulary, vague_word_concepts=2)
    assert gazetteer.match("Data sources and source control") == []
    assert [m.uri for m in gazetteer.match("Levels built in Source daily")] == ["u:engine"]
    assert [m.uri for m in Gazetteer.build([engine]).match("open sources")] == ["u:engine"]
