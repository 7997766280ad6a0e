"""The extractor protocol and the registry that maps a detected format to its extractor.

Shaped like paperless-ngx's parser registry: each extractor declares the formats it reads and
a ``parse()``; :func:`extractor_for` picks one; :func:`reset_registry` restores the defaults
(tests).
"""

from __future__ import annotations

from ingest._errors import UnsupportedFile
from ingest.formats._types import Extractor

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
    from ingest.formats import (
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

    for module in (
        _pdf,
        _docx,
        _pptx,
        _xlsx,
        _html,
        _eml,
        _msg,
        _markdown,
        _plaintext,
        _zip,
        _image,
        _legacy,
    ):
        for ex in module.EXTRACTORS:
            register(ex)
