"""Page images for OCR: decoding within limits, orientation, deskew and output hygiene.

Engine-neutral.  Orientation is decided in two steps: a projection profile says whether the
text lines run across (0/180) or down (90/270) the image, which is cheap and reliable on
documents; then the engine itself reads a downscaled band of the page both ways up and the
reading with the better score wins (a page upside down reads as low-confidence garbage).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Iterator, Sequence

import numpy as np
from PIL import Image, ImageOps

from foundation.messages import msg
from ingest._errors import BrokenFile, LimitExceeded
from ingest.formats._image import _too_many_pixels, check_frame

_CJK = (
    r"\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u31c0-\u31ef\u3200-\u32ff"
    r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef"
)
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])[ \t\u3000]+(?=[{_CJK}])")
_CJK_CHAR = re.compile(rf"[{_CJK}]")

#: Rotations are degrees counter-clockwise, as ``PIL.Image.rotate`` takes them.
ROTATIONS = (0, 90, 180, 270)


def tidy_text(text: str) -> str:
    """Drop spaces OCR puts between two CJK characters; trim lines; no blank-line runs."""
    lines = []
    for line in text.splitlines():
        line = _SPACE_BETWEEN_CJK.sub("", line.strip())
        line = re.sub(r"[ \t]{2,}", " ", line)
        if line:
            lines.append(line)
    return "\n".join(lines)


def count_cjk(text: str) -> int:
    """How many CJK characters ``text`` holds."""
    return len(_CJK_CHAR.findall(text))


def frame_count(img: Image.Image) -> int:
    """Frames in a (multi-page) image; 1 for single-frame formats."""
    return int(getattr(img, "n_frames", 1) or 1)


def _plain(frame: Image.Image) -> Image.Image:
    """``frame`` as ``L`` or ``RGB``; transparency is laid on white, as a page would show it."""
    if frame.mode in ("L", "RGB"):
        return frame
    if frame.mode in ("RGBA", "LA", "PA") or (frame.mode == "P" and "transparency" in frame.info):
        rgba = frame.convert("RGBA")
        page = Image.new("RGB", rgba.size, "white")
        page.paste(rgba, mask=rgba.getchannel("A"))
        return page
    return frame.convert("L" if frame.mode == "1" else "RGB")


def load_frame(
    img: Image.Image, index: int, max_pixels: int, scale_for: Callable[[int, int], float] | None = None
) -> Image.Image:
    """Decode frame ``index`` (0-based) as ``L`` or ``RGB`` after checking its header size.

    ``scale_for(width, height)`` gives the factor (≤ 1) the reader will reduce the frame by;
    it is reduced here, and a JPEG is decoded at a reduced scale where it can be (a 12 MP
    phone photo never exists at full size).
    """
    w, h = check_frame(img, index, max_pixels)
    if scale_for is not None and img.format == "JPEG":
        factor = min(scale_for(w, h), scale_for(h, w))  # before EXIF turns it: either way round
        if factor < 1:
            img.draft(img.mode, (math.ceil(w * factor), math.ceil(h * factor)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        frame = ImageOps.exif_transpose(img) if index == 0 else img.copy()
    frame = _plain(frame)
    if scale_for is None:
        return frame
    # The frame's full size, turned as EXIF turned it; draft() may have decoded it smaller.
    full = (w, h) if (frame.width >= frame.height) == (w >= h) else (h, w)
    factor = scale_for(*full)
    size = (max(1, round(full[0] * factor)), max(1, round(full[1] * factor)))
    if size[0] < frame.width:
        frame = frame.resize(size, Image.Resampling.BILINEAR)
    return frame


def render_pdf_pages(
    data: bytes,
    numbers: Sequence[int] | None,
    dpi: int,
    max_pages: int,
    max_pixels: int,
    scale_for: Callable[[int, int], float] | None = None,
) -> Iterator[tuple[int, Image.Image | Exception]]:
    """Render the selected 1-based pages of a PDF in grey; yields ``(number, image or error)``.

    Pages are rendered at ``dpi``, reduced by ``scale_for(width, height)`` where it is given.
    """
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise BrokenFile(msg("ingest.ocr.pdf_damaged", detail=exc)) from None
    try:
        total = len(pdf)
        if total > max_pages:
            raise LimitExceeded(msg("ingest.ocr.pdf_too_many_pages", pages=total))
        for number in numbers if numbers is not None else range(1, total + 1):
            if not 1 <= number <= total:
                yield number, BrokenFile(msg("ingest.ocr.no_page", page=number, total=total))
                continue
            page = pdf[number - 1]
            try:
                w_pt, h_pt = page.get_size()
                scale = dpi / 72
                if scale_for is not None:
                    scale *= min(1.0, scale_for(int(w_pt * scale), int(h_pt * scale)))
                w, h = int(w_pt * scale), int(h_pt * scale)
                if w * h > max_pixels:
                    yield number, _too_many_pixels(w, h, max_pixels)
                    continue
                bitmap = page.render(scale=scale, grayscale=True)
                image = bitmap.to_pil().convert("L")  # a copy: the bitmap's buffer is freed with it
                bitmap.close()
                yield number, image
            except Exception as exc:  # pdfium raises plain errors on broken page content
                yield number, BrokenFile(msg("ingest.ocr.render_failed", page=number, detail=exc))
            finally:
                page.close()
    finally:
        pdf.close()


def scaled(img: Image.Image, factor: float) -> Image.Image:
    """``img`` reduced (antialiased) by ``factor`` when it is below 1; else ``img`` itself."""
    if factor >= 1:
        return img
    size = (max(1, round(img.width * factor)), max(1, round(img.height * factor)))
    return img.resize(size, Image.Resampling.BILINEAR)


def _binarised(gray: Image.Image, long_side: int) -> np.ndarray:
    scale = long_side / max(gray.size)
    if scale < 1:
        gray = gray.resize(
            (max(1, int(gray.width * scale)), max(1, int(gray.height * scale))), Image.Resampling.BILINEAR
        )
    a = np.asarray(gray, dtype=np.float32)
    # Ink is whatever is clearly darker than the page's typical background.
    threshold = min(float(np.percentile(a, 90)) - 40.0, 160.0)
    return (a < threshold).astype(np.float32)


def _profile_score(ink: np.ndarray) -> float:
    """How sharply the row sums alternate: high when text lines run horizontally."""
    rows = ink.sum(axis=1)
    return float(np.square(np.diff(rows)).sum()) / max(float(rows.sum()), 1.0) ** 2 * ink.shape[0]


def lines_run_across(img: Image.Image) -> bool:
    """True when text lines run left-right (page at 0 or 180), False when they run up-down."""
    ink = _binarised(img.convert("L"), 1000)
    # Trim a margin so a dark scanner edge does not dominate either profile.
    h, w = ink.shape
    ink = ink[h // 20 : h - h // 20, w // 20 : w - w // 20]
    return _profile_score(ink) >= _profile_score(ink.T)


def skew_angle(img: Image.Image, max_deg: float = 3.0, step: float = 0.1) -> float:
    """Small skew angle in degrees (counter-clockwise correction) by projection profile."""
    ink = Image.fromarray((_binarised(img.convert("L"), 1200) * 255).astype(np.uint8))
    best, best_score = 0.0, -1.0
    for i in range(int(-max_deg / step), int(max_deg / step) + 1):
        angle = i * step
        rotated = np.asarray(ink.rotate(angle, resample=Image.Resampling.NEAREST), dtype=np.float32)
        rows = rotated.sum(axis=1)
        score = float(np.square(np.diff(rows)).sum())
        if score > best_score:
            best, best_score = angle, score
    return best


def deskew(img: Image.Image) -> Image.Image:
    """Rotate out a small scanner skew (≤ 3°); no-op when the page is straight."""
    angle = skew_angle(img)
    if abs(angle) < 0.15:
        return img
    return img.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor="white")


def _band(img: Image.Image, long_side: int = 1200) -> Image.Image:
    """A downscaled band across the middle of the page: enough text to judge which way up it is."""
    scale = min(1.0, long_side / max(img.size))
    small = img.resize(
        (max(1, int(img.width * scale)), max(1, int(img.height * scale))), Image.Resampling.BILINEAR
    )
    h = small.height
    return small.crop((0, h * 3 // 10, small.width, h * 7 // 10))


def detect_rotation(img: Image.Image, score: Callable[[Image.Image], float]) -> int:
    """Degrees (counter-clockwise) that put the page upright; ``score`` rates a reading of an image."""
    candidates = (0, 180) if lines_run_across(img) else (90, 270)
    band_source = img
    best, best_score = candidates[0], float("-inf")
    for rotation in candidates:
        turned = band_source.rotate(rotation, expand=True) if rotation else band_source
        value = score(_band(turned))
        if value > best_score:
            best, best_score = rotation, value
    return best


def upright(img: Image.Image, score: Callable[[Image.Image], float]) -> tuple[Image.Image, int]:
    """The page turned upright and deskewed, with the rotation applied (0/90/180/270)."""
    rotation = detect_rotation(img, score)
    if rotation:
        img = img.rotate(rotation, expand=True)
    return deskew(img), rotation
