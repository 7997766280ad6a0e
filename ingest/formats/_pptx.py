"""PPTX via ``unstructured.partition_pptx``: one page per slide, tables TAB-joined, notes included."""

from __future__ import annotations

import io
from collections import defaultdict
from typing import Any

from foundation.messages import msg
from ingest._errors import LimitExceeded
from ingest._model import Page
from ingest.formats import _unstructured
from ingest.formats._ooxml import check_package
from ingest.formats._types import Extraction, ParseContext


def _slide_count(data: bytes) -> int:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return sum(1 for n in zf.namelist() if n.startswith("ppt/slides/slide") and n.endswith(".xml"))


class PptxExtractor:
    """PowerPoint presentations (.pptx)."""

    name = "pptx"
    formats = frozenset({"pptx"})

    def parse(self, data: bytes, ctx: ParseContext) -> Extraction:
        """One page per slide, in slide order; empty slides stay as empty pages."""
        check_package(data, ctx.limits)
        n = _slide_count(data)
        if n > ctx.limits.max_pages:
            raise LimitExceeded(msg("ingest.pptx.too_many_slides", count=n, limit=ctx.limits.max_pages))
        from unstructured.partition.pptx import partition_pptx

        elements = partition_pptx(
            file=io.BytesIO(data), include_page_breaks=False, include_slide_notes=True, languages=[""]
        )
        by_slide: dict[int, list[Any]] = defaultdict(list)
        for e in elements:
            by_slide[e.metadata.page_number or 1].append(e)
        count = max([n, *by_slide.keys()]) if (n or by_slide) else 0
        pages = [
            Page(number=i, text=_unstructured.join_elements(by_slide.get(i, []))) for i in range(1, count + 1)
        ]
        if not pages:
            pages = [Page(number=1, text="")]
        return Extraction(pages=pages, metadata={"slides": str(len(pages))})


EXTRACTORS = (PptxExtractor(),)
