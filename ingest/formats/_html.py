"""HTML: the visible text plus ``<title>``; never script/style content or attribute values.

A small stdlib ``HTMLParser`` walk rather than ``unstructured.partition_html``: it keeps one
visual line per line (label and value of a form row stay together), joins table cells by TAB,
and is shared with HTML-only e-mail bodies.  Only text nodes are ever emitted, so ``onerror``
handlers, ``javascript:`` URLs and other attributes cannot leak into the index.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from ingest._model import Page
from ingest._text import decode_text
from ingest.formats._types import Extraction, ParseContext

_SKIP = frozenset(
    {
        "script",
        "style",
        "template",
        "noscript",
        "svg",
        "math",
        "iframe",
        "object",
        "select",
        "canvas",
        "audio",
        "video",
    }
)
_BLOCK = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "caption",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "ul",
        "body",
        "html",
        "option",
        "legend",
        "center",
    }
)
_VOID = frozenset(
    {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "track", "wbr"}
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self.skip_depth = 0
        self.skip_stack: list[str] = []
        self.in_title = False
        self.in_pre = 0
        self.cell_open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = True
            return
        if tag in _SKIP and tag not in _VOID:
            self.skip_stack.append(tag)
            return
        if self.skip_stack:
            return
        if tag == "pre":
            self.in_pre += 1
        if tag in ("td", "th"):
            if self.cell_open:
                self.parts.append("\t")
            self.cell_open = True
        elif tag == "tr":
            self.parts.append("\n")
            self.cell_open = False
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.skip_stack and tag in ("br", "hr"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
            return
        if self.skip_stack:
            if tag == self.skip_stack[-1]:
                self.skip_stack.pop()
            elif tag in self.skip_stack:
                while self.skip_stack and self.skip_stack.pop() != tag:
                    pass
            return
        if tag == "pre":
            self.in_pre = max(0, self.in_pre - 1)
        if tag == "tr" or tag == "table":
            self.cell_open = False
            self.parts.append("\n")
        elif tag in _BLOCK and tag not in ("td", "th"):
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title_parts.append(data)
            return
        if self.skip_stack:
            return
        if self.in_pre:
            self.parts.append(data)
        else:
            self.parts.append(re.sub(r"[ \t\r\n\f]+", " ", data))


def visible_text(html: str) -> tuple[str, str]:
    """Return ``(title, visible text)`` of an HTML document."""
    parser = _Visible()
    parser.feed(html)
    parser.close()
    raw = "".join(parser.parts)
    lines = []
    for line in raw.split("\n"):
        cells = [c.strip() for c in line.split("\t")]
        joined = "\t".join(cells).strip()
        if joined:
            lines.append(joined)
    title = " ".join("".join(parser.title_parts).split())
    return title, "\n".join(lines)


def decode_html(data: bytes) -> str:
    """Decode HTML bytes: BOM, then ``<meta charset>``, then the plain-text rules."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or data[:3] == b"\xef\xbb\xbf":
        return decode_text(data)[0]
    m = _META_CHARSET.search(data[:4096])
    if m:
        charset = m.group(1).decode("ascii").lower()
        if charset in ("gb2312", "gbk", "gb_2312-80"):
            charset = "gb18030"
        try:
            return data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_text(data)[0]


class HtmlExtractor:
    """Web pages and HTML exports (.html/.htm)."""

    name = "html"
    formats = frozenset({"html"})

    def parse(self, data: bytes, ctx: ParseContext) -> Extraction:
        """One page: ``<title>`` line, then the visible text."""
        title, text = visible_text(decode_html(data))
        if title and not text.startswith(title):
            text = f"{title}\n{text}" if text else title
        return Extraction(pages=[Page(number=1, text=text)], title=title)


EXTRACTORS = (HtmlExtractor(),)
