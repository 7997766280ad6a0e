"""RapidOCR (``rapidocr-onnxruntime``: PP-OCRv4 det/rec + a 0/180 line classifier, ONNX).

The models ship inside the wheel and no model path is ever configured, so nothing can be
downloaded.  Its boxes come back roughly top-to-bottom; they are re-joined here into visual
lines (boxes whose vertical centres overlap one line's height), left to right, with a space.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from PIL import Image

from ingest._ocr import OcrResult, timed
from ingest._ocr_prep import count_cjk, tidy_text, upright


def _join_lines(items: list[tuple[list[list[float]], str, float]]) -> list[str]:
    """Boxes grouped into visual lines in reading order."""
    boxes: list[tuple[float, float, float, str]] = []
    for points, text, _score in items:
        ys = [p[1] for p in points]
        xs = [p[0] for p in points]
        boxes.append((min(ys), max(ys), min(xs), text))
    boxes.sort(key=lambda b: ((b[0] + b[1]) / 2, b[2]))
    lines: list[list[tuple[float, float, float, str]]] = []
    for box in boxes:
        centre = (box[0] + box[1]) / 2
        if lines:
            last = lines[-1]
            top = sum(b[0] for b in last) / len(last)
            bottom = sum(b[1] for b in last) / len(last)
            height = bottom - top
            if abs(centre - (top + bottom) / 2) < 0.5 * min(height, box[1] - box[0]):
                last.append(box)
                continue
        lines.append([box])
    return [" ".join(b[3] for b in sorted(line, key=lambda b: b[2])) for line in lines]


class RapidOcrEngine:
    """RapidOCR with its wheel-bundled PP-OCRv4 models, one ONNX thread."""

    name = "rapidocr"

    def __init__(self) -> None:
        self._ocr: Any = None

    def available(self) -> bool:
        """True when ``rapidocr_onnxruntime`` (and so its bundled models) can be imported."""
        try:
            import rapidocr_onnxruntime  # noqa: F401
        except ImportError:
            return False
        return True

    def _engine(self) -> Any:
        if self._ocr is None:
            from rapidocr_onnxruntime import RapidOCR

            self._ocr = RapidOCR(intra_op_num_threads=1, inter_op_num_threads=1)
        return self._ocr

    def _read(self, image: Image.Image, use_cls: bool = True) -> list[tuple[list[list[float]], str, float]]:
        array = np.asarray(image.convert("RGB"))[:, :, ::-1]  # RapidOCR expects OpenCV's BGR
        result, _elapse = self._engine()(np.ascontiguousarray(array), use_cls=use_cls)
        return [(box, text, float(score)) for box, text, score in result or []]

    def _score(self, image: Image.Image) -> float:
        """Score-weighted characters read without the line classifier, so upside down scores low."""
        items = self._read(image, use_cls=False)
        return sum(score * (count_cjk(text) + 0.3 * len(text)) for _box, text, score in items)

    def recognize(self, image: Image.Image) -> OcrResult:
        """Turn the page upright, deskew it, read it; text has one visual line per line."""
        start = time.perf_counter()
        page, rotation = upright(image, self._score)
        items = self._read(page)
        chars = sum(len(text) for _b, text, _s in items)
        confidence = (
            round(sum(score * len(text) for _b, text, score in items) / chars, 4) if chars else None
        )
        return OcrResult(tidy_text("\n".join(_join_lines(items))), confidence, self.name, rotation, timed(start))
