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
from ingest.ocr._prep import load_frame, render_pdf_pages, tidy_text
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
        if (
            rec["file"].endswith(".png")
            and rec["file"].startswith("scans/")
            and rec["scan"]["pages"][0]["rotation"] == 0
        ):
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
    from ingest.ocr import _engines as _ocr

    class Missing:
        name = "missing"

        def available(self) -> bool:
            return False

        def load(self) -> None:
            raise AssertionError

        def page_scale(self, width: int, height: int) -> float:
            return 1.0

        def recognize(self, image: Image.Image) -> OcrResult:
            raise AssertionError

    monkeypatch.setitem(_ocr.ENGINES, "missing", Missing)
    monkeypatch.setattr(_ocr, "_cache", {})
    with pytest.raises(OcrUnavailable, match="'missing' is not installed"):
        resolve_engine("missing")


def test_resolve_engine_loads_the_models() -> None:
    """Resolving RapidOCR loads its models, so a worker's first page does not pay for them."""
    from ingest.ocr import _engines as _ocr

    _ocr.reset_engines()
    engine = resolve_engine("rapidocr")
    assert engine._models is not None  # type: ignore[attr-defined]


def test_rapidocr_sessions_use_one_thread_and_give_memory_back() -> None:
    """Every RapidOCR session runs on one thread, with a CPU arena shrunk after each run and no memory patterns."""
    import onnxruntime as ort

    models = resolve_engine("rapidocr").models  # type: ignore[attr-defined]
    for session in (models.det, models.cls, models.rec):
        opts = session.get_session_options()
        assert opts.intra_op_num_threads == 1
        assert opts.inter_op_num_threads == 1
        assert opts.enable_cpu_mem_arena
        assert not opts.enable_mem_pattern
        assert opts.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        assert session.get_providers() == ["CPUExecutionProvider"]
    assert models.run.get_run_config_entry("memory.enable_memory_arena_shrinkage") == "cpu:0"


def test_bands_cover_every_row_once() -> None:
    """Detection bands stay within the pixel budget, overlap enough, and share every row out exactly once."""
    from ingest.ocr._rapid import BAND_OVERLAP, bands

    for height, width, pixels in [
        (1184, 832, 1_000_000),
        (3776, 832, 1_000_000),
        (9600, 640, 500_000),
        (4000, 4000, 10**6),
    ]:
        parts = bands(height, width, pixels)
        assert parts[0][0] == 0 and parts[-1][1] == height
        assert [p[2] for p in parts[1:]] == [p[3] for p in parts[:-1]]  # shares meet
        assert parts[0][2] == 0 and parts[-1][3] == height
        for (start, stop, keep_from, keep_to), nxt in zip(parts, [*parts[1:], None], strict=True):
            assert start % 32 == 0 and stop % 32 == 0
            assert start <= keep_from < keep_to <= stop
            if len(parts) > 1:
                assert (stop - start) * width <= max(pixels, (BAND_OVERLAP + 32) * width)
            if nxt is not None:
                assert stop - nxt[0] >= BAND_OVERLAP
                assert keep_to - nxt[0] >= BAND_OVERLAP // 2 and stop - keep_to >= BAND_OVERLAP // 2


def test_a_long_page_is_read_whole_across_detection_bands() -> None:
    """A page four times as tall as wide keeps its detail: every line, including lines lying on the
    seams between detection bands, is read exactly once and in order (RapidOCR's own 2000 px cap
    read this kind of page with 3% CER)."""
    from ingest.ocr._rapid import RapidOcrEngine, bands

    engine = resolve_engine("rapidocr")
    assert isinstance(engine, RapidOcrEngine)
    width, height = 1240, 5400
    assert engine.page_scale(width, height) == 1.0
    rows, cols = engine.detector_size(height, width)
    seams = [keep_to * height / rows for _s, _e, _f, keep_to in bands(rows, cols, engine.det_pixels)[:-1]]
    assert seams, "the page must need more than one detection band"
    # Lines every 150 px, and one centred on each seam (moving the regular lines out of its way).
    tops = [y for y in range(60, height - 80, 150) if all(abs(y + 18 - seam) > 70 for seam in seams)]
    tops = sorted(tops + [int(seam) - 18 for seam in seams])
    lines = [f"第{i + 1}项 服务器机柜 数量{i + 3}台 单价{(i + 1) * 1250:,}.00元" for i in range(len(tops))]
    page = render(lines=[], size=(width, height))
    draw = ImageDraw.Draw(page)
    font = ImageFont.truetype(FONT, 36)
    for top, line in zip(tops, lines, strict=True):
        draw.text((60, top), line, fill="black", font=font)
    result = engine.recognize(page)
    assert [squash(line) for line in result.text.splitlines()] == [squash(line) for line in lines]


@pytest.mark.parametrize("rotation", [0, 90, 270])
def test_a_sparse_skewed_table_row_stays_on_one_line(rotation: int) -> None:
    """On a wide, sparse page scanned 1.5° askew (and maybe sideways), two cells far apart on one
    row come out on one line, in order, without spaces between the Chinese characters."""
    page = render(["甲方：上海明远科技有限公司"], size=(1600, 400), font_px=36)
    ImageDraw.Draw(page).text(
        (1100, 60), "合同金额壹拾贰万元整", fill="black", font=ImageFont.truetype(FONT, 36)
    )
    ImageDraw.Draw(page).text(
        (80, 200), "乙方：杭州云帆信息技术有限公司", fill="black", font=ImageFont.truetype(FONT, 36)
    )
    scan = page.rotate(1.5, expand=True, fillcolor="white").rotate(-rotation, expand=True)
    result = resolve_engine("rapidocr").recognize(scan)
    assert result.rotation == rotation
    assert [squash(line) for line in result.text.splitlines()] == [
        "甲方:上海明远科技有限公司合同金额壹拾贰万元整",
        "乙方:杭州云帆信息技术有限公司",
    ], result.text
    assert not CJK_SPACE.search(result.text)


def test_transparent_png_is_read_on_white() -> None:
    """A PNG with a transparent background (black where the alpha is 0) is laid on white, not read as black."""
    text = render()
    alpha = text.convert("L").point(lambda v: 255 - v)
    clear = Image.new("RGBA", text.size, (0, 0, 0, 0))
    clear.putalpha(alpha)
    [page] = ocr_pages(png(clear), "transparent.png", engine="rapidocr")
    assert "上海明远科技有限公司" in page.text


def test_pdf_is_rendered_at_the_size_the_engine_reads() -> None:
    """An A4 PDF page is rendered at 300 dpi for tesseract, but no larger than RapidOCR reads (2000 px high), in grey."""
    buf = io.BytesIO()
    Image.new("RGB", (1240, 1754), "white").save(buf, "PDF", resolution=150)  # A4
    rapid = resolve_engine("rapidocr")
    [(_, small)] = list(render_pdf_pages(buf.getvalue(), [1], 300, 10, 10**9, rapid.page_scale))
    [(_, full)] = list(render_pdf_pages(buf.getvalue(), [1], 300, 10, 10**9, None))
    assert isinstance(small, Image.Image) and isinstance(full, Image.Image)
    assert small.mode == full.mode == "L"
    assert abs(small.height - 2000) <= 2 and abs(full.height - 3508) <= 2


def test_large_jpeg_is_decoded_at_the_size_the_engine_reads() -> None:
    """A 12 MP photo is decoded straight to RapidOCR's working size (about 2.8 MP), not at full size."""
    buf = io.BytesIO()
    Image.new("RGB", (4000, 3000), "white").save(buf, "JPEG")
    rapid = resolve_engine("rapidocr")
    with Image.open(io.BytesIO(buf.getvalue())) as img:
        frame = load_frame(img, 0, 10**9, rapid.page_scale)
    factor = rapid.page_scale(4000, 3000)
    assert frame.mode == "RGB"
    assert frame.size == (round(4000 * factor), round(3000 * factor))


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
