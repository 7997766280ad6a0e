"""``ingest``: file -> :class:`ParsedDocument`.  Pure: no database, index or queue.

Callers import only from here::

    from ingest import parse_file, Limits, IngestError, time_limit

    with time_limit(limits.parse_timeout_s):
        doc = parse_file(path, filename=original_name, limits=limits)

The type is detected from the content (magic bytes, ZIP/OLE2 contents, text heuristics),
never trusted from the extension.  A bad file raises an :class:`IngestError` subclass
whose message is one line, "中文说明 / English".  Pages without a text layer come back with
``needs_ocr=True``; e-mail attachments and archive members come back as ``children`` for
the caller to ingest at ``depth + 1``.
"""

from __future__ import annotations

from ingest._errors import (
    BrokenFile,
    EncryptedFile,
    IngestError,
    LimitExceeded,
    ParseTimeout,
    UnsupportedFile,
)
from ingest._limits import Limits
from ingest._model import ENTITY_KINDS, ChildFile, Entity, Page, ParsedDocument
from ingest._parse import detect, parse_bytes, parse_file
from ingest._timeout import time_limit
from ingest.facts._codes import uscc_is_valid
from ingest.facts._contact import normalize_phone
from ingest.facts._dates import parse_date
from ingest.facts._doctype import DOC_TYPES, DocTypeGuess, guess_doc_type, type_code
from ingest.facts._due import DUE_DATE_KINDS, DueDateFound, extract_due_dates
from ingest.facts._entities import document_date, entity_values, extract_entities, group_entity_values
from ingest.facts._link import (
    FUZZY_THRESHOLD,
    Link,
    LinkResult,
    Registry,
    RegistryEntry,
    distinctive_part,
    normalize_name,
    trade_name,
)
from ingest.facts._money import parse_amount
from ingest.facts._places import region_of
from ingest.formats._detect import MIME, Detected
from ingest.formats._render import render_page_png
from ingest.ocr._engines import (
    ENGINES,
    OcrFailed,
    OcrPage,
    OcrUnavailable,
    ocr_pages,
    reset_engines,
    resolve_engine,
)
from ingest.ocr._split import Separator, SplitPart, find_separators, separator_sheet_pdf, split_at
from ingest.ocr._types import OcrEngine, OcrResult

__all__ = [
    "DOC_TYPES",
    "DUE_DATE_KINDS",
    "ENGINES",
    "ENTITY_KINDS",
    "FUZZY_THRESHOLD",
    "MIME",
    "BrokenFile",
    "ChildFile",
    "Detected",
    "DocTypeGuess",
    "DueDateFound",
    "EncryptedFile",
    "Entity",
    "IngestError",
    "LimitExceeded",
    "Limits",
    "Link",
    "LinkResult",
    "OcrEngine",
    "OcrFailed",
    "OcrPage",
    "OcrResult",
    "OcrUnavailable",
    "Page",
    "ParseTimeout",
    "ParsedDocument",
    "Registry",
    "RegistryEntry",
    "Separator",
    "SplitPart",
    "UnsupportedFile",
    "detect",
    "distinctive_part",
    "document_date",
    "entity_values",
    "extract_due_dates",
    "extract_entities",
    "find_separators",
    "group_entity_values",
    "guess_doc_type",
    "normalize_name",
    "normalize_phone",
    "ocr_pages",
    "parse_amount",
    "parse_bytes",
    "parse_date",
    "parse_file",
    "region_of",
    "render_page_png",
    "reset_engines",
    "resolve_engine",
    "separator_sheet_pdf",
    "split_at",
    "time_limit",
    "trade_name",
    "type_code",
    "uscc_is_valid",
]
