"""Build ``src/microcred/skills/extraction/aliases.csv``: skill names ESCO/O*NET lack, mapped to
a taxonomy URI (ESCO's where it has one), offline and reproducibly.

Run: ``.venv/bin/python benchmarks/skills_aliases.py [--grid] [--write]`` (a few minutes on CPU).

Names: the 30,957 skill names of the PyPI package ``skill-extractor`` 0.2.0
(``skill_extractor/data/skills.json``, MIT licence, © 2026 Qarera). A name already a taxonomy
label (as a match key) is left out: the gazetteer finds it anyway. Each other name is mapped:

* *contained*: the name's words are a run of words of some labels ("kafka" in O*NET's
  *Apache Kafka*, "aws" in *Amazon Web Services AWS software*); of the concepts with such labels
  (at most :data:`MAX_CONTAINERS`), the one whose containing label is nearest the name by
  all-MiniLM-L6-v2 cosine, kept when the cosine is at least ``contained``;
* *similar*: otherwise the concept whose preferred label is nearest the name, kept when the
  cosine is at least ``similar`` and the name is longer than a word ("google analytics" →
  *Google Analytics*; a lone word near a label, "recording" → *plan a recording*, is left out).

ESCO concepts are preferred: an ESCO candidate within :data:`ESCO_MARGIN` of the best wins, and an
O*NET technology whose preferred label is an ESCO preferred label maps to that ESCO concept.
Names that are common words (``gazetteer.AMBIGUOUS_WORDS``, ``generic_words``) are left out.
The two cosine cuts are chosen on SkillSpan **train** sentences 1–1,500 (gazetteer overlap F1,
the gazetteer threshold re-tuned for each pair); the dev split is never read here.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from skills_quality import GAZETTEER_GRID, load_split, score, select, token_span

from microcred.settings import get_settings
from microcred.skills.extraction import SkillExtractor
from microcred.skills.extraction.aliases import ALIASES_PATH
from microcred.skills.extraction.embeddings import MiniLMEncoder
from microcred.skills.extraction.gazetteer import AMBIGUOUS_WORDS, ESCO_PREFIX, label_variants
from microcred.skills.extraction.generic_words import GENERIC_WORDS
from microcred.skills.extraction.text import tokenise
from microcred.skills.extraction.vocabulary import SkillConcept
from microcred.skills.loader import assemble_default_taxonomy

MAX_CONTAINERS = 40
"""A name inside more concepts' labels than this ("management") is too vague to map."""
ESCO_MARGIN = 0.05
CONTAINED_GRID = [0.0, 0.4, 0.5, 0.6, 0.7, 2.0]
SIMILAR_GRID = [0.75, 0.8, 0.85, 0.9, 2.0]
CHOSEN = (0.4, 0.85)
"""(contained, similar) cuts chosen with ``--grid`` on train sentences 1–1,500."""

Key = tuple[str, ...]


def key_of(text: str) -> Key:
    return tuple(token.key for token in tokenise(text))


@dataclass(frozen=True)
class Mapping:
    alias: str
    uri: str
    label: str
    method: str
    cosine: float


def taxonomy_concepts() -> list[SkillConcept]:
    """The vocabulary the platform extracts with (as ``vocabulary_from_session`` builds it)."""
    data = assemble_default_taxonomy(get_settings().shared_dir)
    return [
        SkillConcept(
            s.uri, s.preferred_label, tuple(s.alt_labels), s.skill_type, not s.labels_recovered
        )
        for uri, s in sorted(data.skills.items())
        if not s.is_group
    ]


def peer_names() -> list[str]:
    with (resources.files("skill_extractor") / "data" / "skills.json").open() as handle:
        names: list[str] = json.load(handle)
    return names


def candidates(concepts: list[SkillConcept]) -> list[Mapping]:
    """Every name's best mapping under either method, with its cosine (cuts applied later)."""
    label_keys: dict[Key, list[tuple[int, str]]] = defaultdict(list)
    for index, concept in enumerate(concepts):
        for label, _ in label_variants(concept):
            label_keys[key_of(label)].append((index, label))
    runs: dict[Key, set[tuple[int, str]]] = defaultdict(set)
    for key, owners in label_keys.items():
        for size in range(1, len(key)):
            for start in range(len(key) - size + 1):
                runs[key[start : start + size]].update(owners)
    names: dict[Key, str] = {}
    for name in peer_names():
        key = key_of(name)
        if not key or key in label_keys or key in names:
            continue
        if len(key) == 1 and (key[0] in AMBIGUOUS_WORDS or key[0] in GENERIC_WORDS):
            continue
        if not any(len(word) > 1 for word in key):
            continue
        names[key] = name.strip()
    encoder = MiniLMEncoder()
    ordered = sorted(names)
    name_vectors = encoder.encode([names[key] for key in ordered])
    preferred = encoder.encode([concept.preferred_label for concept in concepts])
    is_esco = np.array([concept.uri.startswith(ESCO_PREFIX) for concept in concepts])
    containing_labels = sorted(
        {
            label
            for key in ordered
            if len(runs.get(key, ())) <= MAX_CONTAINERS
            for _, label in runs.get(key, ())
        }
    )
    label_row = {label: row for row, label in enumerate(containing_labels)}
    label_vectors = encoder.encode(containing_labels) if containing_labels else preferred[:0]
    mappings: list[Mapping] = []
    similarities = name_vectors @ preferred.T
    for row, key in enumerate(ordered):
        name = names[key]
        owners = runs.get(key, set())
        if owners and len(owners) <= MAX_CONTAINERS:
            scored = sorted(
                (float(name_vectors[row] @ label_vectors[label_row[label]]), index)
                for index, label in owners
            )
            best = scored[-1][0]
            esco = [pair for pair in scored if is_esco[pair[1]] and pair[0] >= best - ESCO_MARGIN]
            cosine, index = esco[-1] if esco else scored[-1]
            mappings.append(
                Mapping(
                    name, concepts[index].uri, concepts[index].preferred_label, "contained", cosine
                )
            )
            continue
        sims = similarities[row]
        best_index = int(np.argmax(sims))
        esco_sims = np.where(is_esco, sims, -1.0)
        esco_index = int(np.argmax(esco_sims))
        index = (
            esco_index if esco_sims[esco_index] >= sims[best_index] - ESCO_MARGIN else best_index
        )
        mappings.append(
            Mapping(
                name,
                concepts[index].uri,
                concepts[index].preferred_label,
                "similar",
                float(sims[index]),
            )
        )
    return _to_esco(mappings, concepts)


def _to_esco(mappings: list[Mapping], concepts: list[SkillConcept]) -> list[Mapping]:
    """An O*NET concept whose preferred label is an ESCO concept's maps to the ESCO concept."""
    esco = {key_of(c.preferred_label): c for c in concepts if c.uri.startswith(ESCO_PREFIX)}
    result = []
    for mapping in mappings:
        twin = None if mapping.uri.startswith(ESCO_PREFIX) else esco.get(key_of(mapping.label))
        result.append(
            mapping
            if twin is None
            else Mapping(
                mapping.alias, twin.uri, twin.preferred_label, mapping.method, mapping.cosine
            )
        )
    return result


def kept(mappings: list[Mapping], contained: float, similar: float) -> list[Mapping]:
    """The mappings above their method's cut; a one-word name only by containment (a word near a
    label in meaning, "recording" → *plan a recording*, names no skill of its own)."""
    return [
        m
        for m in mappings
        if m.cosine >= (contained if m.method == "contained" else similar)
        and (m.method == "contained" or len(key_of(m.alias)) > 1)
    ]


def with_aliases(concepts: list[SkillConcept], mappings: list[Mapping]) -> list[SkillConcept]:
    by_uri: dict[str, list[str]] = defaultdict(list)
    for mapping in mappings:
        by_uri[mapping.uri].append(mapping.alias)
    return [
        SkillConcept(
            c.uri,
            c.preferred_label,
            c.alt_labels,
            c.skill_type,
            c.trusted_labels,
            tuple(by_uri.get(c.uri, ())),
        )
        for c in concepts
    ]


def train_f1(concepts: list[SkillConcept], limit: int = 1500) -> tuple[float, float]:
    """Best gazetteer overlap F1 on SkillSpan train sentences 1..limit, and its threshold."""
    train = load_split(get_settings().shared_dir / "data" / "skillspan" / "train.jsonl.gz", limit)
    extractor = SkillExtractor.build(concepts, gazetteer_threshold=0.0)
    results = extractor.extract_many([s.text for s in train], "gazetteer")
    scored = [
        [
            (span, m.confidence, m.method)
            for m in result.skills
            if (span := token_span(sentence, m.start, m.end)) is not None
        ]
        for sentence, result in zip(train, results, strict=True)
    ]
    gold = [s.gold for s in train]
    best = max(GAZETTEER_GRID, key=lambda g: score(gold, select(scored, g, 2.0)).overlap_f1)
    return score(gold, select(scored, best, 2.0)).overlap_f1, best


def write(mappings: list[Mapping], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(["alias", "uri", "label", "method", "cosine"])
        for m in sorted(mappings, key=lambda m: (m.alias.casefold(), m.uri)):
            out.writerow([m.alias, m.uri, m.label, m.method, f"{m.cosine:.3f}"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--grid", action="store_true", help="tune the cuts on train 1-1,500")
    parser.add_argument("--write", action="store_true", help=f"write {ALIASES_PATH.name}")
    args = parser.parse_args(argv)
    concepts = taxonomy_concepts()
    mappings = candidates(concepts)
    print(f"{len(mappings)} candidate aliases", file=sys.stderr)
    chosen = CHOSEN
    if args.grid:
        base, threshold = train_f1(concepts)
        print(f"no aliases: train overlap F1 {base:.4f} at {threshold}")
        results = {}
        for contained in CONTAINED_GRID:
            for similar in SIMILAR_GRID:
                subset = kept(mappings, contained, similar)
                f1, threshold = train_f1(with_aliases(concepts, subset))
                results[(contained, similar)] = f1
                print(
                    f"contained ≥ {contained} similar ≥ {similar}: {len(subset)} aliases, "
                    f"train overlap F1 {f1:.4f} at {threshold}",
                    flush=True,
                )
        chosen = max(results, key=lambda pair: results[pair])
        print(f"best: {chosen}")
    if args.write:
        subset = kept(mappings, *chosen)
        write(subset, ALIASES_PATH)
        print(f"wrote {len(subset)} aliases to {ALIASES_PATH}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
