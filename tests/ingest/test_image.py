"""Images: one OCR page per frame, pixel limits from the header, HEIC refused with advice."""

from __future__ import annotations

import io

import pytest
from PIL import Image

import ingest
from tests.ingest.conftest import REAL, dev_file


def test_multipage_tiff_has_a_page_per_frame() -> None:
    """A 3-frame TIFF gives three empty ``needs_ocr`` pages."""
    buf = io.BytesIO()
    frames = [Image.new("L", (50, 50), 255) for _ in range(3)]
    frames[0].save(buf, format="TIFF", save_all=True, append_images=frames[1:])
    doc = ingest.parse_bytes(buf.getvalue(), "s.tif")
    assert doc.format == "tiff" and [p.needs_ocr for p in doc.pages] == [True, True, True]


def test_pixel_bomb_is_refused_before_decoding() -> None:
    """A PNG declaring 100000x100000 pixels raises LimitExceeded immediately."""
    with pytest.raises(ingest.LimitExceeded):
        ingest.parse_file(dev_file("bad/scan_huge.png"))


def test_pixel_limit_setting() -> None:
    """``max_pixels`` applies to ordinary images too."""
    buf = io.BytesIO()
    Image.new("RGB", (200, 200)).save(buf, format="PNG")
    with pytest.raises(ingest.LimitExceeded):
        ingest.parse_bytes(buf.getvalue(), "a.png", limits=ingest.Limits(max_pixels=10_000))


def test_heic_is_unsupported_with_advice() -> None:
    """HEIC photos are refused with a message that says to convert to JPEG or PDF."""
    path = REAL / "unstructured" / "page_photo.heic"
    if not path.exists():
        pytest.skip("real corpus not present")
    with pytest.raises(ingest.UnsupportedFile, match="JPEG"):
        ingest.parse_file(path)
