"""DOCX via ``unstructured.partition_docx``: body order, section headers first, tables TAB-joined.

The package is checked by :mod:`ingest.formats._ooxml` first (no DTDs, real expanded sizes).
One page for the whole document (DOCX has no fixed pages).
"""

from __future__ import annotations

import io

from ingest._model import Page
from ingest.formats import _unstructured
from ingest.formats._ooxml import check_package
from ingest.formats._types import Extraction, ParseContext


class DocxExtractor:
    """Word documents (.docx)."""

    name = "docx"
    formats = frozenset({"docx"})

    def parse(self, data: bytes, ctx: ParseContext) -> Extraction:
        """Header paragraphs, then body paragraphs and tables in order; footers last."""
        check_package(data, ctx.limits)
        from docx import Document
        from unstructured.partition.docx import partition_docx

        elements = partition_docx(file=io.BytesIO(data), include_page_breaks=False, languages=[""])
        headers = [e for e in elements if type(e).__name__ == "Header"]
        footers = [e for e in elements if type(e).__name__ == "Footer"]
        body = [e for e in elements if type(e).__name__ not in ("Header", "Footer")]
        text = "\n".join(
            t
            for t in (
                _unstructured.join_elements(headers),
                _unstructured.join_elements(body),
                _unstructured.join_elements(footers),
            )
            if t
        )
        title = ""
        try:
            title = Document(io.BytesIO(data)).core_properties.title or ""
        except Exception:  # core properties are optional and often malformed; the text still counts
            title = ""
        return Extraction(pages=[Page(number=1, text=text)], title=title)


EXTRACTORS = (DocxExtractor(),)
