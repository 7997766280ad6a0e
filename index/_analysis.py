"""Chinese-first text analysis shared by every backend.

Two token streams come out of one normalised text:

* **grams** — the recall stream.  Each CJK run (CJK characters, joined across
  whitespace and line breaks, because OCR and line wraps split words) emits the
  bigram starting at every character and, at the run's last character, that
  character alone.  So a token's position equals its character offset inside
  the run, phrase queries mean adjacency, and the trailing unigram keeps two runs
  from fusing (``合同金额`` does not match ``签订合同。陪同金主。总金额``).
  Latin/digit tokens (maximal alphanumeric runs) go into the same stream, so
  mixed phrases such as ``ThinkPad 报价`` or ``HT-2024-0315`` work.
* **words** — jieba's search-mode tokens, for ranking whole-word matches higher,
  plus joined forms of dash/space-grouped phone numbers (``189-6928-1627`` also
  yields ``18969281627``).

Normalisation is per character: NFKC (full-width to half-width) and lower case,
with a map from every normalised character back to its source offset so that
snippets can be cut from the original text.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import jieba

__all__ = [
    "QueryToken",
    "add_user_words",
    "analyse_query_term",
    "grams",
    "is_cjk",
    "normalize",
    "normalize_text",
    "phone_variants",
    "words",
]

jieba.setLogLevel(logging.WARNING)

_CHAR_CACHE: dict[str, str] = {}
_jieba_lock = threading.Lock()
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
        out = unicodedata.normalize("NFKC", ch).lower()
        if len(_CHAR_CACHE) < 200_000:
            _CHAR_CACHE[ch] = out
    return out


# str.translate table for characters whose normal form is one other character;
# chars that normalise to 0 or 2+ characters are listed in _UNEVEN.
_TRANSLATE: dict[int, str] = {}
_KNOWN: set[str] = set()
_UNEVEN: set[str] = set()


def _learn(chars: set[str]) -> None:
    for ch in chars - _KNOWN:
        n = _norm_char(ch)
        if len(n) != 1:
            _UNEVEN.add(ch)
        elif n != ch:
            _TRANSLATE[ord(ch)] = n
        if len(_KNOWN) < 200_000:
            _KNOWN.add(ch)


def normalize(text: str) -> tuple[str, list[int]]:
    """Return the normalised text and, for each of its characters, the source offset."""
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
    chars = set(text)
    _learn(chars)
    if not chars & _UNEVEN:
        return text.translate(_TRANSLATE)
    return "".join(_norm_char(ch) for ch in text)


# A CJK run (CJK chars possibly separated by whitespace only) or a Latin/digit token.
_SEGMENT = re.compile(rf"(?P<cjk>[{_CJK_CLASS}](?:\s*[{_CJK_CLASS}])*)|(?P<word>[^\W_{_CJK_CLASS}]+)")
_WS = re.compile(r"\s+")
_CJK_GAP = re.compile(rf"(?<=[{_CJK_CLASS}])\s+(?=[{_CJK_CLASS}])")


def _segments(norm: str) -> list[tuple[bool, str]]:
    """(is_cjk, text) for every CJK run (whitespace removed) and Latin/digit token, in order."""
    out: list[tuple[bool, str]] = []
    for m in _SEGMENT.finditer(norm):
        cjk = m.group("cjk")
        if cjk is not None:
            out.append((True, _WS.sub("", cjk) if len(cjk) > 1 else cjk))
        else:
            out.append((False, m.group("word")))
    return out


def grams(norm: str) -> list[str]:
    """The recall stream of an already normalised text (see the module docstring)."""
    out: list[str] = []
    for cjk, seg in _segments(norm):
        if cjk:
            out.extend([seg[i : i + 2] for i in range(len(seg) - 1)])
            out.append(seg[-1])
        else:
            out.append(seg)
    return out


_PHONE_GROUPS = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?\d{2,4}(?:[\s.-]\d{2,8}){1,3}(?!\d)")
_NON_DIGIT = re.compile(r"\D")


def phone_variants(norm: str) -> list[str]:
    """Joined forms of digit groups that look like phone numbers (``189-6928-1627``)."""
    out: list[str] = []
    for m in _PHONE_GROUPS.finditer(norm):
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


def add_user_words(names: Iterable[str]) -> None:
    """Teach jieba customer names and aliases so they segment as whole words.

    The records layer calls this at start-up and whenever the customer registry
    changes.  The index keeps each document's token streams, so deleting or
    replacing a document indexed under an older dictionary stays exact.
    """
    _ensure_jieba()
    for name in names:
        n = normalize_text(name).strip()
        if len(n) >= 2:
            jieba.add_word(n, freq=max(jieba.get_FREQ(n) or 0, 20000))


def words(norm: str) -> list[str]:
    """The ranking stream: jieba's multi-character Chinese words + joined phone numbers.

    Latin/digit tokens and single characters are left out: the grams stream
    already holds them as whole tokens, so repeating them would only cost space.
    """
    _ensure_jieba()
    # Line breaks inside Chinese are layout, not word boundaries.
    out = [
        t for t in jieba.cut_for_search(_CJK_GAP.sub("", norm)) if len(t) > 1 and is_cjk(t[0]) and t.isalnum()
    ]
    out.extend(phone_variants(norm))
    return out


@dataclass(frozen=True)
class QueryToken:
    """The analysed form of one query term: a phrase over the grams stream."""

    grams: tuple[str, ...]
    prefix: bool = False  # the last gram is a one-character prefix (a single trailing CJK char)
    word: str | None = None  # the whole term as one token, also looked up in the words column
    alternatives: tuple[str, ...] = ()  # extra single-token forms (joined phone numbers)


def analyse_query_term(term: str) -> QueryToken | None:
    """Analyse one query term (a word or a quoted phrase); None if it has no tokens."""
    norm = normalize_text(term)
    segs = _segments(norm)
    if not segs:
        return None
    toks: list[str] = []
    prefix = False
    last = len(segs) - 1
    for i, (cjk, seg) in enumerate(segs):
        if not cjk:
            toks.append(seg)
            continue
        n = len(seg)
        toks.extend(seg[j : j + 2] for j in range(n - 1))
        if i != last:
            # Something non-CJK follows in the query, so this run ends where a document run ends.
            toks.append(seg[-1])
        elif n == 1:
            toks.append(seg)
            prefix = True
    word = None
    if len(segs) == 1:
        cjk, seg = segs[0]
        if (cjk and len(seg) > 1) or (seg.isdigit() and 10 <= len(seg) <= 12):
            word = seg  # the words column holds multi-char Chinese words and joined phones
    alts = tuple(phone_variants(norm)) if len(segs) > 1 else ()
    return QueryToken(grams=tuple(toks), prefix=prefix, word=word, alternatives=alts)
