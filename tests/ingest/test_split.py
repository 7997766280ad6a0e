"""Batch splitting: separator pages (blank or the DOSSIER-SPLIT QR sheet) in scanned stacks.

Every stack here is a real file built in the test: A4 pages with Chinese text drawn with the
WenQuanYi font, put through a scanner-like degradation (paper tone, uneven light, skew, blur,
noise, dust, JPEG), saved as image-only PDF or multi-page TIFF.
"""

from __future__ import annotations

import ctypes
import io
import math
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont

import ingest
from ingest import Separator, find_separators, separator_sheet_pdf, split_at
from tests.ingest.conftest import DEV, REAL

ROOT = Path(__file__).resolve().parents[2]
FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
BODY = [
    "甲方：上海明远科技有限公司　乙方：杭州云帆信息技术有限公司",
    "第一条 合同金额为人民币壹拾贰万叁仟元整（¥123,000.00）。",
    "双方对在合同履行过程中知悉的对方商业秘密负有保密义务。",
    "Payment terms: 30 days after acceptance, invoice required.",
]
INVOICE_QR = "01,10,3100231130,12345678,1234.00,20240115,,1234"


def mm(dpi: int, value: float) -> int:
    """Millimetres to pixels."""
    return round(value / 25.4 * dpi)


def qr_image(text: str, side: int) -> Image.Image:
    """A QR code made with OpenCV's encoder, ``side`` pixels wide."""
    params = cv2.QRCodeEncoder.Params()
    params.correction_level = cv2.QRCODE_ENCODER_CORRECT_LEVEL_H
    code = cv2.QRCodeEncoder.create(params).encode(text)
    return Image.fromarray(code).resize((side, side), Image.Resampling.NEAREST)


def scan(
    *,
    dpi: int = 200,
    lines: int = 0,
    note: str | None = None,
    pt: float = 10.5,
    qr: str | None = None,
    qr_mm: float = 80,
    base: Image.Image | None = None,
    paper: int = 238,
    bleed: int = 0,
    holes: bool = False,
    signature: bool = False,
    stamp: bool = False,
    skew: float = 0.0,
    rotate: int = 0,
    blur: float = 0.8,
    noise: float = 3.0,
    dust: int = 0,
    speckle: float = 0.0002,
    edge: bool = False,
    jpeg: int = 85,
    binarize: int | None = None,
    seed: int = 0,
) -> Image.Image:
    """One scanned A4 page (grey, or RGB with a red stamp), degraded like a real scanner's output."""
    rng = np.random.default_rng(seed)
    w, h = mm(dpi, 210), mm(dpi, 297)
    page = base.convert("L").resize((w, h)) if base is not None else Image.new("L", (w, h), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, max(6, round(pt / 72 * dpi)))
    step = round(pt / 72 * dpi * 1.8)
    for i in range(lines):
        draw.text((mm(dpi, 20), mm(dpi, 25) + i * step), BODY[i % len(BODY)], font=font, fill=20)
    if note:
        draw.text((mm(dpi, 30), mm(dpi, 150)), note, font=font, fill=30)
    if signature:  # a handwritten scribble on an otherwise empty page
        points = [(mm(dpi, 120 + i * 1.5), mm(dpi, 230 + 6 * math.sin(i / 2))) for i in range(25)]
        draw.line(points, fill=40, width=max(1, mm(dpi, 0.5)))
    if qr:
        side = mm(dpi, qr_mm)
        page.paste(qr_image(qr, side), ((w - side) // 2, mm(dpi, 60)))
    a = np.asarray(page, dtype=np.float32)
    if bleed:  # the back page's text showing through, mirrored and diffused
        back = Image.new("L", (w, h), 255)
        bdraw = ImageDraw.Draw(back)
        for i in range(30):
            bdraw.text((mm(dpi, 20), mm(dpi, 30) + i * step), BODY[i % len(BODY)], font=font, fill=0)
        back = back.transpose(Image.Transpose.FLIP_LEFT_RIGHT).filter(ImageFilter.GaussianBlur(dpi / 100))
        a = a - (255 - np.asarray(back, dtype=np.float32)) * bleed / 255
    a = a * paper / 255
    if holes:  # two filing holes seen against a dark lid
        yy, xx = np.ogrid[:h, :w]
        for cy in (h * 0.35, h * 0.65):
            a[(xx - mm(dpi, 12)) ** 2 + (yy - cy) ** 2 < mm(dpi, 3) ** 2] = 60
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    if stamp:
        img = img.convert("RGB")
        sdraw = ImageDraw.Draw(img)
        box = (mm(dpi, 120), mm(dpi, 200), mm(dpi, 160), mm(dpi, 240))
        sdraw.ellipse(box, outline=(200, 30, 30), width=mm(dpi, 1.2))
    if skew:
        img = img.rotate(
            skew, resample=Image.Resampling.BICUBIC, fillcolor=paper if img.mode == "L" else (paper,) * 3
        )
    if rotate:
        img = img.rotate(rotate, expand=True)
    if blur:
        img = img.filter(ImageFilter.GaussianBlur(blur * dpi / 200))
    a = np.asarray(img, dtype=np.float32).copy()
    hh, ww = a.shape[:2]
    light = 0.93 + 0.07 * np.linspace(0, 1, ww)
    a *= light[None, :, None] if a.ndim == 3 else light[None, :]
    for y, x in zip(
        rng.integers(0, hh, int(speckle * hh * ww)), rng.integers(0, ww, int(speckle * hh * ww)), strict=True
    ):
        r = int(rng.integers(1, 3))
        a[max(0, y - r) : y + r, max(0, x - r) : x + r] = rng.integers(30, 120)
    for _ in range(dust):  # specks of dust, 0.4–1 mm
        y, x, r = int(rng.integers(0, hh)), int(rng.integers(0, ww)), max(1, mm(dpi, rng.uniform(0.2, 0.5)))
        a[max(0, y - r) : y + r, max(0, x - r) : x + r] = rng.integers(40, 120)
    if edge:
        a[:, : mm(dpi, 4)] = 30
    a += rng.normal(0, noise, a.shape)
    img = Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=jpeg)
    out = Image.open(buf)
    out = out.convert(out.mode)  # decoded, detached from the JPEG file
    if binarize is not None:
        out = out.convert("L").point(lambda v: 255 if v >= binarize else 0).convert("1")
    out.info["dpi"] = (dpi, dpi)
    return out


@cache
def doc_page(seed: int, dpi: int = 200) -> Image.Image:
    """A full page of contract text, cached: many stacks reuse it."""
    return scan(dpi=dpi, lines=28, seed=seed, skew=0.4 * (seed % 3 - 1))


def pdf_of(pages: list[Image.Image]) -> bytes:
    """An image-only PDF, the way scanners and Pillow write one."""
    frames = [p.convert("L") if p.mode == "1" else p.copy() for p in pages]
    buf = io.BytesIO()
    dpi = float(pages[0].info.get("dpi", (200, 200))[0])
    frames[0].save(buf, "PDF", save_all=True, append_images=frames[1:], resolution=dpi)
    return buf.getvalue()


def tiff_of(pages: list[Image.Image], compression: str = "tiff_adobe_deflate") -> bytes:
    """A multi-page TIFF."""
    frames = [p.copy() for p in pages]
    buf = io.BytesIO()
    dpi = pages[0].info.get("dpi", (200, 200))
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:], compression=compression, dpi=dpi)
    return buf.getvalue()


@cache
def sheet_scan_base(source: str = "generated", dpi: int = 200) -> Image.Image:
    """The separator sheet rendered as a printer would put it on paper."""
    data = (
        separator_sheet_pdf()
        if source == "generated"
        else (ROOT / "docs" / "separator-sheet.pdf").read_bytes()
    )
    pdf = pdfium.PdfDocument(data)
    try:
        return pdf[0].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    finally:
        pdf.close()


def kinds_found(data: bytes, name: str, **kw: object) -> list[tuple[int, str]]:
    """``find_separators`` as (page, kind) pairs."""
    return [(s.page, s.kind) for s in find_separators(data, name, **kw)]  # type: ignore[arg-type]


# --- whole stacks ---------------------------------------------------------------------------


def test_pdf_stack_splits_at_qr_sheet_and_blank_page() -> None:
    """GIVEN a 7-page image-only PDF: doc A (2 pages), QR sheet, doc B, blank page, doc C (2 pages)
    THEN the sheet and the blank are separators, and the three parts re-open as PDFs of 2, 1, 2 pages."""
    sheet = scan(base=sheet_scan_base(), skew=1.2, noise=5, seed=11)
    blank = scan(seed=12, dust=6)
    pages = [doc_page(1), doc_page(2), sheet, doc_page(3), blank, doc_page(4), doc_page(5)]
    data = pdf_of(pages)
    seps = find_separators(data, "扫描 2024-01-05.pdf")
    assert seps == [Separator(3, "qr"), Separator(5, "blank")]
    parts = split_at(data, "扫描 2024-01-05.pdf", seps)
    assert [(p.filename, p.first_page, p.last_page) for p in parts] == [
        ("扫描 2024-01-05.part-01.pdf", 1, 2),
        ("扫描 2024-01-05.part-02.pdf", 4, 4),
        ("扫描 2024-01-05.part-03.pdf", 6, 7),
    ]
    for part in parts:
        doc = ingest.parse_bytes(part.data, part.filename)
        assert doc.format == "pdf"
        assert len(doc.pages) == part.last_page - part.first_page + 1
        assert all(p.needs_ocr for p in doc.pages)


@pytest.mark.parametrize("compression", ["jpeg", "tiff_adobe_deflate", "group4"])
def test_tiff_stack_splits_into_multipage_tiffs(compression: str) -> None:
    """A multi-page TIFF (JPEG, Deflate, or 1-bit G4 as office scanners write) splits into TIFFs
    holding the right frames, at the original resolution."""
    binarize = 150 if compression == "group4" else None
    sheet = scan(base=sheet_scan_base(), rotate=180, seed=21, binarize=binarize)
    pages = [
        scan(lines=20, seed=22, binarize=binarize),
        sheet,
        scan(lines=20, seed=23, binarize=binarize),
        scan(lines=10, seed=24, binarize=binarize),
        scan(seed=25, binarize=binarize, dust=4),
        scan(lines=20, seed=26, binarize=binarize),
    ]
    if compression == "jpeg":
        pages = [p.convert("L") for p in pages]
    data = tiff_of(pages, compression)
    seps = find_separators(data, "batch.tif")
    assert seps == [Separator(2, "qr"), Separator(5, "blank")]
    parts = split_at(data, "batch.tif", seps)
    assert [(p.filename, p.first_page, p.last_page) for p in parts] == [
        ("batch.part-01.tif", 1, 1),
        ("batch.part-02.tif", 3, 4),
        ("batch.part-03.tif", 6, 6),
    ]
    for part in parts:
        doc = ingest.parse_bytes(part.data, part.filename)
        assert doc.format == "tiff" and len(doc.pages) == part.last_page - part.first_page + 1
        with Image.open(io.BytesIO(part.data)) as img:
            assert round(img.info["dpi"][0]) == 200
            assert (img.mode == "1") == (compression == "group4")
    # The frames are the original pages, not copies of one page: part 2 has a short second page.
    with Image.open(io.BytesIO(parts[1].data)) as img:
        inks = []
        for i in range(img.n_frames):
            img.seek(i)
            inks.append(int((np.asarray(img.convert("L")) < 128).sum()))
    assert inks[0] > inks[1] * 1.5


def test_thirty_page_stack() -> None:
    """A 30-page stack with a QR sheet or a blank page after every 4 document pages gives 6 parts."""
    pages: list[Image.Image] = []
    want = []
    for i in range(30):
        if i % 5 == 4:
            qr = i % 10 == 4
            pages.append(
                scan(base=sheet_scan_base(), seed=100 + i, rotate=90 * (i % 4)) if qr else scan(seed=100 + i)
            )
            want.append((i + 1, "qr" if qr else "blank"))
        else:
            pages.append(doc_page(i % 6))
    data = pdf_of(pages)
    assert kinds_found(data, "stack.pdf") == want
    parts = split_at(data, "stack.pdf", find_separators(data, "stack.pdf"))
    assert [len(ingest.parse_bytes(p.data, p.filename).pages) for p in parts] == [4] * 6


# --- blank pages ----------------------------------------------------------------------------

BLANK_VARIANTS = {
    "clean": {},
    "grey paper": {"paper": 205},
    "heavy noise, JPEG 30": {"noise": 12, "jpeg": 30, "blur": 1.5},
    "dust and speckles": {"dust": 25, "speckle": 0.0004},
    "dark scanner edge, skewed": {"edge": True, "skew": 2.0},
    "faint bleed-through": {"bleed": 50},
    "punch holes": {"holes": True},
    "300 dpi": {"dpi": 300, "dust": 10},
    "binarised 1-bit": {"binarize": 160, "dust": 10, "noise": 8},
}


@pytest.mark.parametrize("variant", list(BLANK_VARIANTS))
def test_blank_page_found_despite_scan_artefacts(variant: str) -> None:
    """A blank sheet is blank through noise, dust, grey paper, JPEG, edges, bleed-through, holes."""
    kw = BLANK_VARIANTS[variant]
    blank = scan(seed=7, **kw)  # type: ignore[arg-type]
    dpi = int(kw.get("dpi", 200))  # type: ignore[call-overload]
    pages = [doc_page(1, dpi), blank, doc_page(2, dpi)]
    assert kinds_found(pdf_of(pages), "s.pdf", kinds=("blank",)) == [(2, "blank")]
    assert kinds_found(tiff_of(pages), "s.tif", kinds=("blank",)) == [(2, "blank")]


CONTENT_VARIANTS = {
    "one-line note": {"note": "已核对，同意付款。"},
    "two characters": {"note": "同意"},
    "Latin initials and a date": {"note": "OK  2024-01-05"},
    "page number only": {"note": "第 3 页"},
    "8 pt line": {"note": "备注：原件已归档 2024.1.5", "pt": 8},
    "a signature scribble": {"signature": True},
    "a red seal": {"stamp": True},
    "note on a noisy grey page": {
        "note": "已核对",
        "paper": 210,
        "noise": 10,
        "jpeg": 40,
        "blur": 1.4,
        "dust": 10,
    },
    "note, page turned 90°": {"note": "已阅 张伟", "rotate": 90},
    "note at 300 dpi, binarised": {"note": "已阅", "dpi": 300, "binarize": 150},
}


@pytest.mark.parametrize("variant", list(CONTENT_VARIANTS))
def test_page_with_a_little_content_is_not_blank(variant: str) -> None:
    """Even a single short line, a signature or a seal keeps a page from being a separator."""
    kw = CONTENT_VARIANTS[variant]
    page = scan(seed=8, **kw)  # type: ignore[arg-type]
    dpi = int(kw.get("dpi", 200))  # type: ignore[call-overload]
    pages = [doc_page(1, dpi), page, doc_page(2, dpi)]
    assert kinds_found(pdf_of(pages), "s.pdf") == []
    assert kinds_found(tiff_of(pages), "s.tif") == []


def test_dark_page_is_not_blank() -> None:
    """A page scanned with the lid open (almost black) is not an empty sheet."""
    dark = scan(paper=40, noise=4, seed=9)
    assert kinds_found(pdf_of([doc_page(1), dark, doc_page(2)]), "s.pdf") == []


def test_text_layer_page_is_never_blank() -> None:
    """A PDF page whose text layer holds text is not blank even when nothing visible is printed."""
    data = text_pdf(
        ["Contract page one, visible text layer.", "Invisible OCR text only here", "Page three."],
        invisible=(1,),
    )
    assert kinds_found(data, "t.pdf") == []


# --- QR sheets ------------------------------------------------------------------------------

QR_VARIANTS = {
    "upright": {},
    "turned 90°": {"rotate": 90},
    "upside down": {"rotate": 180},
    "turned 270°": {"rotate": 270},
    "skewed 4°": {"skew": 4.0},
    "noisy, blurred, JPEG 35": {"noise": 12, "blur": 1.6, "jpeg": 35},
    "150 dpi, binarised": {"dpi": 150, "binarize": 140},
}


@pytest.mark.parametrize("variant", list(QR_VARIANTS))
def test_qr_sheet_found_in_any_orientation(variant: str) -> None:
    """The printed separator sheet is found turned, skewed, blurred or binarised."""
    kw = QR_VARIANTS[variant]
    dpi = int(kw.get("dpi", 200))  # type: ignore[call-overload]
    sheet = scan(base=sheet_scan_base(dpi=dpi), seed=31, **kw)  # type: ignore[arg-type]
    pages = [doc_page(3, dpi), sheet, doc_page(4, dpi)]
    assert kinds_found(pdf_of(pages), "s.pdf", kinds=("qr",)) == [(2, "qr")]


def test_smaller_printout_of_the_code_is_found() -> None:
    """A code printed at 45 mm (the sheet scaled down) on a page with other text still splits."""
    page = scan(qr="DOSSIER-SPLIT", qr_mm=45, lines=3, seed=32, skew=-1.5)
    assert kinds_found(pdf_of([doc_page(1), page, doc_page(2)]), "s.pdf") == [(2, "qr")]


def test_other_qr_codes_are_not_separators() -> None:
    """An invoice's QR code (other text) is not a separator, large or small."""
    small = scan(qr=INVOICE_QR, qr_mm=22, lines=12, seed=33)
    large = scan(qr="https://example.com/DOSSIER-SPLIT-not", qr_mm=70, seed=34)
    assert kinds_found(pdf_of([doc_page(1), small, large, doc_page(2)]), "s.pdf") == []


def test_committed_sheet_is_found_when_printed_and_scanned() -> None:
    """docs/separator-sheet.pdf, rasterised with scan noise and embedded in a scanned stack
    (PDF and TIFF), is found as a QR separator; it is the sheet the code generates."""
    path = ROOT / "docs" / "separator-sheet.pdf"
    committed = path.read_bytes()
    pdf = pdfium.PdfDocument(committed)
    try:
        assert len(pdf) == 1
        w_pt, h_pt = pdf[0].get_size()
        assert abs(w_pt - 595.3) < 2 and abs(h_pt - 841.9) < 2  # A4
    finally:
        pdf.close()
    # The committed file shows what the code draws today.
    assert np.array_equal(np.asarray(sheet_scan_base("committed")), np.asarray(sheet_scan_base("generated")))
    printed = scan(
        base=sheet_scan_base("committed"),
        paper=225,
        noise=8,
        blur=1.2,
        jpeg=50,
        skew=-2.5,
        rotate=180,
        seed=41,
    )
    pages = [doc_page(1), doc_page(2), printed, doc_page(3)]
    assert kinds_found(pdf_of(pages), "s.pdf") == [(3, "qr")]
    assert kinds_found(tiff_of(pages, "jpeg"), "s.tif") == [(3, "qr")]


def test_digital_sheet_merged_into_a_text_pdf() -> None:
    """The generated sheet PDF merged between born-digital pages is a separator."""
    data = text_pdf(
        ["Contract one, page 1 of 1, with text.", "Contract two, page 1 of 2.", "Contract two, page 2."],
        sheet_at=1,
    )
    seps = find_separators(data, "merged.pdf")
    assert seps == [Separator(2, "qr")]
    parts = split_at(data, "merged.pdf", seps)
    texts = [ingest.parse_bytes(p.data, p.filename).text for p in parts]
    assert texts == [
        "Contract one, page 1 of 1, with text.",
        "Contract two, page 1 of 2.\n\nContract two, page 2.",
    ]


def test_scanner_ocr_layer_naming_the_sheet_still_checks_its_code() -> None:
    """A scanned sheet whose PDF carries the scanner's OCR text (naming DOSSIER-SPLIT) is found;
    a page whose text merely mentions DOSSIER-SPLIT, without the code, is not."""
    sheet = pdf_of([doc_page(1), scan(base=sheet_scan_base(), seed=51), doc_page(2)])
    data = add_invisible_text(
        sheet,
        {
            0: "合同正文第一页 contract text",
            1: "Dossier 分隔页 DOSSIER-SPLIT separator sheet",
            2: "合同正文第二页 contract text",
        },
    )
    assert kinds_found(data, "ocr.pdf") == [(2, "qr")]
    mention = text_pdf(["Page one of the manual.", "Put a DOSSIER-SPLIT sheet before each document.", "End."])
    assert kinds_found(mention, "manual.pdf") == []


# --- settings, edge cases, limits -----------------------------------------------------------


def test_kinds_select_what_splits() -> None:
    """``kinds`` turns each separator off; () finds nothing; an unknown kind is an error."""
    pages = [doc_page(1), scan(base=sheet_scan_base(), seed=61), doc_page(2), scan(seed=62), doc_page(3)]
    data = pdf_of(pages)
    assert kinds_found(data, "s.pdf") == [(2, "qr"), (4, "blank")]
    assert kinds_found(data, "s.pdf", kinds=("qr",)) == [(2, "qr")]
    assert kinds_found(data, "s.pdf", kinds=("blank",)) == [(4, "blank")]
    assert kinds_found(data, "s.pdf", kinds=()) == []
    with pytest.raises(ValueError, match="unknown"):
        find_separators(data, "s.pdf", kinds=("barcode",))


def test_blank_back_of_the_sheet_goes_with_it() -> None:
    """Duplex scanning with blank-page splitting off: the sheet's blank back is dropped too,
    while blank backs elsewhere stay in their documents."""
    pages = [
        doc_page(1),
        scan(seed=71),
        scan(base=sheet_scan_base(), seed=72),
        scan(seed=73),
        doc_page(2),
        scan(seed=74),
    ]
    data = pdf_of(pages)
    seps = find_separators(data, "duplex.pdf", kinds=("qr",))
    assert [(s.page, s.kind) for s in seps] == [(2, "blank"), (3, "qr"), (4, "blank")]
    parts = split_at(data, "duplex.pdf", seps)
    assert [(p.first_page, p.last_page) for p in parts] == [(1, 1), (5, 6)]


def test_empty_parts_are_dropped() -> None:
    """Separators first, last or in a row leave no empty parts; nothing but separators leaves none."""
    pages = [
        scan(seed=81),
        doc_page(1),
        scan(seed=82),
        scan(base=sheet_scan_base(), seed=83),
        doc_page(2),
        scan(seed=84),
    ]
    data = pdf_of(pages)
    seps = find_separators(data, "s.pdf")
    assert [s.page for s in seps] == [1, 3, 4, 6]
    parts = split_at(data, "s.pdf", seps)
    assert [(p.filename, p.first_page, p.last_page) for p in parts] == [
        ("s.part-01.pdf", 2, 2),
        ("s.part-02.pdf", 5, 5),
    ]
    only = pdf_of([scan(seed=85), scan(seed=86)])
    assert split_at(only, "s.pdf", find_separators(only, "s.pdf")) == []
    assert split_at(data, "s.pdf", []) == []
    with pytest.raises(ValueError):
        split_at(data, "s.pdf", [Separator(9, "blank")])


def test_part_names_keep_stem_and_extension() -> None:
    """Parts are named stem + .part-NN + the original extension, also without one."""
    data = tiff_of([doc_page(1), scan(seed=91), doc_page(2)])
    seps = find_separators(data, "SCAN_0001")
    assert [p.filename for p in split_at(data, "inbox/SCAN_0001", seps)] == [
        "SCAN_0001.part-01.tif",
        "SCAN_0001.part-02.tif",
    ]
    assert [p.filename for p in split_at(data, "x.TIFF", seps)] == ["x.part-01.TIFF", "x.part-02.TIFF"]


def test_other_formats_and_single_pages_are_not_split() -> None:
    """PNG/JPEG photos, text files and one-page scans give no separators."""
    blank = scan(seed=95)
    png = io.BytesIO()
    blank.save(png, "PNG")
    assert find_separators(png.getvalue(), "blank.png") == []
    assert find_separators("空白 / blank\n".encode(), "note.txt") == []
    assert find_separators(pdf_of([blank]), "one.pdf") == []
    assert split_at(png.getvalue(), "blank.png", [Separator(1, "blank")]) == []


def test_limits_are_respected() -> None:
    """Too many pages or a frame over the pixel limit raise LimitExceeded, like parsing does."""
    data = tiff_of([doc_page(1), scan(seed=96), doc_page(2)])
    with pytest.raises(ingest.LimitExceeded):
        find_separators(data, "s.tif", limits=ingest.Limits(max_pages=2))
    with pytest.raises(ingest.LimitExceeded):
        find_separators(data, "s.tif", limits=ingest.Limits(max_pixels=1_000_000))
    with pytest.raises(ingest.LimitExceeded):
        find_separators(
            pdf_of([doc_page(1), doc_page(2), doc_page(3)]), "s.pdf", limits=ingest.Limits(max_pages=2)
        )


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
@pytest.mark.parametrize("kind", ["pdf", "tif"])
def test_truncated_stack_raises_an_ingest_error(kind: str) -> None:
    """A stack cut off in transfer fails with a one-line IngestError, never a library exception."""
    pages = [doc_page(1), scan(seed=97), doc_page(2)]
    data = pdf_of(pages) if kind == "pdf" else tiff_of(pages)
    for cut in (0.5, 0.9):
        short = data[: int(len(data) * cut)]
        with pytest.raises(ingest.IngestError):
            find_separators(short, f"s.{kind}")
        with pytest.raises(ingest.IngestError):
            split_at(short, f"s.{kind}", [Separator(2, "blank")])


def test_sheet_pdf_is_a4_with_the_code() -> None:
    """The generated sheet is one A4 page whose rendering decodes to DOSSIER-SPLIT."""
    data = separator_sheet_pdf()
    pdf = pdfium.PdfDocument(data)
    try:
        gray = pdf[0].render(scale=150 / 72, grayscale=True).to_numpy()
    finally:
        pdf.close()
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(
        np.ascontiguousarray(gray.reshape(gray.shape[0], gray.shape[1]))
    )
    assert text == "DOSSIER-SPLIT"


# --- the corpus -----------------------------------------------------------------------------


def corpus_scans() -> list[Path]:
    """Scanned and image files of the dev and real corpora."""
    found = []
    for folder, pattern in ((DEV / "scans", "*"), (REAL, "**/*")):
        found += [
            p
            for p in sorted(folder.glob(pattern))
            if p.suffix.lower() in {".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg"} and p.is_file()
        ]
    return found


@pytest.mark.slow
def test_no_false_separators_in_the_corpus() -> None:
    """No page of the corpus scans or real files is taken for a separator.  Single images are
    checked as the middle page of a 3-page stack so that their page is judged."""
    files = corpus_scans()
    if not files:
        pytest.skip("corpus not present")
    judged = 0
    for path in files:
        data = path.read_bytes()
        if path.suffix.lower() in {".png", ".jpg", ".jpeg"}:
            with Image.open(path) as img:
                page = img.convert("L")
            page.info["dpi"] = img.info.get("dpi", (200, 200))
            data, name = pdf_of([doc_page(1), page, doc_page(2)]), path.stem + ".pdf"
        else:
            name = path.name
        try:
            assert find_separators(data, name) == [], path
        except ingest.IngestError:
            continue  # encrypted or broken real files: parsing reports them
        judged += 1
    assert judged >= 20


def test_hostile_files_raise_only_ingest_errors() -> None:
    """Broken, encrypted and bomb files end in an IngestError or no separators, never a crash."""
    bad = sorted((DEV / "bad").glob("*"))
    if not bad:
        pytest.skip("corpus not present")
    refused = 0
    for path in bad:
        data = path.read_bytes()
        try:
            assert find_separators(data, path.name) == [], path
        except ingest.IngestError:
            refused += 1
            with pytest.raises(ingest.IngestError):  # only files that parsing refuses too
                ingest.parse_bytes(data, path.name)
    assert refused >= 1


# --- PDF helpers ----------------------------------------------------------------------------


def _text_object(pdf: pdfium.PdfDocument, text: str, y: float, invisible: bool) -> object:
    obj = pdfium_c.FPDFPageObj_NewTextObj(pdf.raw, b"Helvetica", 12.0)
    buf = ctypes.create_string_buffer((text + "\0").encode("utf-16-le"))
    pdfium_c.FPDFText_SetText(obj, ctypes.cast(buf, pdfium_c.FPDF_WIDESTRING))
    if invisible:
        pdfium_c.FPDFTextObj_SetTextRenderMode(obj, pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE)
    pdfium_c.FPDFPageObj_Transform(obj, 1, 0, 0, 1, 72, y)
    return obj


def text_pdf(texts: list[str], *, invisible: tuple[int, ...] = (), sheet_at: int | None = None) -> bytes:
    """A born-digital PDF (a text layer per page), with the separator sheet merged in at ``sheet_at``."""
    pdf = pdfium.PdfDocument.new()
    try:
        for i, text in enumerate(texts):
            page = pdf.new_page(595, 842)
            pdfium_c.FPDFPage_InsertObject(page.raw, _text_object(pdf, text, 760, i in invisible))
            page.gen_content()
            page.close()
        if sheet_at is not None:
            sheet = pdfium.PdfDocument(separator_sheet_pdf())
            pdf.import_pages(sheet, index=sheet_at)
            sheet.close()
        buf = io.BytesIO()
        pdf.save(buf)
        return buf.getvalue()
    finally:
        pdf.close()


def add_invisible_text(data: bytes, texts: dict[int, str]) -> bytes:
    """The PDF with an invisible text layer added to some pages, as a scanner's OCR writes it."""
    pdf = pdfium.PdfDocument(data)
    try:
        for index, text in texts.items():
            page = pdf[index]
            pdfium_c.FPDFPage_InsertObject(page.raw, _text_object(pdf, text, 700, True))
            page.gen_content()
            page.close()
        buf = io.BytesIO()
        pdf.save(buf)
        return buf.getvalue()
    finally:
        pdf.close()
