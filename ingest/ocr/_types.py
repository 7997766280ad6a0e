"""What an OCR engine is and returns: the :class:`OcrEngine` protocol and its :class:`OcrResult`."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from PIL import Image

__all__ = ["OcrEngine", "OcrResult", "timed"]


@dataclass(frozen=True)
class OcrResult:
    """What an engine read on one upright-corrected page image."""

    text: str
    confidence: float | None
    engine: str
    rotation: int
    seconds: float


@runtime_checkable
class OcrEngine(Protocol):
    """An OCR engine: reads a page image, turning it upright first."""

    name: str

    def available(self) -> bool:
        """True when the engine and its models are installed here."""
        ...

    def load(self) -> None:
        """Load models now (idempotent); otherwise the first page loads them."""
        ...

    def page_scale(self, width: int, height: int) -> float:
        """Factor (≤ 1) by which the engine reduces a ``width`` x ``height`` page anyway.

        Pages are rendered and decoded at that size, so no pixels are made only to be dropped.
        """
        ...

    def recognize(self, image: Image.Image) -> OcrResult:
        """Read ``image``: correct orientation and skew, then return tidy text."""
        ...


def timed(start: float) -> float:
    """Seconds since ``start`` (``time.perf_counter``)."""
    return round(time.perf_counter() - start, 3)
