"""Shared fixtures for the ``ingest`` tests: the shared corpus and its truth."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest

from tests.conftest import CORPUS, DEV, REAL  # noqa: F401 - the one corpus root, re-exported for the ingest tests


def load_truth() -> list[dict]:
    """Every record of dev/truth.jsonl (empty when the corpus is absent)."""
    path = DEV / "truth.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def squash(text: str) -> str:
    """NFKC and no whitespace: how tests compare extracted text with truth text."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def dev_file(name: str) -> Path:
    """A file of the dev corpus, or skip when the corpus is not there."""
    path = DEV / name
    if not path.exists():
        pytest.skip(f"corpus file {name} not present")
    return path


def first_dev(pattern: str) -> Path:
    """The first dev file matching a glob pattern, or skip."""
    found = sorted(DEV.glob(pattern))
    if not found:
        pytest.skip(f"no corpus file matches {pattern}")
    return found[0]
