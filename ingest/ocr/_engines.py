"""OCR: one :class:`OcrEngine` protocol, a registry of engines, and :func:`ocr_pages`.

Engines are chosen the way RQ chooses serializers: an alias map and one
:func:`resolve_engine` that fails with a clear message.  ``auto`` means RapidOCR: on the 40 dev
scan pages (``bench/ocr.py``) it has 0.4% CER against tesseract's 12.3%, at 1.8 against 5.8
CPU s/page; it falls back to tesseract when RapidOCR is not installed.  :func:`resolve_engine` loads the engine's models,
so a worker that resolves its engine before its first page does not pay for them on a deadline.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from PIL import Image

from foundation.messages import msg
from ingest._errors import IngestError, LimitExceeded, UnsupportedFile
from ingest._limits import Limits
from ingest._parse import detect
from ingest._timeout import time_limit
from ingest.formats._detect import IMAGE_FORMATS
from ingest.ocr._types import OcrEngine

# Both engines parallelise poorly inside one page; Dossier parallelises by process instead.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

DEFAULT_LIMITS = Limits()
#: Seconds one page may take before it becomes a page error.
DEFAULT_PAGE_TIMEOUT_S = 120.0
#: PDF render resolution, lowered to what the engine reads at (:meth:`OcrEngine.page_scale`;
#: RapidOCR: A4 at 2000 px high, about 170 dpi), so nothing is rendered only to be scaled down.
DEFAULT_DPI = 300


class OcrFailed(IngestError):
    """OCR of one page failed; ``page`` is its 1-based number."""

    def __init__(self, page: int, message: str) -> None:
        super().__init__(message)
        self.page = page


class OcrUnavailable(IngestError):
    """The requested OCR engine is unknown or not installed."""

    status = 500


@dataclass(frozen=True)
class OcrPage:
    """One page of :func:`ocr_pages`: its text, or ``error`` (one line, 中文 / English)."""

    number: int
    text: str
    confidence: float | None
    engine: str
    rotation: int
    error: str | None = None


def _tesseract() -> OcrEngine:
    from ingest.ocr._tesseract import TesseractEngine

    return TesseractEngine()


def _rapidocr() -> OcrEngine:
    from ingest.ocr._rapid import RapidOcrEngine

    return RapidOcrEngine()


#: Alias -> factory.  Engines are built lazily: importing ``ingest`` loads no model.
ENGINES: dict[str, Callable[[], OcrEngine]] = {"tesseract": _tesseract, "rapidocr": _rapidocr}
#: ``auto`` tries these in order and takes the first available.
AUTO_ORDER = ("rapidocr", "tesseract")

_cache: dict[str, OcrEngine] = {}


def reset_engines() -> None:
    """Forget built engines (tests)."""
    _cache.clear()


def _build(name: str) -> OcrEngine:
    if name not in _cache:
        _cache[name] = ENGINES[name]()
    return _cache[name]


def resolve_engine(name: str = "auto") -> OcrEngine:
    """The engine for ``auto``, ``tesseract`` or ``rapidocr``; :class:`OcrUnavailable` otherwise."""
    key = (name or "auto").strip().lower()
    if key == "auto":
        for candidate in AUTO_ORDER:
            engine = _build(candidate)
            if engine.available():
                engine.load()
                return engine
        raise OcrUnavailable(msg("ingest.ocr.no_engine"))
    if key not in ENGINES:
        choices = ", ".join(["auto", *ENGINES])
        raise OcrUnavailable(msg("ingest.ocr.unknown_engine", name=name, choices=choices))
    engine = _build(key)
    if not engine.available():
        raise OcrUnavailable(msg("ingest.ocr.engine_missing", key=key))
    engine.load()
    return engine


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, IngestError):
        return exc.message.splitlines()[0] if exc.message else type(exc).__name__
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return str(msg("ingest.ocr.failed", detail=text))[:300]


def _page_images(
    data: bytes,
    filename: str,
    pages: Sequence[int] | None,
    limits: Limits,
    dpi: int,
    scale_for: Callable[[int, int], float] | None = None,
) -> Iterator[tuple[int, Image.Image | Exception]]:
    """Selected pages as ``(number, image or error)``, decoded one at a time as the caller asks.

    Images are ``L`` or ``RGB``, reduced by ``scale_for(width, height)`` where it is given.
    """
    from ingest.formats._image import open_image
    from ingest.ocr._prep import frame_count, load_frame, render_pdf_pages

    detected = detect(data, filename)
    if detected.format == "pdf":
        yield from render_pdf_pages(data, pages, dpi, limits.max_pages, limits.max_pixels, scale_for)
        return
    if detected.format not in IMAGE_FORMATS:
        raise UnsupportedFile(detected.mime, msg("ingest.ocr.unsupported", format=detected.format))
    img = open_image(data, limits.max_pixels)
    total = frame_count(img) if detected.format in {"tiff", "webp"} else 1
    if total > limits.max_pages:
        raise LimitExceeded(msg("ingest.ocr.too_many_pages", pages=total))
    for number in pages if pages is not None else range(1, total + 1):
        if not 1 <= number <= total:
            yield number, IngestError(msg("ingest.ocr.no_page", page=number, total=total))
            continue
        try:
            frame: Image.Image | Exception = load_frame(img, number - 1, limits.max_pixels, scale_for)
        except Exception as exc:  # a broken frame is one page's error, not the document's
            frame = exc
        yield number, frame


def ocr_pages(
    data: bytes,
    filename: str,
    *,
    pages: Sequence[int] | None = None,
    engine: str | OcrEngine = "auto",
    limits: Limits = DEFAULT_LIMITS,
    dpi: int = DEFAULT_DPI,
    page_timeout_s: float = DEFAULT_PAGE_TIMEOUT_S,
) -> list[OcrPage]:
    """OCR the selected 1-based ``pages`` (all by default) of an image or PDF file.

    A page that fails or runs past ``page_timeout_s`` comes back with ``error`` set; the other
    pages are kept.  A file that cannot be opened at all (unknown type, too many pages, a
    decompression bomb in its header) raises an :class:`IngestError`.
    """
    ocr = resolve_engine(engine) if isinstance(engine, str) else engine
    if pages is not None and len(pages) > limits.max_pages:
        raise LimitExceeded(msg("ingest.ocr.too_many_pages", pages=len(pages)))
    results: list[OcrPage] = []
    for number, image in _page_images(data, filename, pages, limits, dpi, ocr.page_scale):
        if isinstance(image, Exception):
            results.append(OcrPage(number, "", None, ocr.name, 0, _one_line(image)))
            continue
        try:
            with time_limit(page_timeout_s):
                result = ocr.recognize(image)
        except Exception as exc:  # one page's failure must not lose the document
            results.append(OcrPage(number, "", None, ocr.name, 0, _one_line(exc)))
            continue
        finally:
            image.close()
        results.append(OcrPage(number, result.text, result.confidence, result.engine, result.rotation))
    return results
