"""Chinese-first text analysis shared by every backend.

Three token streams come out of one normalised text:

* **grams** — the recall stream.  Each CJK run (CJK characters, joined across
  whitespace and line breaks, because OCR and line wraps split words) emits the
  bigram starting at every character and, at the run's last character, that
  character alone.  So a token's position equals its character offset inside
  the run, phrase queries mean adjacency, and the trailing unigram keeps two runs
  from fusing (``合同金额`` does not match ``签订合同。陪同金主。总金额``).
  Latin/digit runs go into the same stream, so mixed phrases such as
  ``ThinkPad 报价`` or ``HT-2024-0315`` work.  Each run is cut into *pieces* at
  letter↔digit boundaries and at case boundaries (``aB``, and ``ABc`` before the
  ``B``), because OCR drops the spaces between Latin words: ``PowerEdgeR750``
  and ``PowerEdge R750`` both give ``power edge r 750``, ``CRMSaaS`` and
  ``CRM SaaS`` both give ``crm saa s``, ``Wi-Fi6`` and ``Wi-Fi 6`` both give
  ``wi fi 6``.  A query is cut the same way, so the phrase ``"PowerEdge R750"``
  and the word ``R750`` find both spellings (and ``R750`` still does not match
  ``XR750`` or ``R7500``: pieces are whole tokens).
* **joined tail** — case cuts depend on the letters' case, which a query typed
  in lower case does not have (``iphone`` is one piece, ``iPhone`` two).  So each
  Latin run with a case cut also yields its camel-case words joined again: the
  run, each letter chunk, and the spans of 2–3 case pieces inside a chunk
  (``CRMSaaS`` → ``crmsaas crmsaa saas``).  They are marked with
  :data:`JOINED_MARK` (a CJK character, so no query's Latin token can equal one)
  and each is stored between the tokens before and after it in the grams
  (``型号PowerEdge R750`` → ``号 poweredge乀 r``), in a tail *after* the grams of
  its column: a backend with token positions puts the tail after a position gap.
  A lower-case query word is looked up among them (``iphone`` → ``iphone乀``);
  a phrase with lower-case words that may be camel case in the document also
  tries each such word plainly or joined, checking every pair of neighbours
  for adjacency (:class:`Relaxed`).
* **words** — jieba's search-mode tokens, for ranking whole-word matches higher,
  plus joined forms of dash/space-grouped phone numbers (``189-6928-1627`` also
  yields ``18969281627``).

Normalisation is per character: NFKC (full-width to half-width), lower case and
traditional Chinese characters folded to simplified ones (:mod:`foundation.variants`,
derived from OpenCC's data: 報價單 → 报价单, 臺灣 → 台湾; characters that simplified
Chinese writes too, such as 乾 and 著, are kept), with a map from every normalised
character back to its source offset so that snippets can be cut from the original text.  The case cuts read a same-length
NFKC text that keeps the case.  Every function here is a pure function of its
text; changing what they emit needs a rebuild of stored indexes
(:data:`ANALYSIS_VERSION`).
"""

from __future__ import annotations

import logging
import operator
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import jieba
import rjieba

from foundation.variants import variant_table
from index._charmap import CharMap

__all__ = [
    "ANALYSIS_VERSION",
    "JOINED_EDGE",
    "JOINED_MARK",
    "Phrase",
    "QueryToken",
    "Relaxed",
    "add_user_words",
    "analyse_query_term",
    "grams",
    "grams_and_joined",
    "is_cjk",
    "joined_tail",
    "latin_cuts",
    "normalize",
    "normalize_cased",
    "normalize_text",
    "phone_variants",
    "query_pieces",
    "user_word_count",
    "user_words",
    "words",
]

#: Names what :func:`grams_and_joined` emits; a stored index built by another version is rebuilt.
#: 3: traditional characters folded to simplified (foundation.variants); 4: also the marked pinyin of titles and
#: metadata names after the words stream (index._pinyin).
ANALYSIS_VERSION = "4"

#: Suffix of every joined form: a CJK character, so no query's Latin token can ever equal one.
JOINED_MARK = "\u4e40"  # 乀
#: The neighbour of a joined form at the start or end of its column (digit + CJK: no query token).
JOINED_EDGE = "0" + JOINED_MARK

#: A term with more lower-case words that may be camel case gets no relaxed form (query size).
MAX_RELAXED = 4
_MIN_RELAXED_CHARS = 3

jieba.setLogLevel(logging.WARNING)

_CHAR_CACHE: dict[str, str] = {}
_jieba_lock = threading.Lock()
_words_lock = threading.Lock()
_jieba_ready = False

_CJK_CLASS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0003134f"


def is_cjk(ch: str) -> bool:
    """True for a CJK ideograph (or kana/hangul): the characters that get bigrams."""
    o = ord(ch)
    return (
        0x4E00 <= o <= 0x9FFF
        or 0x3400 <= o <= 0x4DBF
        or 0xF900 <= o <= 0xFAFF
        or 0x20000 <= o <= 0x3134F
        or 0x3040 <= o <= 0x30FF
        or 0xAC00 <= o <= 0xD7AF
    )


def _norm_char(ch: str) -> str:
    out = _CHAR_CACHE.get(ch)
    if out is None:
        out = unicodedata.normalize("NFKC", ch).lower().translate(variant_table())
        if len(_CHAR_CACHE) < 200_000:
            _CHAR_CACHE[ch] = out
    return out


def _cased_char(ch: str) -> str:
    """NFKC of ``ch`` with its case, as long as :func:`_norm_char` (else the lower-case form)."""
    n = unicodedata.normalize("NFKC", ch).translate(variant_table())
    low = _norm_char(ch)
    return n if len(n) == len(low) else low


# str.translate tables for characters whose normal form is one other character;
# chars that normalise to 0 or 2+ characters are listed in _UNEVEN.
_TRANSLATE: dict[int, str] = {}
_TRANSLATE_CASED: dict[int, str] = {}
_KNOWN: set[str] = set()
_UNEVEN: set[str] = set()


def _learn(chars: set[str]) -> None:
    for ch in chars - _KNOWN:
        n = _norm_char(ch)
        if len(n) != 1:
            _UNEVEN.add(ch)
        else:
            if n != ch:
                _TRANSLATE[ord(ch)] = n
            c = _cased_char(ch)
            if c != ch:
                _TRANSLATE_CASED[ord(ch)] = c
        if len(_KNOWN) < 200_000:
            _KNOWN.add(ch)


_FAST = CharMap(_norm_char)
_FAST_CASED = CharMap(_cased_char)


def normalize(text: str) -> tuple[str, Sequence[int]]:
    """Return the normalised text and, for each of its characters, the source offset."""
    fast = _FAST.apply(text)
    if fast is not None:
        return fast, range(len(text))
    chars = set(text)
    _learn(chars)
    if not chars & _UNEVEN:
        # Every character maps to exactly one: offsets are the identity (C speed).
        return text.translate(_TRANSLATE), list(range(len(text)))
    parts: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        n = _norm_char(ch)
        if len(n) == 1:
            parts.append(n)
            offsets.append(i)
        elif n:
            parts.append(n)
            offsets.extend([i] * len(n))
    return "".join(parts), offsets


def normalize_text(text: str) -> str:
    """Normalised text without the offset map."""
    fast = _FAST.apply(text)
    if fast is not None:
        return fast
    chars = set(text)
    _learn(chars)
    if not chars & _UNEVEN:
        return text.translate(_TRANSLATE)
    return "".join(_norm_char(ch) for ch in text)


def normalize_cased(text: str) -> str:
    """NFKC text that keeps letter case, character for character as long as :func:`normalize_text`."""
    fast = _FAST_CASED.apply(text)
    if fast is not None:
        return fast
    chars = set(text)
    _learn(chars)
    if not chars & _UNEVEN:
        return text.translate(_TRANSLATE_CASED)
    return "".join(_cased_char(ch) for ch in text)


# A CJK run (CJK chars possibly separated by whitespace only) or a Latin/digit run.
_SEGMENT = re.compile(rf"(?P<cjk>[{_CJK_CLASS}](?:\s*[{_CJK_CLASS}])*)|(?P<word>[^\W_{_CJK_CLASS}]+)")
_WS = re.compile(r"\s+")
_CJK_GAP = re.compile(rf"(?<=[{_CJK_CLASS}])\s+(?=[{_CJK_CLASS}])")
_concat = operator.add


def latin_cuts(run: str) -> list[tuple[int, bool]]:
    """Inner cut offsets of a cased Latin/digit run, each flagged True for a case cut.

    Cuts fall between a letter and a digit, between a lower-case and an upper-case
    letter (``Power|Edge``), and before the last capital of a capital run that a
    lower-case letter follows (``CRM|SaaS``).
    """
    out: list[tuple[int, bool]] = []
    prev = run[0]
    prev_digit = prev.isdigit()
    last = len(run) - 1
    for i in range(1, len(run)):
        ch = run[i]
        digit = ch.isdigit()
        if digit != prev_digit:
            out.append((i, False))
        elif (
            not digit
            and ch.isupper()
            and (prev.islower() or (prev.isupper() and i < last and run[i + 1].islower()))
        ):
            out.append((i, True))
        prev, prev_digit = ch, digit
    return out


def _simple(low: str, cased: str) -> bool:
    """True when a Latin run has no cut at all (the common case, decided at C speed)."""
    if low.isdigit():
        return True
    return low.isalpha() and (cased == low or cased.isupper())


@dataclass(frozen=True)
class _Latin:
    """One Latin/digit run, analysed."""

    pieces: tuple[str, ...]  # cut at letter/digit and case boundaries
    chunks: tuple[tuple[str, ...], ...]  # the pieces grouped by letter/digit cuts only (case cuts inside)
    joined: tuple[tuple[str, int, int], ...]  # (camel-case form joined again, first piece, end piece)


def _latin(low: str, cased: str) -> _Latin:
    if _simple(low, cased):
        return _Latin((low,), ((low,),), ())
    cuts = latin_cuts(cased)
    bounds = [0, *(i for i, _ in cuts), len(low)]
    pieces = tuple(low[a:b] for a, b in pairwise(bounds))
    chunks: list[list[int]] = [[0]]  # piece indexes per chunk
    for k, (_, case_cut) in enumerate(cuts, start=1):
        if case_cut:
            chunks[-1].append(k)
        else:
            chunks.append([k])
    joined: list[tuple[str, int, int]] = []
    if any(case for _, case in cuts):
        if len(chunks) > 1:
            joined.append((low, 0, len(pieces)))
        for chunk in chunks:
            first, n = chunk[0], len(chunk)
            if n > 1:
                joined.append(("".join(pieces[first : first + n]), first, first + n))
                for width in (2, 3):
                    if width < n:
                        joined.extend(
                            ("".join(pieces[i : i + width]), i, i + width)
                            for i in range(first, first + n - width + 1)
                        )
    return _Latin(pieces, tuple(tuple(pieces[k] for k in c) for c in chunks), tuple(joined))


def grams_and_joined(text: str, normalized: str | None = None) -> tuple[list[str], list[str]]:
    """(grams, joined tail) of a text (see the module docstring); a pure function of ``text``.

    ``normalized`` is :func:`normalize_text` of ``text`` when the caller has it already.

    The tail holds one ``(previous token, marked joined form, next token)`` triple per
    distinct occurrence, and ``(joined form, joined form, edge)`` for camel-case words
    next to each other, :data:`JOINED_EDGE` standing in for a missing neighbour, so a
    query can check what a camel-case word it typed in lower case is next to.  A
    backend stores the tail after the grams with a position gap (SQLite: simply after
    them, since no phrase of grams can contain a marked token).
    """
    low = normalize_text(text) if normalized is None else normalized
    aligned = len(low) == len(text)
    cased: str | None = None
    out: list[str] = []
    spans: list[tuple[str, int, int]] = []
    for m in _SEGMENT.finditer(low):
        cjk, word = m.groups()
        if cjk is not None:
            # Whitespace inside the run goes (a run of CJK characters alone is alphanumeric).
            seg = cjk if cjk.isalnum() else _WS.sub("", cjk)
            out.extend(map(_concat, seg, seg[1:]))
            out.append(seg[-1])
            continue
        start, end = m.span()
        if word.isdigit() or (aligned and word.isalpha() and word == text[start:end]):
            out.append(word)  # no cut possible: digits only, or letters already lower case in the source
            continue
        if cased is None:
            cased = normalize_cased(text)
        latin = _latin(word, cased[start:end])
        base = len(out)
        out.extend(latin.pieces)
        spans.extend((form, base + a, base + b) for form, a, b in latin.joined)
    return out, joined_tail(out, spans) if spans else []


def joined_tail(out: Sequence[str], spans: Sequence[tuple[str, int, int]]) -> list[str]:
    """The joined tail (see :func:`grams_and_joined`) of the grams ``out`` with the camel-case ``spans``.

    A span is (joined form, index of its first piece in ``out``, index after its last piece).
    """
    n = len(out)
    tail = dict.fromkeys(
        (out[a - 1] if a else JOINED_EDGE, form + JOINED_MARK, out[b] if b < n else JOINED_EDGE)
        for form, a, b in spans
    )
    # Camel-case words next to each other (ThinkPad PowerEdge): their joined forms side by side.
    starting: dict[int, list[str]] = {}
    for form, a, _ in spans:
        starting.setdefault(a, []).append(form + JOINED_MARK)
    for form, _, b in spans:
        for after in starting.get(b, ()):
            tail[(form + JOINED_MARK, after, JOINED_EDGE)] = None
    return [t for group in tail for t in group]


def grams(text: str) -> list[str]:
    """The recall stream of a text (see the module docstring), without the joined forms."""
    return grams_and_joined(text)[0]


_PHONE_GROUPS = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?\d{2,4}(?:[\s.-]\d{2,8}){1,3}(?!\d)")
#: A stretch of the characters a phone match is made of, starting where one can (a character class first, so
#: the regex engine skips to it at C speed; the lookbehind of _PHONE_GROUPS tries every position).
_PHONE_STRETCH = re.compile(r"[+\d][\d\s.+-]{9,}")
_NON_DIGIT = re.compile(r"\D")


def phone_variants(norm: str) -> list[str]:
    """Joined forms of digit groups that look like phone numbers (``189-6928-1627``).

    Matched inside the stretches that can hold one (10 or more characters of digits, ``+``, ``.``, ``-``
    and whitespace, starting with ``+`` or a digit): no digit stands next to a stretch, so the
    lookarounds decide there as they would over the whole text, and the matches are the same.
    """
    out: list[str] = []
    for stretch in _PHONE_STRETCH.finditer(norm):
        for m in _PHONE_GROUPS.finditer(norm, stretch.start(), stretch.end()):
            digits = _NON_DIGIT.sub("", m.group())
            if digits.startswith("86") and len(digits) == 13:
                digits = digits[2:]
            if 10 <= len(digits) <= 12:
                out.append(digits)
    return out


def _ensure_jieba() -> None:
    global _jieba_ready
    if not _jieba_ready:
        with _jieba_lock:
            if not _jieba_ready:
                jieba.initialize()
                _jieba_ready = True


#: The user words both segmenters have learnt (each is added once).
_USER_WORDS: set[str] = set()


def add_user_words(names: Iterable[str]) -> None:
    """Teach the segmenters customer names and aliases so they segment as whole words.

    The records layer calls this at start-up and whenever the customer registry
    changes.  The index keeps each document's token streams, so deleting or
    replacing a document indexed under an older dictionary stays exact.  Both
    segmenters learn them: jieba (whose part-of-speech tagger ``ingest`` uses) and
    rjieba (jieba-rs, the same dictionary and algorithm in Rust, which makes the
    ``words`` stream about 15x faster with the same output).
    """
    _ensure_jieba()
    with _words_lock:
        for name in names:
            n = normalize_text(name).strip()
            if len(n) >= 2 and n not in _USER_WORDS:
                # Once per word: the two segmenters account a word added again differently (their
                # totals drift apart), and a process re-reads the registry on every change.
                _USER_WORDS.add(n)
                freq = max(jieba.get_FREQ(n) or 0, 20000)
                jieba.add_word(n, freq=freq)
                rjieba.add_word(n, freq, None)


def user_word_count() -> int:
    """How many user words the segmenters have learnt in this process (they only ever grow: a version of the
    dictionary, for what is kept of segmented queries)."""
    return len(_USER_WORDS)


def user_words() -> list[str]:
    """The user words the segmenters have learnt in this process (sorted): what another process needs to
    segment as this one does."""
    with _words_lock:
        return sorted(_USER_WORDS)


#: Whether each token seen is a ``words`` token (bounded: past the limit tokens are decided each time).
_WORD_KEPT: dict[str, bool] = {}


def _word_kept(token: str) -> bool:
    kept = len(token) > 1 and is_cjk(token[0]) and token.isalnum()
    if len(_WORD_KEPT) < 500_000:
        _WORD_KEPT[token] = kept
    return kept


def words(norm: str) -> list[str]:
    """The ranking stream: jieba's search-mode multi-character Chinese words + joined phone numbers.

    Segmented by rjieba (see :func:`add_user_words`).  Latin/digit tokens and single
    characters are left out: the grams stream already holds them as whole tokens, so
    repeating them would only cost space.
    """
    # Line breaks inside Chinese are layout, not word boundaries.
    with _words_lock:  # the dictionary may be growing in another thread
        cut = rjieba.cut_for_search(_CJK_GAP.sub("", norm))
    known = _WORD_KEPT.get  # each distinct token decided once (the same filter, at dictionary speed)
    out = [t for t in cut if (kept := known(t)) or (kept is None and _word_kept(t))]
    out.extend(phone_variants(norm))
    return out


#: One phrase over the grams columns: (grams, the last gram is a prefix).
Phrase = tuple[tuple[str, ...], bool]


@dataclass(frozen=True)
class Relaxed:
    """The phrase again for lower-case words that the document may write in camel case.

    Every group must match; a group matches when any of its phrases does.  Each
    stretch of the phrase without such a word is one group, and each adjacent pair
    with such a word is another, the word written either plainly or as its joined
    form (``"thinkpad x1"`` → ``thinkpad x`` or ``thinkpad乀 x``, and ``x 1``).  So
    every pair of neighbours must be adjacent in the document, though not
    necessarily all in one place.
    """

    groups: tuple[tuple[Phrase, ...], ...]


@dataclass(frozen=True)
class QueryToken:
    """The analysed form of one query term: a phrase over the grams stream, plus other forms."""

    grams: tuple[str, ...]
    prefix: bool = False  # the last gram is a one-character prefix (a single trailing CJK char)
    word: str | None = None  # the whole term as one token, also looked up in the words column
    alternatives: tuple[str, ...] = ()  # extra single-token forms (joined phone numbers)
    variants: tuple[
        tuple[str, ...], ...
    ] = ()  # the phrase with Latin runs not cut at case (``iPhone`` → iphone)
    joined: tuple[str, ...] = ()  # marked joined forms that alone match the term (``iphone`` → iphone乀)
    relaxed: Relaxed | None = None


def query_pieces(term: str) -> list[tuple[bool, tuple[str, ...]]]:
    """(is_cjk, pieces) per run of a query term: a CJK run (whitespace removed) or a Latin run's pieces."""
    low = normalize_text(term)
    cased = normalize_cased(term)
    out: list[tuple[bool, tuple[str, ...]]] = []
    for m in _SEGMENT.finditer(low):
        cjk = m.group("cjk")
        if cjk is not None:
            out.append((True, (_WS.sub("", cjk) if len(cjk) > 1 else cjk,)))
        else:
            out.append((False, _latin(m.group("word"), cased[m.start() : m.end()]).pieces))
    return out


def analyse_query_term(term: str) -> QueryToken | None:
    """Analyse one query term (a word or a quoted phrase); None if it has no tokens."""
    low = normalize_text(term)
    cased = normalize_cased(term)
    segs: list[tuple[str, _Latin | None]] = []
    for m in _SEGMENT.finditer(low):
        cjk = m.group("cjk")
        if cjk is not None:
            segs.append((_WS.sub("", cjk) if len(cjk) > 1 else cjk, None))
        else:
            segs.append((m.group("word"), _latin(m.group("word"), cased[m.start() : m.end()])))
    if not segs:
        return None
    toks: list[str] = []
    plain: list[str] = []
    loose: list[int] = []  # indexes into plain of lower-case words that may be camel case in a document
    prefix = False
    last = len(segs) - 1
    for i, (seg, latin) in enumerate(segs):
        if latin is not None:
            toks.extend(latin.pieces)
            for chunk in latin.chunks:
                joined_chunk = "".join(chunk)
                if len(chunk) == 1 and joined_chunk.isalpha() and len(joined_chunk) >= _MIN_RELAXED_CHARS:
                    loose.append(len(plain))
                plain.append(joined_chunk)
            continue
        n = len(seg)
        cjk_toks = [seg[j : j + 2] for j in range(n - 1)]
        if i != last:
            # Something non-CJK follows in the query, so this run ends where a document run ends.
            cjk_toks.append(seg[-1])
        elif n == 1:
            cjk_toks.append(seg)
            prefix = True
        toks.extend(cjk_toks)
        plain.extend(cjk_toks)
    word = None
    joined: list[str] = []
    if len(segs) == 1:
        seg, latin = segs[0]
        if latin is None:
            if len(seg) > 1:
                word = seg  # the words column holds multi-char Chinese words and joined phones
        else:
            if seg.isdigit() and 10 <= len(seg) <= 12:
                word = seg
            if not seg.isdigit():
                joined.append(seg + JOINED_MARK)
    relaxed = None
    if len(plain) == 1 and loose:
        joined.append(plain[0] + JOINED_MARK)
    elif loose and len(loose) <= MAX_RELAXED:
        relaxed = _relaxed(plain, set(loose), prefix)
    alts = tuple(phone_variants(low)) if len(segs) > 1 else ()
    variants = (tuple(plain),) if plain != toks else ()
    return QueryToken(
        grams=tuple(toks),
        prefix=prefix,
        word=word,
        alternatives=alts,
        variants=variants,
        joined=tuple(dict.fromkeys(joined)),
        relaxed=relaxed,
    )


def _relaxed(plain: list[str], loose: set[int], prefix: bool) -> Relaxed:
    """The phrase ``plain`` with each word at an index in ``loose`` plain or joined (see :class:`Relaxed`)."""
    groups: list[tuple[Phrase, ...]] = []
    last = len(plain) - 1
    start = 0
    while start <= last:
        if start in loose:
            start += 1
            continue
        end = start
        while end <= last and end not in loose:
            end += 1
        if end - start >= 2:  # a single token is checked by its pair with a loose neighbour
            groups.append(((tuple(plain[start:end]), prefix and end > last),))
        start = end
    for k in range(last):
        if k not in loose and k + 1 not in loose:
            continue
        firsts = [plain[k], plain[k] + JOINED_MARK] if k in loose else [plain[k]]
        seconds = [plain[k + 1], plain[k + 1] + JOINED_MARK] if k + 1 in loose else [plain[k + 1]]
        pairs = [(a, b) for a in firsts for b in seconds]
        if last == 1:
            pairs.remove((plain[0], plain[1]))  # the whole phrase as written: the term's own phrase
        groups.append(tuple((pair, prefix and k + 1 == last) for pair in pairs))
    return Relaxed(tuple(groups))
