"""Batch splitting: one scanned stack (PDF or multi-page TIFF) -> one file per document.

A user feeds many paper documents through the scanner at once and puts a separator sheet
before each: a blank page, or the printable sheet whose QR code says ``DOSSIER-SPLIT``
(:func:`separator_sheet_pdf`, committed as ``docs/separator-sheet.pdf``).
:func:`find_separators` finds those pages; :func:`split_at` writes the pages between them as
new files of the same kind, dropping the separators and any empty part.

Pages are looked at one at a time at :data:`WORK_DPI` (grey); at most the current and the
previous page's small bitmaps are held.  A page with a real text layer is never blank: only
pages without one, or whose text mentions the separator sheet, are rendered.

Blank means "no content", judged in physical units so 200 and 300 dpi scans agree: ink is
what is clearly darker than the page's own local background (so grey paper, uneven light and
faint bleed-through are not ink), specks under 0.5 mm² are dropped, strokes closer than
0.6 mm are merged so that a character becomes one blob, and any blob the size of one small
character (≥ 2.5 mm across, ≥ 2 mm² of ink) makes the page non-blank.  Dark regions touching
the image border (scanner edge, open lid, skewed-page corners) with a 2 mm rim, and punch
holes, are ignored.  A blank verdict drops the page, so every doubt (heavy dirt, a hair, a
dark pencil mark) falls on the side of "not blank".  Measured on synthetic scans (200/300
dpi, noise, dust, JPEG 30–95, grey paper, bleed-through, 1-bit): blank sheets are found, and
one-line notes down to two characters at 8 pt are content; the misses were two-glyph notes
at 6 pt eroded by a harsh 1-bit threshold.
"""

from __future__ import annotations

import io
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

import numpy as np

from foundation.messages import msg
from ingest._errors import BrokenFile, IngestError, LimitExceeded
from ingest._limits import Limits
from ingest.formats._detect import detect_bytes
from ingest.formats._image import check_frame, open_image
from ingest.formats._pdf import MIN_TEXT_CHARS
from ingest.formats._pdf import _open as open_pdf

#: The text of the separator sheet's QR code.
SPLIT_TEXT = "DOSSIER-SPLIT"
#: Separator kinds :func:`find_separators` looks for by default.
KINDS = ("qr", "blank")
#: Resolution pages are judged at (blank test); the QR code is first read at half of it.
WORK_DPI = 100
#: A rendered page never exceeds this many pixels (a poster-sized page is judged coarser).
WORK_MAX_PIXELS = 6_000_000
#: The sheet's caption, Chinese first.
SHEET_CAPTION = ("Dossier 分隔页 — 请放在每份文件之前", "separator sheet — put one before each document")

# A text layer that names the sheet is worth rendering: a scanner's own OCR reads the caption.
_SHEET_WORDS = re.compile(r"DOSSIER\s*[-–—_]?\s*SPLIT|分\s*隔\s*页|separator\s+sheet", re.I)
_DEFAULT_LIMITS = Limits()
_MM_PER_INCH = 25.4

# Blank test, grey levels below the local background and sizes in millimetres.
_INK_DELTA = 35  # darker than this is a candidate ink pixel
_CORE_DELTA = 60  # a mark needs some pixels this dark: faint bleed-through and shadows have none
_SPECK_MM2 = 0.5  # marks with less ink are dust or noise
_MERGE_MM = 0.6  # strokes this close belong to one character
_CONTENT_MM = 2.5  # a blob this wide or tall ...
_CONTENT_MM2 = 2.0  # ... holding this much ink is content (one small character)
_BORDER_MM = 1.5  # blobs reaching this close to the image border are scanner artefacts
_DARK_PAGE_SHARE = 0.02  # more dark pixels than this in the page's middle: a photo, not blank


@dataclass(frozen=True)
class Separator:
    """A separator page: ``page`` is 1-based, ``kind`` is ``"qr"`` or ``"blank"``."""

    page: int
    kind: str


@dataclass(frozen=True)
class SplitPart:
    """One document cut out of a stack: the new file and the original pages it holds (1-based)."""

    filename: str
    data: bytes
    first_page: int
    last_page: int


# --- finding separators -------------------------------------------------------------------


def find_separators(
    data: bytes,
    filename: str,
    *,
    kinds: Collection[str] = KINDS,
    limits: Limits | None = None,
) -> list[Separator]:
    """The separator pages of a scanned stack (PDF or multi-page TIFF), in page order.

    ``kinds`` picks ``"qr"`` (the Dossier sheet) and/or ``"blank"`` pages.  With ``"qr"``, a
    blank page right before or after a QR sheet is its back (duplex scanning) and is reported
    as a ``"blank"`` separator even when blank pages are not looked for otherwise.  Other
    formats and one-page files give ``[]``.  A file that cannot be opened raises the
    :class:`IngestError` that parsing it would.
    """
    wanted = frozenset(kinds)
    unknown = wanted - set(KINDS)
    if unknown:
        raise ValueError(f"未知的分隔方式 / unknown separator kind(s): {', '.join(sorted(unknown))}")
    limits = limits or _DEFAULT_LIMITS
    if not wanted or not data:
        return []
    if len(data) > limits.max_file_bytes:
        raise LimitExceeded(msg("ingest.split.too_large"))
    fmt = detect_bytes(data, filename).format
    if fmt == "pdf":
        pages = _pdf_pages(data, limits)
    elif fmt == "tiff":
        pages = _tiff_pages(data, limits)
    else:
        return []
    try:
        return _scan(pages, wanted)
    except (IngestError, MemoryError):
        raise
    except Exception as exc:  # the library boundary: pdfium, Pillow or OpenCV failing on a damaged file
        raise _broken("ingest.file.damaged", fmt, exc) from None


@dataclass
class _Look:
    """One page as the scan loop sees it: ``gray`` is None when the page was not rendered."""

    number: int
    gray: np.ndarray | None
    px_per_mm: float
    may_be_blank: bool
    blank: bool | None = None

    def is_blank(self) -> bool:
        """The blank test, run at most once and only when asked."""
        if self.blank is None:
            self.blank = self.may_be_blank and self.gray is not None and is_blank(self.gray, self.px_per_mm)
        return self.blank


def _scan(pages: Iterator[_Look], wanted: frozenset[str]) -> list[Separator]:
    found: dict[int, str] = {}
    detectors = _qr_detectors() if "qr" in wanted else ()
    prev: _Look | None = None
    after_qr = False
    count = 0
    for look in pages:
        count += 1
        if "blank" in wanted and look.is_blank():
            found[look.number] = "blank"
        elif detectors and look.gray is not None and _says_split(look.gray, detectors):
            found[look.number] = "qr"
            if prev is not None and prev.number not in found and prev.is_blank():
                found[prev.number] = "blank"
        elif after_qr and look.is_blank():
            found[look.number] = "blank"
        after_qr = found.get(look.number) == "qr"
        if prev is not None:
            prev.gray = None  # only the current page and the one before are kept
        prev = look
    if count < 2:
        return []
    return [Separator(page, kind) for page, kind in sorted(found.items())]


def _pdf_pages(data: bytes, limits: Limits) -> Iterator[_Look]:
    pdf = open_pdf(data)
    try:
        total = len(pdf)
        _check_pages(total, limits)
        for number in range(1, total + 1):
            yield _pdf_look(pdf, number, limits)
    finally:
        pdf.close()


def _pdf_look(pdf: Any, number: int, limits: Limits) -> _Look:
    """Render a page only when it could be a separator: no real text layer, or one naming the sheet."""
    page = pdf[number - 1]
    try:
        text = _page_text(page)
        has_text = sum(1 for c in text if not c.isspace()) >= MIN_TEXT_CHARS
        if has_text and not _SHEET_WORDS.search(text):
            return _Look(number, None, 0.0, may_be_blank=False)
        gray, px_per_mm = _render(page, limits)
        return _Look(number, gray, px_per_mm, may_be_blank=not has_text)
    except Exception:  # a page pdfium cannot read is simply not a separator; parsing reports it
        return _Look(number, None, 0.0, may_be_blank=False)
    finally:
        page.close()


def _page_text(page: Any) -> str:
    textpage = page.get_textpage()
    try:
        return str(textpage.get_text_range())
    finally:
        textpage.close()


def _render(page: Any, limits: Limits) -> tuple[np.ndarray | None, float]:
    w_pt, h_pt = page.get_size()
    scale = WORK_DPI / 72
    cap = min(WORK_MAX_PIXELS, limits.max_pixels)
    if w_pt * h_pt * scale * scale > cap:
        scale = (cap / max(w_pt * h_pt, 1.0)) ** 0.5
    if w_pt * scale < 8 or h_pt * scale < 8:
        return None, 0.0
    bitmap = page.render(scale=scale, grayscale=True, may_draw_forms=False)
    try:
        gray = np.array(bitmap.to_numpy(), dtype=np.uint8).reshape(bitmap.height, bitmap.width, -1)[:, :, 0]
    finally:
        bitmap.close()
    return np.ascontiguousarray(gray), scale * 72 / _MM_PER_INCH


def _tiff_pages(data: bytes, limits: Limits) -> Iterator[_Look]:
    img = open_image(data, limits.max_pixels, "tiff")
    with img:
        total = int(getattr(img, "n_frames", 1) or 1)
        _check_pages(total, limits)
        for number in range(1, total + 1):
            yield _tiff_look(img, number, limits)


def _tiff_look(img: Any, number: int, limits: Limits) -> _Look:
    """Decode one frame and scale it to :data:`WORK_DPI` (capped at :data:`WORK_MAX_PIXELS`)."""
    import cv2

    try:
        w, h = check_frame(img, number - 1, limits.max_pixels)
        if number == 1:
            img.seek(0)
        dpi_x, dpi_y = _frame_dpi(img.info.get("dpi"), w, h)
        fit = min(1.0, (WORK_MAX_PIXELS / max(w * WORK_DPI / dpi_x * h * WORK_DPI / dpi_y, 1.0)) ** 0.5)
        size = (max(8, round(w * WORK_DPI / dpi_x * fit)), max(8, round(h * WORK_DPI / dpi_y * fit)))
        full = np.asarray(img.convert("L"))  # the full-size frame lives only until it is scaled
        gray = cv2.resize(full, size, interpolation=cv2.INTER_AREA if size[0] < w else cv2.INTER_LINEAR)
    except LimitExceeded:
        raise  # a frame over the pixel limit fails the file, as parsing does
    except Exception:  # a damaged frame is not a separator; parsing reports it
        return _Look(number, None, 0.0, may_be_blank=False)
    return _Look(number, gray, WORK_DPI * fit / _MM_PER_INCH, may_be_blank=True)


def _frame_dpi(dpi: Any, w: int, h: int) -> tuple[float, float]:
    """The frame's resolution; assumed A4 (297 mm on the long side) when missing or absurd."""
    try:
        x, y = float(dpi[0]), float(dpi[1])
    except (TypeError, ValueError, IndexError):
        x = y = 0.0
    if not (50 <= x <= 2400 and 50 <= y <= 2400):
        x = y = max(w, h) / (297 / _MM_PER_INCH)
    return x, y


def _check_pages(total: int, limits: Limits) -> None:
    if total > limits.max_pages:
        raise LimitExceeded(msg("ingest.file.too_many_pages", pages=total, limit=limits.max_pages))


# --- the blank test ------------------------------------------------------------------------


def is_blank(gray: np.ndarray, px_per_mm: float) -> bool:
    """True when a grey page image (``px_per_mm`` pixels per millimetre) carries no content."""
    import cv2

    h, w = gray.shape
    if h < 8 or w < 8:
        return False
    # The local paper colour, from a 4x smaller copy: grey paper and uneven light are not ink.
    small = cv2.resize(gray, (max(1, w // 4), max(1, h // 4)), interpolation=cv2.INTER_AREA)
    paper = float(np.percentile(small, 90))
    if paper < 96:
        return False  # a dark page (lid open, a photo) is not a blank sheet
    inset = int(10 * px_per_mm / 4)
    middle = small[inset : small.shape[0] - inset, inset : small.shape[1] - inset]
    if middle.size and float(np.mean(middle < paper - 60)) > _DARK_PAGE_SHARE:
        return False
    kernel = max(3, int(2 * px_per_mm) | 1)  # about 8 mm at the small copy's scale
    background = cv2.resize(cv2.medianBlur(small, kernel), (w, h), interpolation=cv2.INTER_LINEAR)
    delta = cv2.subtract(background, gray)

    # Candidate ink that has a dark core and is more than a speck.
    n, labels, stats, _ = cv2.connectedComponentsWithStats(
        (delta >= _INK_DELTA).astype(np.uint8), connectivity=8
    )
    if n <= 1:
        return True
    cored = np.bincount(labels[delta >= _CORE_DELTA], minlength=n) > 0
    keep = cored & (stats[:, cv2.CC_STAT_AREA] >= _SPECK_MM2 * px_per_mm * px_per_mm)
    keep[0] = False
    if not keep.any():
        return True
    ink = keep[labels].astype(np.uint8)

    # Merge strokes into characters, then look for one character's worth of ink.
    r = max(1, round(_MERGE_MM * px_per_mm))
    merged = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(merged, connectivity=8)
    ink_px = np.bincount(labels[ink > 0], minlength=n).astype(np.float64)
    x = stats[:, cv2.CC_STAT_LEFT] + r
    y = stats[:, cv2.CC_STAT_TOP] + r
    bw = np.maximum(stats[:, cv2.CC_STAT_WIDTH] - 2 * r, 1)
    bh = np.maximum(stats[:, cv2.CC_STAT_HEIGHT] - 2 * r, 1)
    margin = _BORDER_MM * px_per_mm
    inside = (x > margin) & (y > margin) & (x + bw < w - margin) & (y + bh < h - margin)
    inside &= np.bincount(labels[_border_shadow(gray, paper, px_per_mm)], minlength=n) == 0
    extent_mm = np.maximum(bw, bh) / px_per_mm
    content = inside & (extent_mm >= _CONTENT_MM) & (ink_px / px_per_mm**2 >= _CONTENT_MM2)
    content[0] = False
    content &= ~_punch_holes(x, y, bw, bh, ink_px, w, h, px_per_mm)
    return not content.any()


def _border_shadow(gray: np.ndarray, paper: float, px_per_mm: float) -> np.ndarray:
    """Dark regions touching the image border (scanner edge, lid, skewed corners), grown by 2 mm.

    Their rims look like ink against the local background, so marks there are not content.
    """
    import cv2

    dark = (gray < paper - 50).astype(np.uint8)
    n, labels = cv2.connectedComponents(dark, connectivity=8)
    if n <= 1:
        return np.zeros(gray.shape, dtype=bool)
    edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    touching = np.zeros(n, dtype=bool)
    touching[edge] = True
    touching[0] = False
    shadow = touching[labels].astype(np.uint8)
    r = max(1, round(2 * px_per_mm))
    return cv2.dilate(shadow, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * r + 1, 2 * r + 1))) > 0


def _punch_holes(
    x: np.ndarray,
    y: np.ndarray,
    bw: np.ndarray,
    bh: np.ndarray,
    ink_px: np.ndarray,
    w: int,
    h: int,
    ppm: float,
) -> np.ndarray:
    """Round, solid blobs of 4–9 mm within 25 mm of an edge: filing holes seen on a dark lid."""
    cx, cy = (x + bw / 2) / ppm, (y + bh / 2) / ppm
    near_edge = (np.minimum(cx, w / ppm - cx) <= 25) | (np.minimum(cy, h / ppm - cy) <= 25)
    extent = np.maximum(bw, bh) / ppm
    round_ = np.minimum(bw, bh) >= 0.75 * np.maximum(bw, bh)
    solid = ink_px / (bw * bh) >= 0.6
    return near_edge & (extent >= 4) & (extent <= 9) & round_ & solid


# --- the QR code ---------------------------------------------------------------------------


def _qr_detectors() -> tuple[Any, ...]:
    import cv2

    # The ArUco-based detector finds more codes on noisy scans; the classic one is a second try.
    return cv2.QRCodeDetectorAruco(), cv2.QRCodeDetector()


def _says_split(gray: np.ndarray, detectors: Sequence[Any]) -> bool:
    """True when the page holds a QR code reading ``DOSSIER-SPLIT`` (any orientation)."""
    import cv2

    h, w = gray.shape
    half = cv2.resize(gray, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
    # The sheet's code is large: half resolution reads it; full resolution only when a code was
    # seen but not read, so pages without any code cost one cheap pass.
    for image in (half, gray):
        seen = False
        for detector in detectors:
            try:
                _, texts, points, _ = detector.detectAndDecodeMulti(image)
            except cv2.error:
                continue
            if any(str(t).strip().upper() == SPLIT_TEXT for t in texts or ()):
                return True
            seen = seen or (points is not None and len(points) > 0)
        if not seen:
            return False
    return False


# --- writing the parts ---------------------------------------------------------------------


def split_at(
    data: bytes, filename: str, separators: Sequence[Separator], *, limits: Limits | None = None
) -> list[SplitPart]:
    """The pages between separators as new files of the original's kind (PDF or TIFF).

    Separator pages are dropped and so are empty parts.  ``[]`` when there is nothing to
    split (no separators, another format, or nothing but separators): keep the original.
    """
    limits = limits or _DEFAULT_LIMITS
    if not separators:
        return []
    fmt = detect_bytes(data, filename).format
    if fmt not in ("pdf", "tiff"):
        return []
    try:
        if fmt == "pdf":
            pdf = open_pdf(data)
            try:
                runs = _runs(len(pdf), separators)
                return [
                    _part(filename, i, len(runs), run, _pdf_part(pdf, run), ".pdf")
                    for i, run in enumerate(runs, 1)
                ]
            finally:
                pdf.close()
        with open_image(data, limits.max_pixels, "tiff") as img:
            runs = _runs(int(getattr(img, "n_frames", 1) or 1), separators)
            return [
                _part(filename, i, len(runs), run, _tiff_part(img, run, limits), ".tif")
                for i, run in enumerate(runs, 1)
            ]
    except (IngestError, ValueError, MemoryError):
        raise
    except Exception as exc:  # the library boundary: pdfium or Pillow failing on a damaged page
        raise _broken("ingest.split.damaged", fmt, exc) from None


def _broken(message_id: str, fmt: str, exc: BaseException) -> BrokenFile:
    detail = " ".join(str(exc).split())[:200] or type(exc).__name__
    return BrokenFile(msg(message_id, format=fmt, detail=detail))


def _runs(total: int, separators: Sequence[Separator]) -> list[range]:
    """Maximal runs of 1-based non-separator pages."""
    cut = {s.page for s in separators}
    bad = sorted(p for p in cut if not 1 <= p <= total)
    if bad:
        raise ValueError(f"分隔页超出页数 / separator page {bad[0]} is outside 1..{total}")
    runs: list[range] = []
    start = None
    for page in range(1, total + 2):
        if page <= total and page not in cut:
            start = page if start is None else start
        elif start is not None:
            runs.append(range(start, page))
            start = None
    return runs


def _part(filename: str, index: int, count: int, run: range, data: bytes, default_ext: str) -> SplitPart:
    name = PurePath(filename or "scan").name
    path = PurePath(name)
    ext = path.suffix if path.suffix else default_ext
    stem = path.stem if path.suffix else name
    width = max(2, len(str(count)))
    return SplitPart(f"{stem}.part-{index:0{width}d}{ext}", data, run.start, run.stop - 1)


def _pdf_part(src: Any, run: range) -> bytes:
    import pypdfium2 as pdfium

    out = pdfium.PdfDocument.new()
    try:
        out.import_pages(src, pages=[p - 1 for p in run])
        buf = io.BytesIO()
        out.save(buf)
        return buf.getvalue()
    finally:
        out.close()


def _tiff_part(img: Any, run: range, limits: Limits) -> bytes:
    """A multi-page TIFF of ``run``'s frames, written one frame at a time."""
    from PIL import TiffImagePlugin

    buf = io.BytesIO()
    with TiffImagePlugin.AppendingTiffWriter(buf, new=True) as writer:
        for page in run:
            check_frame(img, page - 1, limits.max_pixels)
            if page == 1:
                img.seek(0)
            frame, params = _tiff_frame(img)
            frame.save(writer, format="TIFF", **params)
            writer.newFrame()
            frame.close()
    return buf.getvalue()


def _tiff_frame(img: Any) -> tuple[Any, dict[str, Any]]:
    """The current frame decoded, and save options that keep its compression and resolution."""
    compression = str(img.info.get("compression") or "raw")
    frame = img.copy()
    params: dict[str, Any] = {}
    dpi = img.info.get("dpi")
    if dpi:
        params["dpi"] = (float(dpi[0]), float(dpi[1]))
    if frame.mode == "1":
        params["compression"] = "group4"
    elif compression == "jpeg":
        if frame.mode not in ("L", "RGB"):
            frame = frame.convert("RGB")
        params.update(compression="jpeg", quality=85)
    else:
        if frame.mode not in ("L", "RGB", "RGBA", "P", "LA", "I;16", "CMYK"):
            frame = frame.convert("RGB")
        params["compression"] = (
            "tiff_lzw" if compression in ("tiff_lzw", "packbits") else "tiff_adobe_deflate"
        )
    return frame, params


# --- the printable sheet -------------------------------------------------------------------

_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


def separator_sheet_pdf(dpi: int = 200) -> bytes:
    """The printable A4 separator sheet: a large ``DOSSIER-SPLIT`` QR code and a caption."""
    import cv2
    from PIL import Image, ImageDraw, ImageFont

    def px(mm: float) -> int:
        return round(mm * dpi / _MM_PER_INCH)

    width, height = px(210), px(297)
    sheet = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(sheet)
    params = cv2.QRCodeEncoder.Params()
    params.correction_level = cv2.QRCODE_ENCODER_CORRECT_LEVEL_H
    code = cv2.QRCodeEncoder.create(params).encode(SPLIT_TEXT)  # modules, with a quiet zone
    side = px(110) // code.shape[0] * code.shape[0]
    qr = Image.fromarray(code).resize((side, side), Image.Resampling.NEAREST)
    top = px(70)
    sheet.paste(qr, ((width - side) // 2, top))

    def centred(text: str, y: int, size_mm: float) -> None:
        font = ImageFont.truetype(_FONT, px(size_mm))
        left, _, right, _ = draw.textbbox((0, 0), text, font=font)
        draw.text(((width - (right - left)) // 2, y), text, font=font, fill=0)

    centred(SHEET_CAPTION[0], px(30), 8)
    centred(SHEET_CAPTION[1], px(45), 5.5)
    centred(SPLIT_TEXT, top + side + px(8), 7)
    centred("打印本页，扫描时放在每份文件的第一页之前。双面扫描时本页背面会被自动去掉。", px(230), 4)
    centred("Print this page; put it on top of each document in the feeder.", px(240), 4)
    centred("With duplex scanning the blank back of this sheet is dropped too.", px(247), 4)
    out = io.BytesIO()
    sheet.convert("1", dither=Image.Dither.NONE).save(
        out, "PDF", resolution=float(dpi), title="Dossier separator sheet", creationDate=None, modDate=None
    )
    return out.getvalue()
