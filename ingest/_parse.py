"""The facade's work: check limits, detect, dispatch to an extractor, and finish the document."""

from __future__ import annotations

import os
from pathlib import Path, PurePath

from foundation.messages import Message, msg
from ingest._errors import BrokenFile, IngestError, LimitExceeded
from ingest._limits import Limits
from ingest._model import Page, ParsedDocument
from ingest._text import clean_title, first_line_title, language, normalize
from ingest.formats._detect import MIME, Detected, detect_bytes
from ingest.formats._registry import extractor_for
from ingest.formats._types import Extraction, ParseContext

DEFAULT_LIMITS = Limits()


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB"


def _too_big(size: int, limits: Limits) -> LimitExceeded:
    return LimitExceeded(msg("ingest.file.too_large", size=_mb(size), limit=_mb(limits.max_file_bytes)))


def detect(data: bytes, filename: str | None = None) -> Detected:
    """Detect a file's type from its content; ``filename`` only breaks ties among text formats."""
    return detect_bytes(data, filename)


def parse_file(
    path: str | os.PathLike[str],
    *,
    filename: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    depth: int = 0,
) -> ParsedDocument:
    """Parse the file at ``path``; ``filename`` is the original name when the path is a temp copy."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > limits.max_file_bytes:
            raise _too_big(size, limits)
        data = p.read_bytes()
    except OSError as exc:
        raise BrokenFile(msg("ingest.file.unreadable", detail=exc.strerror or exc)) from None
    return parse_bytes(data, filename or p.name, limits=limits, depth=depth)


def parse_bytes(
    data: bytes,
    filename: str,
    *,
    limits: Limits = DEFAULT_LIMITS,
    depth: int = 0,
) -> ParsedDocument:
    """Parse a file's bytes.  Raises only :class:`IngestError` subclasses for a bad file."""
    if len(data) > limits.max_file_bytes:
        raise _too_big(len(data), limits)
    found = detect_bytes(data, filename)
    extractor = extractor_for(found.format, found.mime)
    ctx = ParseContext(filename=filename, mime=found.mime, format=found.format, limits=limits, depth=depth)
    try:
        result = extractor.parse(data, ctx)
        if result.converted is not None:  # e.g. legacy Office, converted to OOXML: parse the conversion
            target, converted = result.converted
            inner = ParseContext(
                filename=filename, mime=MIME[target], format=target, limits=limits, depth=depth
            )
            result = extractor_for(target, MIME[target]).parse(converted, inner)
            result.metadata["converted_from"] = found.format
    except IngestError:
        raise
    except MemoryError:
        raise LimitExceeded(msg("ingest.file.out_of_memory")) from None
    except RecursionError:
        raise BrokenFile(msg("ingest.file.nested_too_deep", format=found.format)) from None
    except Exception as exc:
        # The library boundary: whatever a third-party parser throws on a damaged file becomes
        # one readable line.  (ParseTimeout is an IngestError and passes through above.)
        raise BrokenFile(_one_line(found.format, exc)) from None
    return _finish(result, found, filename, limits)


def _one_line(fmt: str, exc: BaseException) -> Message:
    detail = " ".join(str(exc).split())[:200] or type(exc).__name__
    return msg("ingest.file.damaged", format=fmt, detail=detail)


def _finish(result: Extraction, found: Detected, filename: str, limits: Limits) -> ParsedDocument:
    if len(result.pages) > limits.max_pages:
        raise LimitExceeded(
            msg("ingest.file.too_many_pages", pages=len(result.pages), limit=limits.max_pages)
        )
    pages = tuple(
        Page(number=i, text=normalize(p.text), needs_ocr=p.needs_ocr) for i, p in enumerate(result.pages, 1)
    )
    text = "\n".join(p.text for p in pages)
    title = clean_title(result.title) or first_line_title(text) or PurePath(filename).stem
    warnings = list(result.warnings)
    ocr = sum(1 for p in pages if p.needs_ocr)
    if ocr:
        waiting = (
            msg("ingest.ocr.pages_waiting", pages=ocr)
            if ocr != 1
            else msg("ingest.ocr.page_waiting", pages=ocr)
        )
        warnings.append(waiting.dumps())
    return ParsedDocument(
        mime=found.mime,
        format=found.format,
        pages=pages,
        title=title,
        language=language(text),
        warnings=tuple(warnings),
        children=tuple(result.children),
        metadata=dict(result.metadata),
    )
