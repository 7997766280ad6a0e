"""Highlighted snippets cut from the original text.

A query term is found in the *normalised* text under the same equivalence the
index uses (CJK characters may be separated by whitespace only; Latin/digit
tokens by any non-alphanumeric run; whole Latin tokens only), then mapped back
to offsets in the original text.  Everything is HTML-escaped before ``<mark>``
is added, so a document containing ``<script>`` shows ``&lt;script&gt;``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from index._analysis import _CJK_CLASS, _segments, normalize, normalize_text

__all__ = ["find_spans", "highlight_spans", "make_snippet", "term_pattern"]

SNIPPET_CHARS = 120
_SEP = r"[\W_]*"  # what the tokenizer skips between two tokens of one term
_NOT_LATIN_BEFORE = rf"(?<![^\W_{_CJK_CLASS}])"
_NOT_LATIN_AFTER = rf"(?![^\W_{_CJK_CLASS}])"
_WS_RUN = re.compile(r"\s+")


def term_pattern(term: str) -> re.Pattern[str] | None:
    """A regex over normalised text matching what the index matches for ``term``."""
    norm = normalize_text(term)
    segs = _segments(norm)
    if not segs:
        return None
    parts: list[str] = []
    last = len(segs) - 1
    for i, (cjk, seg) in enumerate(segs):
        if i:
            parts.append(_SEP)
        if cjk:
            p = r"\s*".join(re.escape(c) for c in seg)
            if i != last:
                p += rf"(?!\s*[{_CJK_CLASS}])"
            parts.append(p)
        else:
            parts.append((_NOT_LATIN_BEFORE if i == 0 else "") + re.escape(seg) + _NOT_LATIN_AFTER)
    alts = ["".join(parts)]
    digits = "".join(s for c, s in segs if not c)
    if digits.isdigit() and 10 <= len(digits) <= 13 and all(not c for c, _ in segs):
        # Phone numbers match across dash/space/dot groupings (as the words column does).
        alts.append(r"(?<!\d)" + r"[\s.-]?".join(digits[-11:] if len(digits) == 13 else digits) + r"(?!\d)")
    return re.compile("|".join(f"(?:{a})" for a in alts))


def find_spans(text: str, terms: Sequence[str]) -> list[tuple[int, int, int]]:
    """(start, end, term index) of every match of every term, in original-text offsets."""
    norm, offsets = normalize(text)
    spans: list[tuple[int, int, int]] = []
    for k, term in enumerate(terms):
        pat = term_pattern(term)
        if pat is None:
            continue
        for m in pat.finditer(norm):
            if m.end() > m.start():
                spans.append((offsets[m.start()], offsets[m.end() - 1] + 1, k))
    spans.sort()
    return spans


def _merge(spans: Sequence[tuple[int, int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e, _ in sorted(spans):
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def highlight_spans(
    text: str,
    spans: Sequence[tuple[int, int, int]],
    start: int = 0,
    end: int | None = None,
    *,
    collapse: bool = True,
) -> str:
    """Escaped ``text[start:end]`` with the given spans in ``<mark>``; ``collapse`` folds whitespace."""
    end = len(text) if end is None else end

    def _escape(piece: str) -> str:
        escaped = html.escape(piece, quote=True)
        return _WS_RUN.sub(" ", escaped) if collapse else escaped

    out: list[str] = []
    pos = start
    for s, e in _merge(spans):
        s, e = max(s, start), min(e, end)
        if s >= e:
            continue
        out.append(_escape(text[pos:s]))
        out.append("<mark>" + _escape(text[s:e]) + "</mark>")
        pos = e
    out.append(_escape(text[pos:end]))
    return "".join(out)


def make_snippet(text: str, terms: Sequence[str], width: int = SNIPPET_CHARS) -> str | None:
    """The best ~``width``-character window of ``text`` with matches marked; None if no match."""
    spans = find_spans(text, terms)
    if not spans:
        return None
    best: tuple[int, int, int] | None = None  # (-distinct, -count, start)
    for i, (s, _, _) in enumerate(spans[:500]):
        # Windows anchored at each match; count the matches fully inside.
        inside = [sp for sp in spans[i : i + 200] if sp[1] <= s + width]
        key = (-len({k for _, _, k in inside}), -len(inside), s)
        if best is None or key < best:
            best = key
    assert best is not None
    anchor = best[2]
    start = max(0, anchor - width // 5)
    end = min(len(text), start + width)
    start = max(0, min(start, end - width))
    # Do not cut a match in half at the window's edges.
    for s, e, _ in spans:
        if s < start < e:
            start = s
        if s < end < e:
            end = e
    body = highlight_spans(text, spans, start, end).strip()
    return ("…" if start > 0 else "") + body + ("…" if end < len(text) else "")
