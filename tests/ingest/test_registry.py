"""Conformance: every registered extractor satisfies the protocol and every format has one."""

from __future__ import annotations

import inspect

import pytest

import ingest
from ingest.formats._detect import MIME
from ingest.formats._registry import extractor_for, register, registered, reset_registry
from ingest.formats._types import Extraction, Extractor


@pytest.mark.parametrize("extractor", registered(), ids=lambda e: e.name)
def test_extractor_satisfies_protocol(extractor: Extractor) -> None:
    """Each extractor has a name, a non-empty set of formats and a documented ``parse(data, ctx)``."""
    assert isinstance(extractor, Extractor)
    assert extractor.name and isinstance(extractor.formats, frozenset) and extractor.formats
    assert list(inspect.signature(extractor.parse).parameters) == ["data", "ctx"]
    assert inspect.getdoc(extractor.parse)
    assert inspect.getdoc(inspect.getmodule(type(extractor)))


@pytest.mark.parametrize("fmt", sorted(MIME))
def test_every_detected_format_has_an_extractor(fmt: str) -> None:
    """Every format detection can report is handled (HEIC/AVIF by a refusing extractor)."""
    assert extractor_for(fmt, MIME[fmt]).formats >= {fmt}


def test_unknown_format_is_unsupported() -> None:
    """A format nobody registered raises UnsupportedFile."""
    with pytest.raises(ingest.UnsupportedFile):
        extractor_for("unknown", "application/x-foo")


def test_register_replaces_and_reset_restores() -> None:
    """A registration overrides the built-in one until ``reset_registry``."""

    class Fake:
        name = "fake"
        formats = frozenset({"txt"})

        def parse(self, data, ctx):  # type: ignore[no-untyped-def]
            """Return nothing."""
            return Extraction(pages=[ingest.Page(1, "fake")])

    register(Fake())
    try:
        assert ingest.parse_bytes(b"hello", "a.txt").text == "fake"
    finally:
        reset_registry()
    assert ingest.parse_bytes(b"hello", "a.txt").text == "hello"


def test_public_api_is_small() -> None:
    """Callers get the facade only."""
    assert set(ingest.__all__) >= {
        "parse_file",
        "parse_bytes",
        "detect",
        "time_limit",
        "Limits",
        "IngestError",
    }
    assert all(not name.startswith("_") for name in ingest.__all__)
