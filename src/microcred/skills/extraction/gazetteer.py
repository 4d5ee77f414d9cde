"""Gazetteer matching: every preferred and alternative label, found in text by word keys.

Labels and text are reduced to the same word keys (:func:`..text.token_key`), so matching is
case-, accent- and inflection-tolerant. The scan is longest-match-first and left to right, so
"project management software" wins over "project management" and spans never overlap. Labels
that are a single very common word ("it", "go", "communication" is fine) are skipped unless
the text writes them as the label does (``Go``, ``R``), which keeps short acronyms usable — but
not a capitalised first word of a sentence ("Analyze reports", "Go to …").
A qualifier in brackets is optional ("Java (computer programming)" is also found as "Java"),
a label naming more than :data:`AMBIGUOUS_SENSES` concepts counts less and only its
:data:`AMBIGUOUS_SENSES` most likely concepts are reported (so one vague word cannot inflate the
demand for dozens of skills). A one-word label shared by several concepts ("tools") reports
only its best-ranked concept (trusted preferred label first), with a confidence that falls by
:data:`SHARED_WORD_PENALTY` per extra concept. Labels recovered heuristically count for less,
packaged aliases (:mod:`.aliases`: "AWS", "Kafka") less than any real label.
One-word labels that SkillSpan train shows are rarely skills (:mod:`.generic_words`) are
treated like the common words. A label that names the same skill in two taxonomies (ESCO's
"Adobe Illustrator" and O*NET's technology of that name: the same preferred label) reports it
once, by its ESCO URI, so analytics never count one mention twice.

Some labels name a word, not the skill, and are left out: a one-word alternative or alias that is
a word of the concept's own preferred label when that label is a lower-case phrase, not a name
("computer" for *computer equipment*, "supervisors" for *advise supervisors*; "Kafka" for
*Apache Kafka* stays); a one-word
recovered alternative or alias whose word occurs in the labels of more than
:data:`VAGUE_WORD_CONCEPTS` (an alias: :data:`ALIAS_WORD_CONCEPTS`) concepts ("management",
"study", "conferences"); a recovered label that starts or ends with a function word ("plan and")
or is only common words ("set up"). A one-word name whose word labels write in lower case
("Source") counts only as written. A one-word label matches its own word and its plain plural or
singular; other forms its match key merges ("security" for *securities*, "accounts" for
*accounting*) count only when no other concept's labels use that form.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from microcred.skills.extraction.generic_words import GENERIC_WORDS
from microcred.skills.extraction.text import Token, label_key, token_key, tokenise, word_set
from microcred.skills.extraction.vocabulary import SkillConcept
from microcred.skills.index import normalise

_COMMON = (
    "a an and are as at be by can do for go have in is it may of on or so the to up we will "
    "you your our us all any use work make run set get lead plan act ask own need well more "
    "data test team time good new one way help move base line case file care sales order "
    "support design access service services check control report process analyze analyse"
)
AMBIGUOUS_WORDS = frozenset(map(token_key, word_set(_COMMON)))
"""Single-word labels too common in postings to count without their exact written form, as match
keys (stemmed: "services" is "servic")."""

AMBIGUOUS_SENSES = 3
AMBIGUITY_PENALTY = 0.03
SHARED_WORD_PENALTY = 0.05
DEFAULT_THRESHOLD = 0.625
"""Matches below this confidence are dropped; tuned on the SkillSpan train split."""
PREFERRED_CONFIDENCE = 0.9
ALTERNATIVE_CONFIDENCE = 0.8
ALIAS_CONFIDENCE = 0.75
"""Base confidence of a packaged alias (:mod:`.aliases`): below any real label's."""
LONGER_LABEL_BONUS = 0.03
SINGLE_WORD_PENALTY = 0.1
CASE_EXACT_BONUS = 0.05
UNTRUSTED_PENALTY = 0.1
VAGUE_WORD_CONCEPTS = 8
"""A one-word recovered alternative label whose word occurs in the labels of more concepts than
this is too vague to name one of them; a one-word name written in capitals counts only as written
when more concepts than this write its word in lower case. Chosen on SkillSpan train."""
ALIAS_WORD_CONCEPTS = 6
"""The same limit for a one-word packaged alias ("operator"), chosen on SkillSpan train."""
FRAGMENT_EDGES = word_set("a an and or of for to the with in on by from as at")
"""A recovered label starting or ending with one of these words is a fragment ("plan and")."""
_QUALIFIER = re.compile(r"\s*\([^)]*\)\s*")


@dataclass(frozen=True, slots=True)
class LabelSense:
    """One concept a label key stands for, and how the label was written."""

    concept: int
    label: str
    preferred: bool
    trusted: bool = True
    alias: bool = False
    forms: frozenset[str] | None = None
    """For a one-word label whose match key also stands for another concept's word: the written
    forms (normalised) that name this label; None when any form of the key does."""
    as_written: bool = False
    """A one-word name ("Source", "Computer") whose word is common in labels: it counts only when
    the text writes it as the label does, as for :data:`AMBIGUOUS_WORDS`."""


@dataclass(frozen=True, slots=True)
class GazetteerMatch:
    uri: str
    label: str
    matched_label: str
    start: int
    end: int
    confidence: float
    equivalents: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Reading:
    """What a match on one label reports, with its confidence before the written-form bonus."""

    uri: str
    label: str
    matched_label: str
    confidence: float
    equivalents: tuple[str, ...] = ()
    forms: frozenset[str] | None = None
    as_written: bool = False


_END = ""
"""Trie key under which a node keeps the readings of the label that ends there."""


@dataclass
class Gazetteer:
    concepts: list[SkillConcept]
    phrases: dict[tuple[str, ...], list[LabelSense]] = field(default_factory=dict)
    trie: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        concepts: Iterable[SkillConcept],
        vague_word_concepts: int = VAGUE_WORD_CONCEPTS,
        alias_word_concepts: int = ALIAS_WORD_CONCEPTS,
    ) -> Gazetteer:
        gazetteer = cls(concepts=list(concepts))
        phrases = gazetteer.phrases
        usage = _WordUsage.of(gazetteer.concepts)
        for position, concept in enumerate(gazetteer.concepts):
            seen: set[tuple[str, ...]] = set()
            own = usage.own_single_forms(concept)
            # The words of a preferred label that is a phrase ("computer equipment"), not a name
            own_words = _phrase_words(concept.preferred_label)
            for label, preferred in label_variants(concept):
                words = label_key(label)
                if not words or words in seen:
                    continue
                seen.add(words)
                if not concept.trusted_labels and _fragment(label, len(words)):
                    continue
                if not preferred and len(words) == 1:
                    if words[0] in own_words:
                        continue  # "computer" for *computer equipment*: a word, not the skill
                    if not concept.trusted_labels and usage.vague(words, vague_word_concepts):
                        continue
                sense = LabelSense(
                    position,
                    label,
                    preferred,
                    concept.trusted_labels,
                    forms=usage.forms_of(words, position, own),
                    as_written=not label.islower()
                    and usage.common_word(words, vague_word_concepts),
                )
                phrases.setdefault(words, []).append(sense)
            for alias in concept.aliases:
                words = label_key(alias)
                if not words or words in seen or usage.vague(words, alias_word_concepts):
                    continue
                if len(words) == 1 and words[0] in own_words:
                    continue  # "supervisors" for *advise supervisors*
                seen.add(words)
                forms = usage.forms_of(words, position, own)
                phrases.setdefault(words, []).append(
                    LabelSense(position, alias, False, alias=True, forms=forms)
                )
        for words, senses in phrases.items():
            if not all(sense.alias for sense in senses):
                senses = [sense for sense in senses if not sense.alias]  # a real label wins
            node = gazetteer.trie
            for word in words:
                node = node.setdefault(word, {})
            distinct = _one_per_skill(senses, gazetteer.concepts)
            kept = _most_likely(distinct) if len(words) > 1 else _ranked(distinct)
            node[_END] = [
                _Reading(
                    gazetteer.concepts[sense.concept].uri,
                    gazetteer.concepts[sense.concept].preferred_label,
                    sense.label,
                    _confidence(sense, len(words), len(distinct)),
                    gazetteer.concepts[sense.concept].equivalents,
                    sense.forms,
                    sense.as_written,
                )
                for sense in kept
            ]
        return gazetteer

    def __len__(self) -> int:
        return len(self.concepts)

    def match(self, text: str, tokens: Sequence[Token] | None = None) -> list[GazetteerMatch]:
        """Non-overlapping matches, longest first, in text order."""
        tokens = tokenise(text) if tokens is None else tokens
        keys = [token.key for token in tokens]
        count = len(keys)
        trie = self.trie
        matches: list[GazetteerMatch] = []
        position = 0
        while position < count:
            node = trie.get(keys[position])
            found: tuple[int, list[_Reading]] | None = None
            cursor = position
            while node is not None:
                readings = node.get(_END)
                if readings is not None:
                    if cursor == position:
                        # A bare word names one concept at most: the best-ranked admissible one.
                        readings = _admissible_single(
                            _in_written_form(readings, text, tokens[position]),
                            text,
                            tokens[position],
                        )[:1]
                    if readings:
                        found = (cursor, readings)
                cursor += 1
                if cursor >= count:
                    break
                node = node.get(keys[cursor])
            if found is None:
                position += 1
                continue
            last, readings = found
            start, end = tokens[position].start, tokens[last].end
            surface = text[start:end]
            for reading in readings:
                confidence = reading.confidence
                if surface == reading.matched_label:
                    confidence = min(confidence + CASE_EXACT_BONUS, 0.99)
                matches.append(
                    GazetteerMatch(
                        reading.uri,
                        reading.label,
                        reading.matched_label,
                        start,
                        end,
                        round(confidence, 4),
                        reading.equivalents,
                    )
                )
            position = last + 1
        return matches


def _in_written_form(readings: list[_Reading], text: str, token: Token) -> list[_Reading]:
    """Without the readings whose label needs another written form of the word."""
    if all(reading.forms is None for reading in readings):
        return readings
    written = _form(text[token.start : token.end])
    return [r for r in readings if r.forms is None or written in r.forms]


@lru_cache(maxsize=50_000)
def _form(surface: str) -> str:
    return normalise(surface)


def _written_words(label: str) -> list[tuple[str, str]]:
    """(match key, normalised written form) of each word of a label."""
    return [(token.key, _form(label[token.start : token.end])) for token in tokenise(label)]


def _phrase_words(preferred_label: str) -> set[str]:
    """The word keys of a preferred label of several lower-case words; none for a name
    ("Apache Kafka", "Microsoft Excel": "Kafka" and "Excel" name the skill)."""
    words = label_key(preferred_label)
    bare = _QUALIFIER.sub(" ", preferred_label)
    return set(words) if len(words) > 1 and bare.islower() else set()


def _fragment(label: str, size: int) -> bool:
    """A recovered label that starts or ends with a function word ("plan and") or, longer than a
    word, is only common words ("set up")."""
    words = _form(label).split()
    if not words:
        return False
    if words[0] in FRAGMENT_EDGES or words[-1] in FRAGMENT_EDGES:
        return True
    return size > 1 and all(token_key(word) in AMBIGUOUS_WORDS for word in words)


def _plain_number_forms(form: str) -> set[str]:
    """A word and its plain plural or singular ("database", "databases"): the same word. A word
    in -ics is no plural ("electronics" is not more than one "electronic")."""
    forms = {form, form + "s", form + "es"}
    if form.endswith("s") and not form.endswith("ics"):
        forms.add(form[:-1])
    if form.endswith("es"):
        forms.add(form[:-2])
    return forms


@dataclass
class _WordUsage:
    """Which concepts' labels use each word, by match key and by written form."""

    concepts_by_key: dict[str, set[int]]
    concepts_by_form: dict[str, dict[str, set[int]]]
    lower_case_by_key: dict[str, set[int]]
    """The concepts whose labels write the word in lower case: a common word there, not a name."""

    @classmethod
    def of(cls, concepts: Sequence[SkillConcept]) -> _WordUsage:
        by_key: dict[str, set[int]] = defaultdict(set)
        by_form: dict[str, dict[str, set[int]]] = defaultdict(lambda: defaultdict(set))
        lower_case: dict[str, set[int]] = defaultdict(set)
        for position, concept in enumerate(concepts):
            for label in (concept.preferred_label, *concept.alt_labels):
                for token in tokenise(label):
                    surface = label[token.start : token.end]
                    by_key[token.key].add(position)
                    by_form[token.key][_form(surface)].add(position)
                    if surface.islower():
                        lower_case[token.key].add(position)
        return cls(by_key, by_form, lower_case)

    def vague(self, words: tuple[str, ...], limit: int) -> bool:
        return len(words) == 1 and len(self.concepts_by_key.get(words[0], ())) > limit

    def common_word(self, words: tuple[str, ...], limit: int) -> bool:
        """One word that more than ``limit`` concepts' labels write in lower case ("source")."""
        return len(words) == 1 and len(self.lower_case_by_key.get(words[0], ())) > limit

    @staticmethod
    def own_single_forms(concept: SkillConcept) -> dict[str, set[str]]:
        """Key → the written forms of the concept's own one-word labels and aliases."""
        own: dict[str, set[str]] = defaultdict(set)
        for label in (*(label for label, _ in label_variants(concept)), *concept.aliases):
            written = _written_words(label)
            if len(written) == 1:
                own[written[0][0]] |= _plain_number_forms(written[0][1])
        return own

    def forms_of(
        self, words: tuple[str, ...], position: int, own: dict[str, set[str]]
    ) -> frozenset[str] | None:
        """The forms a one-word label needs when its key also stands for another concept's word
        ("security" in *ICT security* is not *securities*); None when any form will do."""
        if len(words) != 1:
            return None
        allowed = own.get(words[0], set())
        foreign = any(
            form not in allowed and concepts - {position}
            for form, concepts in self.concepts_by_form.get(words[0], {}).items()
        )
        return frozenset(allowed) if foreign else None


def _admissible_single(readings: list[_Reading], text: str, token: Token) -> list[_Reading]:
    """Short or common one-word labels, and names of common words, count only when written
    exactly as the label is."""
    common = token.key in AMBIGUOUS_WORDS or token.key in GENERIC_WORDS or len(token.key) <= 2
    if not common and not any(reading.as_written for reading in readings):
        return readings
    surface = text[token.start : token.end]
    opening = _sentence_case(surface) and _opens_sentence(text, token.start, token.end)
    # A capital any sentence gives its first word ("Analyze reports.", "Go to …") is no evidence.
    return [
        r
        for r in readings
        if (not common and not r.as_written)
        or (not opening and r.matched_label == surface and not surface.islower())
    ]


def _sentence_case(word: str) -> bool:
    return len(word) > 1 and word[0].isupper() and word[1:].islower()


def _opens_sentence(text: str, start: int, end: int) -> bool:
    """The word at ``start``..``end`` begins a sentence that goes on (a bare "Go" is a label)."""
    before = text[:start].rstrip(" \t\"'(*-•")
    opens = not before or before[-1] in ".:;!?\n"
    return opens and re.match(r"[ \t]+\w", text[end:]) is not None


ESCO_PREFIX = "http://data.europa.eu/esco/"


def _one_per_skill(senses: list[LabelSense], concepts: list[SkillConcept]) -> list[LabelSense]:
    """Without the senses of other taxonomies (O*NET) whose concept is an equivalent of (or has the
    preferred label of) an ESCO concept among them: one skill, reported once by its ESCO URI.
    Order kept."""
    if len(senses) < 2:
        return senses

    def key(sense: LabelSense) -> tuple[str, ...]:
        return tuple(token.key for token in tokenise(concepts[sense.concept].preferred_label))

    esco = [sense for sense in senses if concepts[sense.concept].uri.startswith(ESCO_PREFIX)]
    if not esco:
        return senses
    keys = {key(sense) for sense in esco}
    twins = {uri for sense in esco for uri in concepts[sense.concept].equivalents}
    return [
        sense
        for sense in senses
        if concepts[sense.concept].uri.startswith(ESCO_PREFIX)
        or (key(sense) not in keys and concepts[sense.concept].uri not in twins)
    ]


def _most_likely(senses: list[LabelSense]) -> list[LabelSense]:
    """Trusted and preferred senses first; at most :data:`AMBIGUOUS_SENSES` of them."""
    if len(senses) <= AMBIGUOUS_SENSES:
        return senses
    return _ranked(senses)[:AMBIGUOUS_SENSES]


def _ranked(senses: list[LabelSense]) -> list[LabelSense]:
    """Trusted preferred labels first, then trusted, then recovered ones (stable otherwise)."""
    return sorted(senses, key=lambda sense: (sense.alias, not sense.trusted, not sense.preferred))


def label_variants(concept: SkillConcept) -> list[tuple[str, bool]]:
    """(label, preferred) pairs: every label, and each label without its bracketed qualifier."""
    variants: list[tuple[str, bool]] = []
    labels = [(concept.preferred_label, True)] + [(label, False) for label in concept.alt_labels]
    for label, preferred in labels:
        variants.append((label, preferred))
        bare = _QUALIFIER.sub(" ", label).strip()
        if bare and bare != label:
            variants.append((bare, preferred))
    return variants


def _confidence(sense: LabelSense, size: int, senses: int) -> float:
    """Confidence of a match on this label, before the bonus for its exact written form."""
    base = PREFERRED_CONFIDENCE if sense.preferred else ALTERNATIVE_CONFIDENCE
    if sense.alias:
        base = ALIAS_CONFIDENCE
    if size == 1 and senses > 1:
        base -= SHARED_WORD_PENALTY * (senses - 1)
    elif senses > AMBIGUOUS_SENSES:
        base -= AMBIGUITY_PENALTY
    if not sense.trusted:
        base -= UNTRUSTED_PENALTY
    score = base + LONGER_LABEL_BONUS * (size - 1)
    if size == 1:
        score -= SINGLE_WORD_PENALTY
    return min(score, 0.99)
