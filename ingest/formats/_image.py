"""Images: no text yet, one ``needs_ocr`` page per page image (TIFF pages; other formats one page).

Pixel counts are read from the header before anything is decoded, so a decompression bomb
fails with :class:`LimitExceeded` without allocating.  HEIC/AVIF and unknown codecs are refused
with advice to convert.
"""

from __future__ import annotations

import io
import warnings
from typing import Any

from foundation.messages import msg
from ingest._errors import BrokenFile, LimitExceeded, UnsupportedFile
from ingest._model import Page
from ingest.formats._types import Extraction, ParseContext


def _too_many_pixels(w: int, h: int, limit: int) -> LimitExceeded:
    return LimitExceeded(msg("ingest.image.too_large", w=w, h=h, limit=f"{limit:,}"))


def open_image(data: bytes, max_pixels: int, fmt: str = "") -> Any:
    """Open an image lazily (header only), refusing decompression bombs before decoding."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise LimitExceeded(msg("ingest.image.too_many_pixels", limit=f"{max_pixels:,}")) from None
    except Exception:  # PIL raises many types for damaged headers
        raise BrokenFile(
            msg("ingest.image.damaged_format", format=fmt) if fmt else msg("ingest.image.damaged")
        ) from None


def check_frame(img: Any, index: int, max_pixels: int) -> tuple[int, int]:
    """Seek to frame ``index`` (0-based) and check its header size against the limit; (w, h)."""
    if index:
        img.seek(index)
    w, h = img.size
    if w <= 0 or h <= 0:
        raise BrokenFile(msg("ingest.image.invalid_size"))
    if w * h > max_pixels:
        raise _too_many_pixels(w, h, max_pixels)
    return w, h


class ImageExtractor:
    """PNG, JPEG, TIFF (multi-page), BMP, WebP, GIF."""

    name = "image"
    formats = frozenset({"png", "jpeg", "tiff", "bmp", "webp", "gif"})

    def parse(self, data: bytes, ctx: ParseContext) -> Extraction:
        """One empty page per frame awaiting OCR; dimensions checked from the header only."""
        limit = ctx.limits.max_pixels
        with open_image(data, limit, ctx.format) as img:
            frames = getattr(img, "n_frames", 1) if ctx.format == "tiff" else 1
            if frames > ctx.limits.max_pages:
                raise LimitExceeded(msg("ingest.image.tiff_pages", frames=frames))
            sizes = [check_frame(img, i, limit) for i in range(frames)]
        w, h = sizes[0]
        pages = [Page(number=i + 1, text="", needs_ocr=True) for i in range(frames)]
        return Extraction(pages=pages, metadata={"frames": str(frames), "pixels": f"{w}x{h}"})


class UnsupportedImageExtractor:
    """HEIC/HEIF/AVIF photos: refused with advice (no decoder is installed)."""

    name = "heic"
    formats = frozenset({"heic", "avif"})

    def parse(self, data: bytes, ctx: ParseContext) -> Extraction:
        """Always refuse, saying what to do."""
        raise UnsupportedFile(
            ctx.mime,
            msg("ingest.image.unsupported", format=ctx.format.upper()),
        )


EXTRACTORS = (ImageExtractor(), UnsupportedImageExtractor())
