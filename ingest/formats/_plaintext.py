"""Plain text and CSV.

Decoding: BOM, strict UTF-8, BOM-less UTF-16, GB18030 when it reads as Chinese, then
charset-normalizer (see :func:`ingest._text.decode_text`).  CSV rows become TAB-joined lines;
cells such as ``=HYPERLINK(`` stay inert text (exports neutralise them, not ingest).
"""

from __future__ import annotations

import csv
import io

from ingest._model import Page
from ingest._text import decode_text
from ingest.formats._types import Extraction, ParseContext


class TextExtractor:
    """Plain text files, one page."""

    name = "text"
    formats = frozenset({"txt"})

    def parse(self, data: bytes, ctx: ParseContext) -> Extraction:
        """Decode and keep the lines as they are."""
        text, encoding = decode_text(data)
        return Extraction(pages=[Page(number=1, text=text)], metadata={"encoding": encoding})


class CsvExtractor:
    """CSV/TSV files: one line per row, cells joined by TAB."""

    name = "csv"
    formats = frozenset({"csv"})

    def parse(self, data: bytes, ctx: ParseContext) -> Extraction:
        """Decode, sniff the delimiter, and emit TAB-joined rows."""
        text, encoding = decode_text(data)
        try:
            dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:20000], delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        csv.field_size_limit(10 * 1024 * 1024)
        lines = []
        for row in csv.reader(io.StringIO(text), dialect):
            cells = [" ".join(c.split()) for c in row]
            while cells and not cells[-1]:
                cells.pop()
            if cells:
                lines.append("\t".join(cells))
        return Extraction(
            pages=[Page(number=1, text="\n".join(lines))], title="", metadata={"encoding": encoding}
        )


EXTRACTORS = (TextExtractor(), CsvExtractor())
