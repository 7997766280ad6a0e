"""OCR with the real engines: tesseract (Debian) and RapidOCR (models in the wheel)."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image, ImageDraw, ImageFont
from rapidfuzz.distance import Levenshtein

from ingest import (
    ENGINES,
    LimitExceeded,
    Limits,
    OcrEngine,
    OcrResult,
    OcrUnavailable,
    ocr_pages,
    resolve_engine,
)
from ingest._ocr_prep import tidy_text
from tests.ingest.conftest import dev_file, load_truth, squash

pytestmark = pytest.mark.ocr

FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
LINES = [
    "销售合同",
    "甲方：上海明远科技有限公司",
    "合同金额 ¥120,000.00",
    "大写：人民币壹拾贰万元整",
    "Payment within 30 days",
]
CJK_SPACE = re.compile(r"[\u4e00-\u9fff][ \t\u3000]+[\u4e00-\u9fff]")


def cer(got: str, want: str) -> float:
    """Character error rate over whitespace-stripped NFKC strings."""
    a, b = squash(got), squash(want)
    return Levenshtein.distance(a, b) / max(len(b), 1)


def render(lines: list[str] = LINES, size: tuple[int, int] = (1240, 700), font_px: int = 40) -> Image.Image:
    """A clean page (150 dpi A4 width) with the given lines in a CJK font."""
    if not __import__("os").path.exists(FONT):
        pytest.skip("fonts-wqy-microhei not installed")
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, font_px)
    for i, line in enumerate(lines):
        draw.text((80, 60 + i * int(font_px * 2.2)), line, fill="black", font=font)
    return img


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module", params=sorted(ENGINES))
def engine(request: pytest.FixtureRequest) -> OcrEngine:
    """Each registered engine (skipped where it is not installed)."""
    try:
        return resolve_engine(request.param)
    except OcrUnavailable as exc:
        pytest.skip(str(exc))


def test_every_engine_satisfies_the_protocol(engine: OcrEngine) -> None:
    """Every registered engine is an OcrEngine and returns an OcrResult named after it."""
    assert isinstance(engine, OcrEngine)
    assert engine.available()
    result = engine.recognize(Image.new("RGB", (300, 120), "white"))
    assert isinstance(result, OcrResult)
    assert result.engine == engine.name
    assert result.text == ""


def test_clean_chinese_page_is_read_without_spaces_between_chinese(engine: OcrEngine) -> None:
    """A clean rendered contract page reads nearly verbatim, one line per line, no CJK spaces."""
    result = engine.recognize(render())
    bound = 0.02 if engine.name == "rapidocr" else 0.10  # tesseract misreads ¥ and 大写 amounts
    assert cer(result.text, "".join(LINES)) <= bound, result.text
    assert not CJK_SPACE.search(result.text), result.text
    assert "上海明远科技有限公司" in result.text
    lines = result.text.splitlines()
    assert "Payment within 30 days" in lines  # one visual line per line, Latin spaces kept
    if engine.name == "rapidocr":
        assert len(lines) == len(LINES)
    assert result.rotation == 0
    assert result.confidence is not None and 0.5 < result.confidence <= 1.0


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotated_page_is_turned_upright(rotation: int) -> None:
    """A page scanned sideways or upside down is corrected and reports the rotation applied."""
    engine = resolve_engine("rapidocr")
    page = render().rotate(-rotation, expand=True)
    result = engine.recognize(page)
    assert result.rotation == rotation
    assert cer(result.text, "".join(LINES)) <= 0.05, result.text


def test_tesseract_turns_an_upside_down_page() -> None:
    """Tesseract gets the same orientation correction before it reads."""
    result = resolve_engine("tesseract").recognize(render().rotate(180))
    assert result.rotation == 180
    assert "明远科技" in result.text


def _real_scan_page() -> tuple[bytes, str, str]:
    for rec in load_truth():
        if rec["file"].endswith(".png") and rec["file"].startswith("scans/") and rec["scan"]["pages"][0]["rotation"] == 0:
            path = dev_file(rec["file"])
            return path.read_bytes(), path.name, rec["pages"][0]
    pytest.skip("no scanned PNG in the dev corpus")


def test_real_dev_scan_reaches_the_benchmark_accuracy() -> None:
    """A degraded dev scan read by the default engine has CER ≤ 3% (bench/ocr.py: ~1% mean)."""
    data, name, truth = _real_scan_page()
    [page] = ocr_pages(data, name, engine="auto")
    assert page.error is None
    assert page.engine == "rapidocr"
    assert cer(page.text, truth) <= 0.03
    assert not CJK_SPACE.search(page.text)


def _tiff(frames: list[Image.Image]) -> bytes:
    buf = io.BytesIO()
    frames[0].save(buf, "TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate")
    return buf.getvalue()


def test_multipage_tiff_gives_one_page_per_frame_and_pages_selects() -> None:
    """A 3-frame TIFF yields pages 1..3; ``pages=[2]`` OCRs only the second frame."""
    frames = [render([f"第{n}页 客户档案"], size=(700, 160)) for n in ("一", "二", "三")]
    data = _tiff(frames)
    everything = ocr_pages(data, "scan.tif", engine="rapidocr")
    assert [p.number for p in everything] == [1, 2, 3]
    assert all(p.error is None for p in everything)
    assert "第二页" in everything[1].text
    only = ocr_pages(data, "scan.tif", pages=[2], engine="rapidocr")
    assert [p.number for p in only] == [2]
    assert "第二页" in only[0].text


def test_image_only_pdf_pages_are_rendered_and_read() -> None:
    """An image-only PDF page is rendered with pypdfium2 and read."""
    buf = io.BytesIO()
    render().save(buf, "PDF", resolution=150)
    [page] = ocr_pages(buf.getvalue(), "scan.pdf", engine="rapidocr", dpi=150)
    assert page.error is None
    assert "上海明远科技有限公司" in page.text


def test_decompression_bomb_is_refused_before_decoding() -> None:
    """An image whose header claims too many pixels fails with LimitExceeded, nothing decoded."""
    bomb = png(Image.new("1", (20000, 20000)))
    with pytest.raises(LimitExceeded):
        ocr_pages(bomb, "bomb.png", engine="rapidocr", limits=Limits(max_pixels=10_000_000))


def test_oversized_frame_is_a_page_error_and_the_rest_is_kept() -> None:
    """In a TIFF whose second frame is too large, page 2 carries the error, page 1 its text."""
    data = _tiff([render(["第一页"], size=(400, 120)), Image.new("RGB", (3000, 3000), "white")])
    pages = ocr_pages(data, "mixed.tif", engine="rapidocr", limits=Limits(max_pixels=1_000_000))
    assert pages[0].error is None and "第一页" in pages[0].text
    assert pages[1].error is not None and "/" in pages[1].error and "\n" not in pages[1].error


def test_page_timeout_is_a_page_error() -> None:
    """A page running past the per-page limit becomes a one-line page error."""
    [page] = ocr_pages(png(render()), "slow.png", engine="rapidocr", page_timeout_s=0.01)
    assert page.error is not None and "超时" in page.error


def test_too_many_pages_is_refused() -> None:
    """A file with more pages than the limit allows is refused as a whole."""
    data = _tiff([Image.new("RGB", (50, 50), "white")] * 3)
    with pytest.raises(LimitExceeded):
        ocr_pages(data, "long.tif", engine="rapidocr", limits=Limits(max_pages=2))


def test_resolve_engine_names() -> None:
    """``auto`` picks RapidOCR; the aliases resolve; unknown names fail with a clear message."""
    assert resolve_engine("auto").name == "rapidocr"
    assert resolve_engine("Tesseract").name == "tesseract"
    with pytest.raises(OcrUnavailable, match="unknown OCR engine 'abbyy'"):
        resolve_engine("abbyy")


def test_resolve_engine_reports_an_engine_that_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """An engine whose package is missing is refused by name, not with an ImportError."""
    from ingest import _ocr

    class Missing:
        name = "missing"

        def available(self) -> bool:
            return False

        def recognize(self, image: Image.Image) -> OcrResult:
            raise AssertionError

    monkeypatch.setitem(_ocr.ENGINES, "missing", Missing)
    monkeypatch.setattr(_ocr, "_cache", {})
    with pytest.raises(OcrUnavailable, match="'missing' is not installed"):
        resolve_engine("missing")


def test_unsupported_file_is_refused() -> None:
    """Only images and PDFs can be OCRed."""
    from ingest import UnsupportedFile

    with pytest.raises(UnsupportedFile):
        ocr_pages("纯文本".encode(), "a.txt", engine="rapidocr")


@pytest.mark.parametrize(
    ("raw", "tidy"),
    [
        ("上 海 明 远", "上海明远"),
        ("合同 金额 ¥120,000.00", "合同金额 ¥120,000.00"),
        ("Payment  within 30 days", "Payment within 30 days"),
        ("甲方： 上海\n\n\n乙方", "甲方：上海\n乙方"),
        ("Acme 公司", "Acme 公司"),
    ],
)
def test_tidy_text(raw: str, tidy: str) -> None:
    """Spaces between CJK characters go, spaces between Latin words stay, blank lines collapse."""
    assert tidy_text(raw) == tidy
