"""Where the shared standards test vectors live, and small readers for them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

STANDARDS = Path(__file__).resolve().parents[2].parent / "shared" / "standards"
VECTORS = STANDARDS / "test-vectors"


def need_standards() -> None:
    if not VECTORS.is_dir():
        pytest.skip("shared standards snapshot not available")


def load_json(relative: str) -> Any:
    need_standards()
    return json.loads((VECTORS / relative).read_text(encoding="utf-8"))


def load_text(relative: str) -> str:
    need_standards()
    return (VECTORS / relative).read_text(encoding="utf-8")
