"""Plain-text snippets for the tabular exports (CSV, XLSX): fast enough for 100,000 rows.

The search page's snippets (``index`` builds them per hit: the whole text normalised with an
offset map, each term's pattern, the best window, HTML marks) cost a few hundred
microseconds per document — more than everything else an export row needs together.  A
spreadsheet cell wants plain text, so here the query's words are compiled once per export
into patterns over NFKC-normalised, lower-cased text (CJK characters may be separated by
whitespace, as OCR leaves them, and match their traditional or simplified spellings as the
search does; Latin and digit pieces by punctuation), the first match in
the document's opening pages is found, and about 120 characters around it are cut from the
original text.  No match there (the word was in a later page, an attachment or the title
only): the opening of the text, as the search page shows then.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from foundation.variants import spellings
from index import SearchRefused, parse_query

__all__ = ["SNIPPET_CHARS", "PlainSnippets"]

SNIPPET_CHARS = 120


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return (
        0x3400 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3FFFF
        or 0x3040 <= code <= 0x30FF
        or 0xAC00 <= code <= 0xD7AF
    )


def term_regex(term: str) -> str | None:
    """A pattern over normalised text for one query word or phrase (None when it has no letters or digits)."""
    norm = unicodedata.normalize("NFKC", term).lower()
    parts: list[str] = []
    previous: bool | None = None  # was the previous kept character CJK? None after a separator
    for ch in norm:
        if not ch.isalnum():
            if parts and parts[-1] != r"[\W_]*":
                parts.append(r"[\W_]*")
            previous = None
            continue
        cjk = _is_cjk(ch)
        if previous is not None:
            parts.append(r"\s*" if cjk and previous else r"[\W_]*" if cjk != previous else "")
        alike = spellings(ch) if cjk else ch
        parts.append(f"[{alike}]" if len(alike) > 1 else re.escape(ch))  # 报 also matches 報
        previous = cjk
    while parts and parts[-1] == r"[\W_]*":
        parts.pop()
    while parts and parts[0] == r"[\W_]*":
        parts.pop(0)
    return "".join(parts) or None


class PlainSnippets:
    """Snippets of one query: ``snippets(text)`` is ~120 characters of ``text`` around its first match."""

    def __init__(self, query: str, width: int = SNIPPET_CHARS) -> None:
        try:
            terms = [t.text for t in parse_query(query).positive_terms]
        except SearchRefused:
            terms = []
        patterns = [p for p in (term_regex(t) for t in terms) if p]
        self.pattern = re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None
        self.width = width

    def _find(self, text: str) -> int | None:
        """Offset in ``text`` of the first match, or None."""
        assert self.pattern is not None
        lowered = text.lower()
        found = self.pattern.search(lowered)  # most hits: the word is there as typed (C speed)
        if found is not None and len(lowered) == len(text):
            return found.start()
        if found is None and unicodedata.is_normalized("NFKC", text):
            return None
        # Full-width or other compatibility forms (ＨＴ-2024, ㈱): match the NFKC form, map the offset back.
        norm = unicodedata.normalize("NFKC", text).lower()
        found = self.pattern.search(norm)
        if found is None:
            return None
        return found.start() * len(text) // max(1, len(norm))

    def of_pages(self, pages: Sequence[str]) -> str:
        """The snippet of a document given its opening pages: from the first page with a match, else its opening."""
        if self.pattern is not None:
            for text in pages:
                pos = self._find(text)
                if pos is not None:
                    return self._cut(text, pos)
        return self._cut(pages[0], None) if pages else ""

    def __call__(self, text: str) -> str:
        """The snippet of one document's text (its opening when nothing matches)."""
        if not text:
            return ""
        return self._cut(text, self._find(text) if self.pattern is not None else None)

    def _cut(self, text: str, pos: int | None) -> str:
        """About ``width`` characters of ``text`` from a little before ``pos`` (its opening for None), on one line."""
        start = max(0, pos - self.width // 5) if pos is not None else 0
        end = min(len(text), start + self.width)
        start = max(0, min(start, end - self.width))
        body = " ".join(text[start:end].split())  # whitespace folded, at C speed
        return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")
