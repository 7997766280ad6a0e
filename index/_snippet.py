"""Highlighted snippets cut from the original text.

A query term is found in the *normalised* text under the same equivalence the
index uses (CJK characters may be separated by whitespace only; Latin/digit
pieces by any non-alphanumeric run; whole pieces only, where a piece ends at a
letter/digit or case boundary as in :mod:`index._analysis`, so ``R750`` is
marked inside ``PowerEdgeR750`` but not inside ``XR750``), then mapped back to
offsets in the original text.  Everything is HTML-escaped before ``<mark>`` is
added, so a document containing ``<script>`` shows ``&lt;script&gt;``.
"""

from __future__ import annotations

import bisect
import functools
import html
import re
from collections.abc import Sequence

from index._analysis import _CJK_CLASS, latin_cuts, normalize, normalize_cased, query_pieces
from index._pinyin import pinyin_surfaces

__all__ = [
    "best_anchor",
    "field_spans",
    "find_spans",
    "highlight_spans",
    "hit_texts",
    "make_snippet",
    "term_pattern",
]

SNIPPET_CHARS = 120
#: Characters of a text searched for the values of field queries (``phone:``, ``amount:``): their snippet.
FIELD_SCAN_CHARS = 200_000
_SEP = r"[\W_]*"  # what the tokenizer skips between two tokens of one term
_LATIN = re.compile(rf"[^\W_{_CJK_CLASS}]")
_WS_RUN = re.compile(r"\s+")
_PHONE_SEP = r"[\s.()\-]{0,2}"  # between two digits of a phone number: 021) 6149-8137


@functools.lru_cache(maxsize=4096)
def term_pattern(term: str) -> re.Pattern[str] | None:
    """A regex over normalised text matching what the index matches for ``term``.

    Whether a Latin match starts and ends on a piece boundary depends on the
    letters' case, which the normalised text has lost; :func:`find_spans` checks it.
    Compiled once per term (a pure function of it), not once per hit.
    """
    segs = query_pieces(term)
    if not segs:
        return None
    parts: list[str] = []
    last = len(segs) - 1
    for i, (cjk, pieces) in enumerate(segs):
        if i:
            parts.append(_SEP)
        if cjk:
            p = r"\s*".join(re.escape(c) for c in pieces[0])
            if i != last:
                p += rf"(?!\s*[{_CJK_CLASS}])"
            parts.append(p)
        else:
            parts.append(_SEP.join(re.escape(piece) for piece in pieces))
    alts = ["".join(parts)]
    digits = "".join("".join(p) for c, p in segs if not c)
    if digits.isdigit() and 10 <= len(digits) <= 13 and all(not c for c, _ in segs):
        # Phone numbers match across dash/space/dot/bracket groupings (as the words column and the
        # phone entities do): 021 6149 8137 marks (021) 6149-8137, and +86 21 6149 8137 too.
        core = digits
        if digits.startswith("86") and len(digits) in (12, 13):  # +86: a mobile, or a landline without its 0
            core = digits[2:] if len(digits) == 13 else "0" + digits[2:]
        alts.append(r"(?<!\d)" + _PHONE_SEP.join(core) + r"(?!\d)")
        if core.startswith("0"):
            alts.append(r"(?<!\d)86" + _PHONE_SEP + _PHONE_SEP.join(core[1:]) + r"(?!\d)")
    return re.compile("|".join(f"(?:{a})" for a in alts))


@functools.lru_cache(maxsize=4096)
def _cjk_only(term: str) -> bool:
    """True when every run of ``term`` is CJK (its pattern can only match from a CJK character to one)."""
    return all(cjk for cjk, _ in query_pieces(term))


class _Pieces:
    """Piece boundaries of the Latin runs of one normalised text, computed per run on demand."""

    def __init__(self, text: str, norm: str) -> None:
        self._text = text
        self._norm = norm
        self._cased: str | None = None
        self._runs: dict[int, tuple[int, int, frozenset[int]]] = {}  # any offset in a run -> run

    def _run(self, pos: int) -> tuple[int, int, frozenset[int]]:
        found = self._runs.get(pos)
        if found is None:
            norm = self._norm
            a = pos
            while a > 0 and _LATIN.match(norm, a - 1):
                a -= 1
            b = pos + 1
            while b < len(norm) and _LATIN.match(norm, b):
                b += 1
            if self._cased is None:
                self._cased = normalize_cased(self._text)
            cuts = frozenset(a + i for i, _ in latin_cuts(self._cased[a:b]))
            found = (a, b, cuts)
            for i in range(a, b):
                self._runs[i] = found
        return found

    def starts_piece(self, pos: int) -> bool:
        """True unless ``pos`` is inside a Latin run but not where one of its pieces starts."""
        if not _LATIN.match(self._norm, pos):
            return True
        a, _, cuts = self._run(pos)
        return pos == a or pos in cuts

    def ends_piece(self, end: int) -> bool:
        """True unless the character before ``end`` is in a Latin run whose pieces do not end there."""
        if end == 0 or not _LATIN.match(self._norm, end - 1):
            return True
        _, b, cuts = self._run(end - 1)
        return end == b or end in cuts


def find_spans(text: str, terms: Sequence[str]) -> list[tuple[int, int, int]]:
    """(start, end, term index) of every match of every term, in original-text offsets."""
    norm, offsets = normalize(text)
    pieces = _Pieces(text, norm)
    spans: list[tuple[int, int, int]] = []
    for k, term in enumerate(terms):
        pat = term_pattern(term)
        if pat is None:
            continue
        if _cjk_only(term):  # starts and ends on CJK characters: every match is on piece boundaries
            spans.extend((offsets[m.start()], offsets[m.end() - 1] + 1, k) for m in pat.finditer(norm))
            continue
        pos = 0
        while (m := pat.search(norm, pos)) is not None:
            s, e = m.span()
            if e > s and pieces.starts_piece(s) and pieces.ends_piece(e):
                spans.append((offsets[s], offsets[e - 1] + 1, k))
                pos = e
            else:
                pos = s + 1
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


#: Field kinds whose lookup value the index's own term matching finds in a text (identifiers, phones, e-mails).
_TOKEN_KINDS = frozenset(
    {"phone", "email", "uscc", "contract_no", "quote_no", "order_no", "invoice_no", "invoice_code"}
)
#: Characters either side of where an amount's or a date's figures stand, read by intake's entity finder.
_WINDOW = 40


def field_spans(text: str, fields: Sequence[tuple[str, str]], first: int = 0) -> list[tuple[int, int, int]]:
    """(start, end, index) of where ``text`` states the value of each field query (kind, lookup value).

    Identifiers, phone numbers and e-mail addresses are matched however a text spaces or punctuates
    them (``138-1234-5678`` and ``(021) 6149 8137`` are the phone numbers they are; ``HT 2024-0315``).  Amounts and dates
    are found as intake finds them (``ingest.extract_entities``: ``¥120,000.00元``, ``12万元``,
    ``2024年3月15日``), read only around where their figures stand, and compared in lookup form;
    a date value shorter than a day is a prefix.  Indexes count from ``first``.
    """
    if not fields or not text:
        return []
    text = text[:FIELD_SCAN_CHARS]
    spans: list[tuple[int, int, int]] = []
    rest: list[tuple[str, str, int]] = []
    for k, (kind, value) in enumerate(fields):
        if kind in _TOKEN_KINDS:
            pattern = _written(kind, value)
            if pattern is not None:
                spans.extend((m.start(), m.end(), first + k) for m in pattern.finditer(text))
        else:
            rest.append((kind, value, first + k))
    if rest:
        spans.extend(_entity_spans(text, rest))
    return sorted(set(spans))


def _entity_spans(text: str, fields: Sequence[tuple[str, str, int]]) -> list[tuple[int, int, int]]:
    """Spans of the entities of ``text`` equal to the (kind, lookup value, index) of ``fields``."""
    import ingest  # intake's entity finder (index loads without ingest having finished loading)
    from index._fields import entity_key

    kinds = {kind for kind, _, _ in fields}
    windows: list[tuple[int, int]] = []
    if kinds <= {"amount", "date"}:
        for kind, value, _ in fields:
            pattern = _figures(kind, value)
            if pattern is not None:
                windows.extend(
                    (max(0, m.start() - _WINDOW), m.end() + _WINDOW) for m in pattern.finditer(text)
                )
        windows = [w for w in _merge([(a, b, 0) for a, b in windows])]
    else:  # names: read it all
        windows = [(0, len(text))]
    out: list[tuple[int, int, int]] = []
    for a, b in windows:
        for entity in ingest.extract_entities([text[a:b]], kinds):
            key = entity_key(entity.kind, entity.value)
            for kind, value, k in fields:
                if entity.kind == kind and (key == value or (kind == "date" and key.startswith(value))):
                    out.append((a + entity.start, a + entity.end, k))
    return out


_ALNUM_GAP = r"[\s\-_/.]{0,2}"


def _written(kind: str, value: str) -> re.Pattern[str] | None:
    """How an identifier, phone number or e-mail address may be written in a text (any case, spacing, dashes)."""
    if kind == "email":
        return re.compile(r"(?<![\w.])" + re.escape(value) + r"(?![\w])", re.IGNORECASE)
    chars = [c for c in value if c.isalnum()]
    if not chars:
        return None
    if kind == "phone":
        digits = "".join(chars)
        alts = [_PHONE_SEP.join(digits)]
        if digits.startswith("0"):  # a landline written with the country code: +86 21 6149 8137
            alts.append("86" + _PHONE_SEP + _PHONE_SEP.join(digits[1:]))
        return re.compile(r"(?<!\d)(?:" + "|".join(alts) + r")(?!\d)")
    return re.compile(
        r"(?<![A-Za-z0-9])" + _ALNUM_GAP.join(re.escape(c) for c in chars) + r"(?![A-Za-z0-9])", re.IGNORECASE
    )


def _figures(kind: str, value: str) -> re.Pattern[str] | None:
    """Where an amount's or a date's figures may stand in a text (``120,000``, ``12万``; ``2024年3月``)."""
    if kind == "amount":
        whole = value.partition(".")[0]
        whole = whole.lstrip("0") or "0"
        if not whole.isdigit():
            return None
        alts = [r"(?<![\d.])" + ",?".join(whole) + r"(?!\d)"]
        if len(whole) > 4:
            wan = f"{int(whole) / 10_000:.4f}".rstrip("0").rstrip(".")
            alts.append(r"(?<![\d.])" + re.escape(wan) + r"\s*万")
        return re.compile("|".join(alts))
    if kind == "date":
        parts = value.split("-")
        if not all(p.isdigit() for p in parts):
            return None
        sep = r"\s*[年\-/.]\s*"
        pattern = parts[0]
        for p in parts[1:]:
            pattern += sep + "0?" + str(int(p))
            sep = r"\s*[月\-/.]\s*"
        return re.compile(pattern + r"(?!\d)")
    return None


def best_anchor(spans: Sequence[tuple[int, int, int]], width: int) -> int:
    """Start of the match that opens the best ``width``-character window of sorted ``spans``.

    The best window holds the most distinct terms, then the most matches, then comes first;
    windows are anchored at each of the first 500 matches and count the matches of the next
    200 that end inside (found by bisection: a match starting past the window ends past it).
    """
    best: tuple[int, int, int] | None = None  # (-distinct, -count, start)
    starts = [sp[0] for sp in spans]
    for i, s in enumerate(starts[:500]):
        stop = min(i + 200, bisect.bisect_right(starts, s + width, i))
        inside = [sp for sp in spans[i:stop] if sp[1] <= s + width]
        key = (-len({k for _, _, k in inside}), -len(inside), s)
        if best is None or key < best:
            best = key
    assert best is not None
    return best[2]


def make_snippet(
    text: str, terms: Sequence[str], width: int = SNIPPET_CHARS, extra: Sequence[tuple[int, int, int]] = ()
) -> str | None:
    """The best ~``width``-character window of ``text`` with matches marked; None if no match.

    ``extra`` are spans found otherwise (:func:`field_spans`), marked and weighed as matches.
    """
    spans = find_spans(text, terms) if terms else []
    if extra:
        spans = sorted([*spans, *extra])
    if not spans:
        return None
    anchor = best_anchor(spans, width)
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


def hit_texts(
    title: str, meta: str, text: str, terms: Sequence[str], fields: Sequence[tuple[str, str]] = ()
) -> tuple[str, str]:
    """(snippet, highlighted title) of one hit; every backend builds its hits with this.

    The snippet comes from the body where a term, or the value of a field query (``fields``:
    (kind, lookup value) of ``phone:``, ``amount:`` …), matches there, else from the title or
    metadata that matched, else it is the opening of the text.  A pinyin word (``ghwl``) marks
    the Chinese of the title or metadata it reads as (光华物流), wherever that stands.
    """
    if terms:
        terms = [*terms, *pinyin_surfaces(title, meta, terms)]
    title_spans = find_spans(title, terms) if terms else []
    title_html = highlight_spans(title, title_spans)
    extra = field_spans(text, fields, first=len(terms)) if fields else []
    snippet = make_snippet(text, terms, extra=extra) if terms or extra else None
    if snippet is None:
        if title_spans:
            snippet = highlight_spans(title, title_spans)
        else:
            if terms:
                snippet = make_snippet(meta, terms)
            if snippet is None:
                snippet = highlight_spans(text, [], 0, min(len(text), 120)).strip()
    return snippet, title_html
