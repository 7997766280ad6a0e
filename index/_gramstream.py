"""The grams stream of a text as one string, built with numpy instead of a Python string per token.

:func:`grams_stream` returns exactly ``" ".join(grams + joined)`` of
:func:`index._analysis.grams_and_joined`: the text the embedded index stores in its ``title``, ``meta``
and ``grams`` columns.  The per-token way walks each CJK or Latin run in Python (about 160 runs in a
1,000-character document); here one pass classifies every character through a code-point table and
lays the bigrams, pieces and spaces out as arrays.  A text with a camel-case run (a case cut, which
adds a joined tail) goes the per-token way; a Latin run with letter/digit cuts only (``r750``) is cut
here, its cuts found by :func:`index._analysis.latin_cuts` like there.
"""

from __future__ import annotations

import re

import numpy as np

from index._analysis import (
    _CJK_CLASS,
    _Latin,
    _latin,
    grams_and_joined,
    joined_tail,
    normalize_cased,
    normalize_text,
)

__all__ = ["grams_stream"]

# Character classes, one byte per code point, filled in as characters are first seen (_KNOWN set).
_CJK, _WORD, _SPACE, _DIGIT, _UPPER, _LOWER, _KNOWN = 1, 2, 4, 8, 16, 32, 64
_TABLE = np.zeros(0x110000, dtype=np.uint8)
# The classes of _analysis._SEGMENT, one character at a time: a CJK run joins CJK characters across
# whitespace; a word run is the word characters that are not CJK (underscore excluded).
_CJK_CHAR = re.compile(f"[{_CJK_CLASS}]")
_WORD_CHAR = re.compile(rf"[^\W_{_CJK_CLASS}]")
_SPACE_CHAR = re.compile(r"\s")
_SP = np.uint32(ord(" "))
#: Shorter texts go the per-token way: the arrays cost ~50 µs a text whatever its length, the per-token way
#: ~0.35 µs a character (measured on bench/search.py's documents: even at about 400 characters).
ARRAYS_FROM = 512


def _flags(ch: str) -> int:
    flags = _KNOWN
    if _CJK_CHAR.fullmatch(ch):
        flags |= _CJK
    elif _WORD_CHAR.fullmatch(ch):
        flags |= _WORD
    elif _SPACE_CHAR.fullmatch(ch):
        flags |= _SPACE
    if ch.isdigit():
        flags |= _DIGIT
    if ch.isupper():
        flags |= _UPPER
    if ch.islower():
        flags |= _LOWER
    return flags


def _classes(codes: np.ndarray) -> np.ndarray:
    """The class byte of every code point (characters not seen before are classified and remembered)."""
    cls: np.ndarray = _TABLE[codes]
    if not (cls & _KNOWN).all():
        for cp in np.unique(codes[(cls & _KNOWN) == 0]).tolist():
            _TABLE[cp] = _flags(chr(cp))  # the same byte whichever thread writes it
        cls = _TABLE[codes]
    return cls


def _codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def grams_stream(text: str, normalized: str | None = None) -> str:
    """The grams and joined tail of ``text``, space-separated (``normalized``: :func:`normalize_text` of it)."""
    low = normalize_text(text) if normalized is None else normalized
    if len(low) < ARRAYS_FROM:
        grams, joined = grams_and_joined(text, low)
        return " ".join(grams + joined if joined else grams)
    codes = _codes(low)
    cls = _classes(codes)
    kept = np.flatnonzero(cls & (_CJK | _WORD))
    if not len(kept):
        return ""
    kc = cls[kept]
    cjk = (kc & _CJK) != 0
    # Consecutive kept characters are in one run when both are CJK with only whitespace between them,
    # or both are word characters side by side.
    before, after = kept[:-1], kept[1:]
    nonspace = np.cumsum((cls & _SPACE) == 0)
    same = (cjk[:-1] & cjk[1:] & (nonspace[after] - nonspace[before] == 1)) | (
        ~cjk[:-1] & ~cjk[1:] & (after - before == 1)
    )
    last = np.ones(len(kept), dtype=bool)
    last[:-1] = ~same
    cut_after = np.zeros(len(kept), dtype=bool)
    camel: list[tuple[int, _Latin]] = []  # (kept index of its first character, analysis) of camel-case runs
    words = np.flatnonzero(~cjk)
    if len(words):
        _cut_words(text, low, codes, kept, words, same, last, cut_after, camel)
    pair = cjk & ~last
    ends_token = cjk | last | cut_after
    count = 1 + pair + ends_token
    offsets = np.cumsum(count) - count
    out = np.full(int(offsets[-1] + count[-1]), _SP, dtype=np.uint32)
    out[offsets] = codes[kept]
    out[offsets[pair] + 1] = codes[kept[1:][pair[:-1]]]
    stream = out[:-1].tobytes().decode("utf-32-le", "surrogatepass")
    if not camel:
        return stream
    tokens_before = np.cumsum(ends_token) - ends_token
    spans = [
        (form, int(tokens_before[k]) + a, int(tokens_before[k]) + b)
        for k, latin in camel
        for form, a, b in latin.joined
    ]
    return stream + " " + " ".join(joined_tail(stream.split(" "), spans))


def _cut_words(
    text: str,
    low: str,
    codes: np.ndarray,
    kept: np.ndarray,
    words: np.ndarray,
    same: np.ndarray,
    last: np.ndarray,
    cut_after: np.ndarray,
    camel: list[tuple[int, _Latin]],
) -> None:
    """Mark in ``cut_after`` the letter/digit and case cuts of the word runs (:func:`latin_cuts`, as arrays).

    ``words``: the positions in ``kept`` of the word characters.  A run with a case cut is also analysed
    by :func:`index._analysis._latin` and appended to ``camel`` for its joined forms.
    """
    at = kept[words]
    # The cuts read the cased text; where the source already has the normalised character, that is it.
    if len(low) == len(text) and (codes[at] == _codes(text)[at]).all():
        flags = _TABLE[codes[at]]
        cased = low
    else:
        cased = normalize_cased(text)
        flags = _classes(_codes(cased)[at])
    digit = (flags & _DIGIT) != 0
    upper = (flags & _UPPER) != 0
    lower = (flags & _LOWER) != 0
    first_w = np.ones(len(words), dtype=bool)
    first_w[1:] = ~same[words[1:] - 1]
    last_w = last[words]
    inner = ~first_w[1:]  # a character with a predecessor in its run (positions 1 … of the words)
    next_lower = np.zeros(len(words), dtype=bool)
    next_lower[:-1] = lower[1:]
    digit_cut = inner & (digit[1:] != digit[:-1])
    case_cut = inner & ~digit[1:] & upper[1:] & (lower[:-1] | (upper[:-1] & ~last_w[1:] & next_lower[1:]))
    cut = np.flatnonzero(digit_cut | case_cut)  # a cut before words[i + 1]: after words[i]
    if not len(cut):
        return
    cut_after[words[cut]] = True
    if not case_cut.any():
        return
    run_of = np.cumsum(first_w) - 1  # each word character's run number
    starts = np.flatnonzero(first_w)
    ends = np.append(starts[1:], len(words))
    for r in np.unique(run_of[1:][case_cut]).tolist():
        a, b = int(at[starts[r]]), int(at[ends[r] - 1]) + 1
        camel.append((int(words[starts[r]]), _latin(low[a:b], cased[a:b])))
