"""Page images for OCR: decoding within limits, orientation, deskew and output hygiene.

Engine-neutral.  Orientation is decided in two steps: a projection profile says whether the
text lines run across (0/180) or down (90/270) the image, which is cheap and reliable on
documents; then the engine itself reads a downscaled band of the page both ways up and the
reading with the better score wins (a page upside down reads as low-confidence garbage).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator, Sequence

import numpy as np
from PIL import Image, ImageOps

from ingest._errors import BrokenFile, LimitExceeded
from ingest._image import _too_many_pixels, check_frame

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


def load_frame(img: Image.Image, index: int, max_pixels: int) -> Image.Image:
    """Decode frame ``index`` (0-based) as RGB after checking its header size against the limit."""
    check_frame(img, index, max_pixels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        frame = ImageOps.exif_transpose(img) if index == 0 else img.copy()
        return frame.convert("RGB")


def render_pdf_pages(
    data: bytes, numbers: Sequence[int] | None, dpi: int, max_pages: int, max_pixels: int
) -> Iterator[tuple[int, Image.Image | Exception]]:
    """Render the selected 1-based pages of a PDF; yields ``(number, image or error)``."""
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise BrokenFile(f"PDF 文件已损坏 / damaged PDF: {exc}") from None
    try:
        total = len(pdf)
        if total > max_pages:
            raise LimitExceeded(f"PDF 页数过多（{total}）/ PDF has too many pages ({total})")
        for number in numbers if numbers is not None else range(1, total + 1):
            if not 1 <= number <= total:
                yield number, BrokenFile(f"没有第 {number} 页 / no page {number} (of {total})")
                continue
            page = pdf[number - 1]
            try:
                w_pt, h_pt = page.get_size()
                w, h = int(w_pt * dpi / 72), int(h_pt * dpi / 72)
                if w * h > max_pixels:
                    yield number, _too_many_pixels(w, h, max_pixels)
                    continue
                bitmap = page.render(scale=dpi / 72, grayscale=True)
                yield number, bitmap.to_pil().convert("RGB")
            except Exception as exc:  # pdfium raises plain errors on broken page content
                yield number, BrokenFile(f"无法渲染第 {number} 页 / cannot render page {number}: {exc}")
            finally:
                page.close()
    finally:
        pdf.close()


def _binarised(gray: Image.Image, long_side: int) -> np.ndarray:
    scale = long_side / max(gray.size)
    if scale < 1:
        gray = gray.resize((max(1, int(gray.width * scale)), max(1, int(gray.height * scale))), Image.Resampling.BILINEAR)
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
    return img.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(255, 255, 255))


def _band(img: Image.Image, long_side: int = 1200) -> Image.Image:
    """A downscaled band across the middle of the page: enough text to judge which way up it is."""
    scale = min(1.0, long_side / max(img.size))
    small = img.resize((max(1, int(img.width * scale)), max(1, int(img.height * scale))), Image.Resampling.BILINEAR)
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
