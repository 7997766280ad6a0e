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
