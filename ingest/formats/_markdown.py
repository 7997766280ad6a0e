"""Markdown via ``unstructured.partition_md``: rendered text (no ``#``/``**`` marks), tables TAB-joined."""

from __future__ import annotations

from ingest._model import Page
from ingest._text import decode_text, first_line_title
from ingest.formats import _unstructured
from ingest.formats._types import Extraction, ParseContext


class MarkdownExtractor:
    """Markdown files; decoded like plain text, then rendered."""

    name = "markdown"
    formats = frozenset({"md"})

    def parse(self, data: bytes, ctx: ParseContext) -> Extraction:
        """One page with the rendered text; the title is the first heading."""
        from unstructured.partition.md import partition_md

        source, encoding = decode_text(data)
        elements = partition_md(text=source, languages=[""])
        text = _unstructured.join_elements(elements)
        return Extraction(
            pages=[Page(number=1, text=text)], title=first_line_title(source), metadata={"encoding": encoding}
        )


EXTRACTORS = (MarkdownExtractor(),)
