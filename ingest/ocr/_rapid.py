"""RapidOCR's PP-OCRv4 models (``rapidocr-onnxruntime``), run by a pipeline of our own.

The wheel's three ONNX models (text detection, 0/180 line direction, recognition) and its DB
box post-processing are used as they ship; no model path is configurable, so nothing can be
downloaded.  The pipeline around them lives here because ``RapidOCR()`` fixes the choices
that decide memory and speed.  ``bench/ocr.py`` measures the result on the 40 dev scan
pages; the numbers below are CPU time on one core of the 2-core dev machine.  Against
``RapidOCR()`` as shipped (1.15-1.4 GB peak RSS, 8 s/page): 0.40% instead of 0.58% CER,
about 370 MB peak RSS for a worker reading a 40-page scan, 1.8 s/page.

* **Sessions** (:func:`session_options`): one intra-op and one inter-op thread (Dossier
  parallelises by process), full graph optimisation, the CPU memory arena *on* and shrunk
  back after every run (:func:`run_options`), memory patterns off.  RapidOCR turns the arena
  off: every tensor is then a fresh ``malloc`` of freshly faulted pages; detection ran 3-4x
  slower, and with glibc keeping freed memory the peak was no lower.  Memory patterns keep
  a buffer plan per input shape, and the peak grew with every new page size.  glibc's
  adaptive mmap threshold is fixed (:func:`fixed_mmap_threshold`), or RSS creeps up page
  after page.
* **Sizes**: a page is reduced to about :data:`WORK_PIXELS` (A4 at 2000 px high, what
  RapidOCR reads at) before anything else, and lines are cut from that image.  The detector
  sees at most :data:`DET_PIXELS` at a time: its activations are the process's memory peak
  (about 170 MB at 1 MP).  A page taller than A4 keeps the width an A4 page would get and is
  detected in overlapping bands of rows (:func:`bands`), so a long page keeps its detail.
  On the dev scans detection at 0.75 / 1.0 / 1.15 / 2.8 MP gave 0.45 / 0.41 / 0.40 / 0.46%
  CER and a whole-process peak of 380 / 430 / 520 MB at the first three.
* **Orientation**: the page is turned so that its lines run across (projection profile, see
  :mod:`ingest.ocr._prep`; the shape of the detected boxes overrules it on sparse pages),
  then the direction classifier votes on the detected lines, weighted by length, on whether
  it is upside down (right on 160 of 160 dev pages x 4 turns).  That costs milliseconds
  instead of reading the page twice.  Skew is not rotated out: lines are cut as rotated
  boxes, and :func:`_join_lines` measures the skew on them.
* **Recognition**: one line per call.  The recogniser's cost is linear in the padded batch
  width, so batches only add padding (recognition per page: 1 line a call 1.5 s, 4 lines
  2.4 s, 16 lines 3.6 s, 32 lines 5.5 s).  Lines scoring under :data:`TEXT_SCORE` are
  dropped, as RapidOCR does.
"""

from __future__ import annotations

import importlib.util
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ingest.ocr._prep import lines_run_across, scaled, tidy_text
from ingest.ocr._types import OcrResult, timed

#: Pixels a page is reduced to (A4 at 2000 x 1414); lines are cut from this image.
WORK_PIXELS = 2000 * 1414
#: Pixels of a page at most, whatever its shape (48 MB as RGB).
MAX_WORK_PIXELS = 16_000_000
#: Pages taller (or wider) than this many times their short side keep the short side an A4
#: page would get instead of shrinking to the same area: their text stays as large.
TALL = 1.5
#: Pixels the detector sees at once (A4 at 1189 x 841, about 100 dpi).
DET_PIXELS = 1_000_000
#: Rows two detection bands share; a text line shorter than half of it is whole in one band.
BAND_OVERLAP = 128
#: Images whose long side is shorter are enlarged to this for the detector (small text).
DET_MIN_SIDE = 960
#: Lines per direction-classifier call.
CLS_BATCH = 16
#: Lines recognised with a lower mean character probability are dropped.
TEXT_SCORE = 0.5
#: Recogniser and classifier input heights/widths from the models' training; a short line is
#: padded to :data:`REC_MIN_WIDTH` (trained at 320: on the dev scans 160 read as well, 6% faster).
REC_HEIGHT, REC_MIN_WIDTH = 48, 160
CLS_HEIGHT, CLS_WIDTH = 48, 192
#: ``mallopt`` parameter number (glibc ``malloc.h``).
M_MMAP_THRESHOLD = -3

MODELS = {
    "det": "ch_PP-OCRv4_det_infer.onnx",
    "cls": "ch_ppocr_mobile_v2.0_cls_infer.onnx",
    "rec": "ch_PP-OCRv4_rec_infer.onnx",
}

Box = np.ndarray  # 4 x 2 float32 corner points, clockwise from top-left


def model_dir() -> Path:
    """Folder of the models inside the installed ``rapidocr_onnxruntime`` wheel."""
    spec = importlib.util.find_spec("rapidocr_onnxruntime")
    if spec is None or spec.origin is None:
        raise ImportError("rapidocr_onnxruntime is not installed")
    return Path(spec.origin).parent / "models"


def session_options() -> Any:
    """ONNX Runtime options for every RapidOCR session (see the module docstring for why)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.enable_cpu_mem_arena = True
    opts.enable_mem_pattern = False
    opts.log_severity_level = 3
    return opts


#: The arena grows by what is asked for, not to the next power of two.
PROVIDERS = [("CPUExecutionProvider", {"arena_extend_strategy": "kSameAsRequested"})]


def run_options() -> Any:
    """Per-run options: the arena gives its memory back after each run, so det, cls and rec peaks do not add up."""
    import onnxruntime as ort

    opts = ort.RunOptions()
    opts.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    return opts


def fixed_mmap_threshold() -> None:
    """Make glibc hand big freed buffers back to the system at once.

    By default glibc raises its mmap threshold to the largest block freed so far (up to
    32 MiB); page-sized buffers (bitmaps, tensors) then come from the heap and stay in the
    process's RSS: over 12 dev pages RSS crept from 227 to 394 MB, and the peak with it.
    Setting the threshold turns that adjustment off.  Other C libraries: nothing happens.
    """
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, 256 * 1024)
    except (OSError, AttributeError):
        pass


@dataclass
class _Models:
    det: Any
    cls: Any
    rec: Any
    det_post: Any
    characters: list[str]
    run: Any


def _load() -> _Models:
    import cv2
    import onnxruntime as ort
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DBPostProcess

    fixed_mmap_threshold()
    cv2.setNumThreads(1)  # resizes and crops too: Dossier parallelises by process
    folder = model_dir()
    sessions = {
        key: ort.InferenceSession(str(folder / name), sess_options=session_options(), providers=PROVIDERS)
        for key, name in MODELS.items()
    }
    meta = sessions["rec"].get_modelmeta().custom_metadata_map
    # CTC: index 0 is the blank; the model's character list, then a space, follow it.
    characters = ["", *meta["character"].splitlines(), " "]
    # RapidOCR's own defaults (its config.yaml, Det).
    post = DBPostProcess(
        thresh=0.3,
        box_thresh=0.5,
        max_candidates=1000,
        unclip_ratio=1.6,
        score_mode="fast",
        use_dilation=True,
    )
    return _Models(sessions["det"], sessions["cls"], sessions["rec"], post, characters, run_options())


def _run(session: Any, batch: np.ndarray, options: Any) -> np.ndarray:
    output: np.ndarray = session.run(None, {session.get_inputs()[0].name: batch}, options)[0]
    return output


def _normalise(img: np.ndarray) -> np.ndarray:
    """uint8 HxWx3 -> contiguous float32 3xHxW in [-1, 1], as all three models were trained."""
    out = img.transpose(2, 0, 1).astype(np.float32, order="C")
    out *= 2.0 / 255.0
    out -= 1.0
    return out


def _fit(short: int, long: int, pixels: int) -> float:
    """Scale giving a page ``pixels`` pixels as if it were at most :data:`TALL` times its short side long."""
    return math.sqrt(pixels / (short * min(long, TALL * short)))


def bands(
    height: int, width: int, pixels: int, overlap: int = BAND_OVERLAP
) -> list[tuple[int, int, int, int]]:
    """Row bands of at most ``pixels`` pixels that cover ``height`` rows, overlapping by ``overlap`` or more.

    Each is ``(start, stop, keep_from, keep_to)``: a box found in the band belongs to it when
    its centre row lies in ``[keep_from, keep_to)`` (the middle of each overlap splits them).
    With ``height``, ``overlap`` and so the band heights multiples of 32, so are all rows.
    """
    rows = max(overlap + 32, pixels // max(width, 1) // 32 * 32)
    if rows >= height:
        return [(0, height, 0, height)]
    starts = [*range(0, height - rows, rows - overlap), height - rows]
    cuts = [0] + [(starts[i + 1] + starts[i] + rows) // 2 for i in range(len(starts) - 1)] + [height]
    return [(s, s + rows, cuts[i], cuts[i + 1]) for i, s in enumerate(starts)]


def _crop(img: np.ndarray, box: Box) -> np.ndarray:
    """The quadrilateral ``box`` cut out and straightened (RapidOCR's ``get_rotate_crop_image``)."""
    import cv2

    width = int(max(np.linalg.norm(box[0] - box[1]), np.linalg.norm(box[2] - box[3])))
    height = int(max(np.linalg.norm(box[0] - box[3]), np.linalg.norm(box[1] - box[2])))
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(box.astype(np.float32), target)
    crop = cv2.warpPerspective(
        img, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC
    )
    if crop.shape[0] >= 1.5 * crop.shape[1]:
        crop = np.rot90(crop)  # a vertical line of text
    return np.ascontiguousarray(crop)


def _resize_height(img: np.ndarray, height: int, width: int) -> np.ndarray:
    """``img`` scaled to ``height``, no wider than ``width``, left-aligned in a zero-padded slot."""
    import cv2

    h, w = img.shape[:2]
    new_w = min(width, max(1, math.ceil(height * w / h)))
    slot = np.zeros((3, height, width), dtype=np.float32)
    slot[:, :, :new_w] = _normalise(cv2.resize(img, (new_w, height)))
    return slot


class RapidOcrEngine:
    """RapidOCR's bundled PP-OCRv4 models, one ONNX thread, memory-bounded (see the module docstring)."""

    name = "rapidocr"

    def __init__(self, work_pixels: int = WORK_PIXELS, det_pixels: int = DET_PIXELS) -> None:
        self.work_pixels = work_pixels
        self.det_pixels = det_pixels
        self._models: _Models | None = None

    def available(self) -> bool:
        """True when ``rapidocr_onnxruntime`` and ``onnxruntime`` are installed with the models."""
        try:
            folder = model_dir()
            import onnxruntime  # noqa: F401
        except ImportError:
            return False
        return all((folder / name).is_file() for name in MODELS.values())

    def load(self) -> None:
        """Load the three models now (idempotent)."""
        if self._models is None:
            self._models = _load()

    @property
    def models(self) -> _Models:
        """The loaded sessions (``det``, ``cls``, ``rec``), post-processing and run options."""
        self.load()
        assert self._models is not None
        return self._models

    def page_scale(self, width: int, height: int) -> float:
        """Factor (≤ 1) a ``width`` x ``height`` page is reduced by: to :data:`WORK_PIXELS`, long pages less."""
        short, long = sorted((max(width, 1), max(height, 1)))
        return min(1.0, _fit(short, long, self.work_pixels), math.sqrt(MAX_WORK_PIXELS / (short * long)))

    def detector_size(self, height: int, width: int) -> tuple[int, int]:
        """(rows, columns), multiples of 32, at which the detector sees a ``height`` x ``width`` page.

        A page taller than :data:`TALL` times its width keeps the width an A4 page would get
        (and is detected in :func:`bands`); others get :data:`DET_PIXELS`.  Only small
        images are enlarged, to :data:`DET_MIN_SIDE`.
        """
        if height > width:
            scale = _fit(width, height, self.det_pixels)
        else:
            scale = math.sqrt(self.det_pixels / (height * width))
        scale = min(scale, max(1.0, DET_MIN_SIDE / max(height, width)))
        return max(32, round(height * scale / 32) * 32), max(32, round(width * scale / 32) * 32)

    # -- the three stages -------------------------------------------------------------------

    def detect(self, img: np.ndarray) -> list[Box]:
        """Text-line boxes in ``img`` (HxWx3 uint8 BGR) coordinates.

        The detector sees the page at :meth:`detector_size`, never more than
        :data:`DET_PIXELS` at once: a tall page in :func:`bands` of rows, each box kept by
        the band its centre lies in.
        """
        import cv2

        m = self.models
        h, w = img.shape[:2]
        # Very flat images (one line) are padded towards 1:8, as RapidOCR letterboxes them.
        pad = max(0, (max(32, w // 8) - h) // 2)
        if pad:
            img = cv2.copyMakeBorder(img, pad, pad, 0, 0, cv2.BORDER_CONSTANT, value=(255, 255, 255))
        ph, pw = img.shape[:2]
        dh, dw = self.detector_size(ph, pw)
        resized = cv2.resize(img, (dw, dh))
        found: list[Box] = []
        for start, stop, keep_from, keep_to in bands(dh, dw, self.det_pixels):
            pred = _run(m.det, _normalise(resized[start:stop])[np.newaxis], m.run)
            boxes, _scores = m.det_post(pred, (stop - start, dw))
            for box in boxes:
                box = box.astype(np.float32)
                box[:, 1] += start
                if keep_from <= float(box[:, 1].mean()) < keep_to:
                    found.append(box)
        out = []
        for box in found:
            box[:, 0] = np.clip(box[:, 0] * (pw / dw), 0, w - 1)
            box[:, 1] = np.clip(box[:, 1] * (ph / dh) - pad, 0, h - 1)
            if np.linalg.norm(box[0] - box[1]) > 3 and np.linalg.norm(box[0] - box[3]) > 3:
                out.append(box)
        return out

    def upside_down(self, crops: list[np.ndarray]) -> bool:
        """True when most of the text (lines weighted by length) reads as turned 180°."""
        m = self.models
        votes = [0.0, 0.0]
        for start in range(0, len(crops), CLS_BATCH):
            chunk = crops[start : start + CLS_BATCH]
            batch = np.stack([_resize_height(c, CLS_HEIGHT, CLS_WIDTH) for c in chunk])
            for crop, p in zip(chunk, _run(m.cls, batch, m.run), strict=True):
                label = int(np.argmax(p))
                votes[label] += float(p[label]) * crop.shape[1] / crop.shape[0]
        return votes[1] > votes[0]

    def read_lines(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        """Text and mean character probability of each line image."""
        m = self.models
        out: list[tuple[str, float]] = []
        for crop in crops:
            width = max(REC_MIN_WIDTH, math.ceil(REC_HEIGHT * crop.shape[1] / crop.shape[0]))
            probs = _run(m.rec, _resize_height(crop, REC_HEIGHT, width)[np.newaxis], m.run)[0]
            best = probs.argmax(axis=1)
            keep = best != 0  # CTC: drop blanks and repeats
            keep[1:] &= best[1:] != best[:-1]
            chars = best[keep]
            text = "".join(m.characters[c] for c in chars)
            out.append((text, float(probs.max(axis=1)[keep].mean()) if chars.size else 0.0))
        return out

    # -- a page -----------------------------------------------------------------------------

    def read(self, page: Image.Image) -> tuple[list[tuple[Box, str, float]], int]:
        """Boxes with text and score, and the turn (0/90/180/270, counter-clockwise) that made ``page`` upright.

        ``page`` should have its lines running across already; where the detected boxes
        say otherwise (most text in boxes standing upright), it is turned 90° and detected
        again.  Boxes are given in the coordinates of the page turned upright.
        """
        turn = 0
        img = _bgr(page)
        boxes = self.detect(img)
        if _sideways(boxes):
            turn = 90
            img = _bgr(page.rotate(90, expand=True))
            boxes = self.detect(img)
        crops = [_crop(img, box) for box in boxes]
        if crops and self.upside_down(crops):
            turn += 180
            h, w = img.shape[:2]
            crops = [np.ascontiguousarray(c[::-1, ::-1]) for c in crops]
            boxes = [np.stack([w - 1 - b[:, 0], h - 1 - b[:, 1]], axis=1)[[2, 3, 0, 1]] for b in boxes]
        del img
        lines = self.read_lines(crops)
        items = [
            (box, text, score)
            for box, (text, score) in zip(boxes, lines, strict=True)
            if score >= TEXT_SCORE and text.strip()
        ]
        return items, turn

    def recognize(self, image: Image.Image) -> OcrResult:
        """Turn the page upright and read it; text has one visual line per line."""
        start = time.perf_counter()
        page = scaled(image, self.page_scale(*image.size))
        rotation = 0 if lines_run_across(page) else 90
        if rotation:
            page = page.rotate(rotation, expand=True)
        items, turn = self.read(page)
        del page
        rotation = (rotation + turn) % 360
        chars = sum(len(text) for _b, text, _s in items)
        confidence = round(sum(s * len(t) for _b, t, s in items) / chars, 4) if chars else None
        text = tidy_text("\n".join(_join_lines(items)))
        return OcrResult(text, confidence, self.name, rotation, timed(start))


def _bgr(page: Image.Image) -> np.ndarray:
    """The page as one contiguous BGR array (the models' order; OpenCV copies a strided view per call)."""
    return np.ascontiguousarray(np.asarray(page.convert("RGB"))[:, :, ::-1])


def _sideways(boxes: list[Box]) -> bool:
    """True when most text (by length) is in boxes standing upright: the lines run down the page."""
    across = down = 0.0
    for b in boxes:
        w = float(np.linalg.norm(b[1] - b[0]))
        h = float(np.linalg.norm(b[3] - b[0]))
        if w >= 2 * h:
            across += w
        elif h >= 2 * w:
            down += h
    return down > across


def _skew(boxes: list[Box]) -> float:
    """The page's skew in radians: the median slope of the long boxes' top and bottom edges."""
    slopes = []
    for b in boxes:
        dx, dy = b[1] - b[0]
        if dx > 4 * float(np.linalg.norm(b[3] - b[0])):  # a line, not a stray mark
            slopes.append(math.atan2(dy, dx))
            bx, by = b[2] - b[3]
            slopes.append(math.atan2(by, bx))
    return float(np.median(slopes)) if slopes else 0.0


def _join_lines(items: list[tuple[Box, str, float]]) -> list[str]:
    """Boxes grouped into visual lines in reading order.

    The page is not deskewed: the boxes are turned back by its skew (measured on them), so
    that both ends of one slanted line still share a line.
    """
    angle = _skew([b for b, _t, _s in items])
    cos, sin = math.cos(-angle), math.sin(-angle)
    boxes: list[tuple[float, float, float, str]] = []
    for points, text, _score in items:
        xs = [float(x * cos - y * sin) for x, y in points]
        ys = [float(x * sin + y * cos) for x, y in points]
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
