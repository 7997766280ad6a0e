"""Type detection looks at content; the extension only breaks ties among text formats."""

from __future__ import annotations

import io
import zipfile

import pytest

import ingest
from tests.ingest.conftest import dev_file, first_dev


def test_pdf_named_jpg_is_pdf() -> None:
    """A PDF with a .jpg name is detected and parsed as a PDF."""
    path = dev_file("bad/IMG_20240401_093012.jpg")
    assert ingest.detect(path.read_bytes(), path.name).format == "pdf"


def test_docx_that_is_text_is_text() -> None:
    """A .docx that is really plain text is text."""
    path = dev_file("bad/报价单_最终版.docx")
    assert ingest.detect(path.read_bytes(), path.name).format == "txt"


@pytest.mark.parametrize(
    "pattern,fmt",
    [
        ("contracts/*.docx", "docx"),
        ("proposals/*.pptx", "pptx"),
        ("orders/*.xlsx", "xlsx"),
        ("emails/*.eml", "eml"),
        ("quotes/*.html", "html"),
        ("meetings/*.md", "md"),
        ("meetings/*.txt", "txt"),
        ("scans/*.tif", "tiff"),
    ],
)
def test_content_beats_a_wrong_name(pattern: str, fmt: str) -> None:
    """Detection gives the same format when the file is named ``upload.bin``... except that
    Markdown needs its extension or strong markup (a tie among text formats)."""
    data = first_dev(pattern).read_bytes()
    assert ingest.detect(data, first_dev(pattern).name).format == fmt
    if fmt != "md":
        assert ingest.detect(data, "upload.bin").format == fmt


def test_plain_zip_and_ooxml_differ() -> None:
    """A ZIP without OOXML parts is an archive."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.txt", "x")
    assert ingest.detect(buf.getvalue(), "a.docx").format == "zip"


def test_empty_file_is_broken() -> None:
    """A 0-byte file is a BrokenFile whatever its name."""
    with pytest.raises(ingest.BrokenFile):
        ingest.detect(b"", "x.pdf")


def test_unknown_binary_is_unsupported() -> None:
    """Random binary content is refused as unsupported."""
    with pytest.raises(ingest.UnsupportedFile):
        ingest.parse_bytes(bytes(range(256)) * 40, "x.dat")


def test_csv_needs_content_and_extension() -> None:
    """CSV-looking text is CSV with a .csv name and plain text otherwise."""
    data = b"a,b,c\n1,2,3\n4,5,6\n"
    assert ingest.detect(data, "x.csv").format == "csv"
    assert ingest.detect(data, "x.txt").format == "txt"
