"""PDF: the text layer of each page via pypdfium2.  Pages without text wait for OCR.

JavaScript, forms and annotations are never run or read: only the page text layer is.
"""

from __future__ import annotations

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from foundation.messages import msg
from ingest._errors import BrokenFile, EncryptedFile, LimitExceeded
from ingest._model import Page
from ingest.formats._types import Extraction, ParseContext

# A page whose text layer has fewer visible characters than this is treated as a scan.
MIN_TEXT_CHARS = 8


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code == pdfium_c.FPDF_ERR_PASSWORD:
            raise EncryptedFile(msg("ingest.pdf.encrypted")) from None
        if code == pdfium_c.FPDF_ERR_SECURITY:
            raise EncryptedFile(msg("ingest.pdf.security_handler")) from None
        raise BrokenFile(msg("ingest.pdf.damaged")) from None


class PdfExtractor:
    """Text layer per page; ``needs_ocr`` for pages with (almost) no text."""

    name = "pdf"
    formats = frozenset({"pdf"})

    def parse(self, data: bytes, ctx: ParseContext) -> Extraction:
        """Read every page's text layer."""
        pdf = _open(data)
        try:
            n = len(pdf)
            if n == 0:
                raise BrokenFile(msg("ingest.pdf.no_pages"))
            if n > ctx.limits.max_pages:
                raise LimitExceeded(msg("ingest.pdf.too_many_pages", pages=n, limit=ctx.limits.max_pages))
            pages = []
            for i in range(n):
                page = pdf[i]
                try:
                    textpage = page.get_textpage()
                    try:
                        text = textpage.get_text_range()
                    finally:
                        textpage.close()
                finally:
                    page.close()
                visible = sum(1 for c in text if not c.isspace())
                if visible < MIN_TEXT_CHARS:
                    pages.append(Page(number=i + 1, text="", needs_ocr=True))
                else:
                    pages.append(Page(number=i + 1, text=text))
            try:
                meta = {k: v for k, v in pdf.get_metadata_dict(skip_empty=True).items() if isinstance(v, str)}
            except pdfium.PdfiumError:
                meta = {}
        finally:
            pdf.close()
        metadata = {
            f"pdf_{k.lower()}": v[:500]
            for k, v in meta.items()
            if k in ("Title", "Author", "Creator", "Producer", "CreationDate")
        }
        return Extraction(pages=pages, title=meta.get("Title", ""), metadata=metadata)


EXTRACTORS = (PdfExtractor(),)
