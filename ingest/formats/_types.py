"""What an extractor is given and returns, and the protocol every extractor follows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ingest._limits import Limits
from ingest._model import ChildFile, Page

__all__ = ["Extraction", "Extractor", "ParseContext"]


@dataclass(frozen=True)
class ParseContext:
    """What an extractor knows besides the bytes: the name, the detected type, limits, depth."""

    filename: str
    mime: str
    format: str
    limits: Limits = field(default_factory=Limits)
    depth: int = 0


@dataclass
class Extraction:
    """What one extractor returns; the facade turns it into a :class:`ParsedDocument`."""

    pages: list[Page]
    title: str = ""
    children: list[ChildFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    # The file converted to another format (legacy Office -> OOXML): the facade parses that instead.
    converted: tuple[str, bytes] | None = None


@runtime_checkable
class Extractor(Protocol):
    """Reads one family of formats.  ``parse`` raises only :class:`IngestError` subclasses."""

    name: str
    formats: frozenset[str]

    def parse(self, data: bytes, ctx: ParseContext) -> Extraction:
        """Turn the file's bytes into pages (and children)."""
        ...
