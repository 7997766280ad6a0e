"""The extractor protocol and the registry that maps a detected format to its extractor.

Shaped like paperless-ngx's parser registry: each extractor declares the formats it reads and
a ``parse()``; :func:`extractor_for` picks one; :func:`reset_registry` restores the defaults
(tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ingest._errors import UnsupportedFile
from ingest._limits import Limits
from ingest._model import ChildFile, Page


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


@runtime_checkable
class Extractor(Protocol):
    """Reads one family of formats.  ``parse`` raises only :class:`IngestError` subclasses."""

    name: str
    formats: frozenset[str]

    def parse(self, data: bytes, ctx: ParseContext) -> Extraction:
        """Turn the file's bytes into pages (and children)."""
        ...


_REGISTRY: dict[str, Extractor] = {}


def register(extractor: Extractor) -> Extractor:
    """Register ``extractor`` for every format it declares (a later one replaces an earlier one)."""
    for fmt in extractor.formats:
        _REGISTRY[fmt] = extractor
    return extractor


def registered() -> list[Extractor]:
    """Every registered extractor, once each."""
    _ensure_defaults()
    seen: dict[int, Extractor] = {}
    for ex in _REGISTRY.values():
        seen.setdefault(id(ex), ex)
    return list(seen.values())


def extractor_for(fmt: str, mime: str) -> Extractor:
    """The extractor for a detected format, or :class:`UnsupportedFile`."""
    _ensure_defaults()
    try:
        return _REGISTRY[fmt]
    except KeyError:
        raise UnsupportedFile(mime) from None


def reset_registry() -> None:
    """Forget custom registrations and reload the built-in extractors."""
    _REGISTRY.clear()
    _ensure_defaults()


def _ensure_defaults() -> None:
    if _REGISTRY:
        return
    from ingest import (
        _docx,
        _eml,
        _html,
        _image,
        _legacy,
        _markdown,
        _msg,
        _pdf,
        _plaintext,
        _pptx,
        _xlsx,
        _zip,
    )

    for module in (_pdf, _docx, _pptx, _xlsx, _html, _eml, _msg, _markdown, _plaintext, _zip, _image, _legacy):
        for ex in module.EXTRACTORS:
            register(ex)
