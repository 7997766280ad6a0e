"""Values that leave ``ingest``: a parsed document, its pages and the files inside it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Page:
    """One page (PDF page, slide, sheet, or the whole text of a flowing document).

    ``number`` starts at 1.  ``needs_ocr`` marks a page that has no text layer and waits
    for OCR; its ``text`` is then empty.
    """

    number: int
    text: str
    needs_ocr: bool = False


@dataclass(frozen=True)
class ChildFile:
    """A file found inside another one: an e-mail attachment or an archive member.

    The caller ingests it as a document of its own, linked to its parent.
    """

    filename: str
    data: bytes
    relation: str  # "attachment" | "member"


@dataclass(frozen=True)
class ParsedDocument:
    """What ``ingest`` makes of one file.  Pure data: no database, index or queue."""

    mime: str
    format: str  # short name: pdf, docx, pptx, xlsx, html, eml, msg, md, txt, csv, zip, image
    pages: tuple[Page, ...]
    title: str = ""
    language: str = ""  # zh, en, mixed or "" when there is no text
    warnings: tuple[str, ...] = ()
    children: tuple[ChildFile, ...] = ()
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """All page texts joined by blank lines."""
        return "\n\n".join(p.text for p in self.pages if p.text)

    @property
    def needs_ocr(self) -> bool:
        """True when at least one page waits for OCR."""
        return any(p.needs_ocr for p in self.pages)


#: Entity kinds ``ingest`` extracts, in the order they are shown.
ENTITY_KINDS = (
    "company",
    "person",
    "phone",
    "email",
    "uscc",
    "amount",
    "date",
    "contract_no",
    "quote_no",
    "order_no",
    "invoice_code",
    "invoice_no",
    "address",
)


@dataclass(frozen=True)
class Entity:
    """One fact found in a document's text.

    ``value`` is normalised (phone: 11-digit mobile, ``区号-号码`` landline, 10-digit
    400/800; e-mail lower case; amount: decimal yuan with 2 places; date: ISO; uscc: upper
    case).  ``text`` is the surface form exactly as it occurs at ``page_text[start:end]``
    of page ``page`` (1-based), for highlighting.  ``valid`` is False for a credit code whose
    check character is wrong: kept and flagged, never corrected.  ``role`` is the label
    that introduced it where there was one (``甲方``, ``联系人``, ``发票号码`` …).
    """

    kind: str
    value: str
    text: str
    page: int
    start: int
    end: int
    valid: bool = True
    role: str = ""
