"""Did you mean: corrected queries offered when a search finds (almost) nothing.

A search whose query finds at most :data:`SUGGEST_AT_MOST` hits gets up to :data:`MAX_SUGGESTIONS`
corrected queries (the ``suggestions`` of :meth:`~dossier.app._reading.ReadingService.search`, so
of the search page, ``/api/search`` and ``dossier search --json``).  The query's own results are
never changed: a correction is only offered, as a link to its own search.

Where corrections come from:

* **the customer registry** — a run of up to :data:`MAX_SPAN` adjacent words of the query that is
  one wrong, missing or extra character (Levenshtein distance 1) from a confirmed customer's full
  name or alias (short name), compared without case, width, spaces and punctuation (光华物留 →
  光华物流, ``Pacfic Rim`` → ``Pacific Rim``, ``pacificrim`` → ``Pacific Rim``); names of fewer than
  three characters (Latin: four) match only exactly that way;
* **the index vocabulary** — for one word, the words of the index one edit away (a Latin word of
  six letters or more: two), :meth:`index.SearchBackend.similar_words`.

Only plain words are corrected: not field filters (``customer:…``), exclusions (``-…``), ``OR`` or
phrases of several words; a word in quotes stays in quotes.  When a query has several mistyped
parts, their best corrections are also tried together.

**Rights.**  A correction is offered only when the corrected query, run *as the user* with the
same filters, finds at least one hit and more than the query did (a count, no page).  The
registry's names are those of confirmed customers, which the customer list shows every signed-in
user; the vocabulary holds words of every document, so a word reaches a user only through a hit
the user may read (in a query with ``OR``, each corrected part must also find a hit on its own, as
an ``OR`` could find the hit through another word).  So no suggestion names a customer or a word
of a document the user may not read.

**Bounds.**  At most :data:`MAX_WORDS` words are looked at, :data:`MAX_CHECKS` corrected queries
run, and no further word is looked up nor query checked after :data:`TIME_BUDGET_S` (the first of
each always is, so a loaded machine still answers the common case of one mistyped word); queries
the search refuses (too long, only punctuation) get none, as they raise before this runs.  A
query finding nothing typically spends 10–30 ms here on 100,000 documents (``bench/typos.py``).
"""

from __future__ import annotations

import dataclasses
import re
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from sqlalchemy import select

from dossier.app.resources import HomeResources
from foundation.errors import DossierError
from index import Principal, SearchRequest
from records import Customer

__all__ = [
    "MAX_CHECKS",
    "MAX_SUGGESTIONS",
    "MAX_WORDS",
    "SUGGEST_AT_MOST",
    "TIME_BUDGET_S",
    "suggestions",
]

#: A query finding at most this many hits gets suggestions ("finds nothing or very little").
SUGGEST_AT_MOST = 2
#: At most this many suggestions.
MAX_SUGGESTIONS = 3
#: Words of a query looked at (the first ones); tokens scanned for them.
MAX_WORDS = 4
MAX_TOKENS = 64
#: A customer name may stand for up to this many adjacent words (``Pacfic Rim``: two).
MAX_SPAN = 4
#: Corrected queries run (counts) per search, and the time after which no more are run.
MAX_CHECKS = 6
TIME_BUDGET_S = 0.3
#: Longest word (characters) corrected.
MAX_WORD = 32
#: Corrections per word (vocabulary) or per span (registry) kept before checking.
_PER_PLACE = 3

_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "「": '"', "」": '"', "『": '"', "』": '"', "＂": '"'})
_TOKEN = re.compile(r"\S+")
_FIELD_MARKS = (":", "：")


@dataclass(frozen=True)
class _Word:
    """A plain word of the query: where it stands (token number, characters), as typed, and whether quoted."""

    token: int
    start: int
    end: int
    text: str
    quoted: bool


@dataclass(frozen=True)
class _Correction:
    """Words ``first``…``last`` (indexes into the query's words) read as ``text``."""

    first: int
    last: int
    text: str
    kind: str  # "customer" or "word"
    distance: int
    customer_id: int | None = None


def _fold(text: str) -> str:
    """Text as names compare: NFKC, case-folded, letters and digits only (no spaces or punctuation)."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())


def _plain(text: str) -> bool:
    """A word worth correcting: letters (and digits) only, at most :data:`MAX_WORD` characters."""
    return 0 < len(text) <= MAX_WORD and all(ch.isalnum() for ch in unicodedata.normalize("NFKC", text))


def _words(query: str) -> tuple[list[_Word], bool]:
    """(the query's plain words, at most :data:`MAX_WORDS`; whether it has an ``OR``)."""
    text = query.translate(_QUOTES)
    found: list[_Word] = []
    for n, token in enumerate(_TOKEN.finditer(text)):
        if n >= MAX_TOKENS or len(found) >= MAX_WORDS:
            break
        raw = token.group()
        if raw == "OR":
            continue
        quoted = len(raw) > 2 and raw[0] == raw[-1] == '"'
        inner = raw[1:-1] if quoted else raw
        if raw.startswith(("-", "－")) or any(m in inner for m in _FIELD_MARKS) or '"' in inner:
            continue
        if _plain(inner):
            found.append(_Word(n, token.start(), token.end(), inner, quoted))
    return found, "OR" in text.split()


def _spans(words: Sequence[_Word]) -> list[tuple[int, int]]:
    """(first, last) of each run of up to :data:`MAX_SPAN` adjacent words (no other token between them)."""
    out = []
    for first in range(len(words)):
        for last in range(first, min(len(words), first + MAX_SPAN)):
            if last > first and words[last].token != words[last - 1].token + 1:
                break
            if last > first and (words[first].quoted or words[last].quoted):
                break  # a quoted word is a phrase of its own
            out.append((first, last))
    return out


def _allowed_edits(key: str) -> int:
    """Edits a name match may make: one for three CJK characters or four Latin ones and up, else none."""
    if len(key) >= 4 or (len(key) >= 3 and not key.isascii()):
        return 1
    return 0


def _customer_corrections(home: HomeResources, words: Sequence[_Word]) -> list[_Correction]:
    """Registry names (full names, aliases) within one edit of a run of the query's words."""
    with home.sessions() as session:
        rows = session.execute(
            select(Customer.id, Customer.name, Customer.aliases).where(Customer.status == "confirmed")
        ).all()
    names: dict[str, tuple[str, int]] = {}
    for cid, name, aliases in rows:
        for text in (name, *(aliases or ())):
            text = str(text or "").strip()
            key = _fold(text)
            if 2 <= len(key) <= 4 * MAX_WORD and '"' not in text:
                names.setdefault(key, (text, int(cid)))
    if not names:
        return []
    keys = list(names)
    out = []
    for first, last in _spans(words):
        typed = " ".join(w.text for w in words[first : last + 1])
        key = _fold(typed)
        edits = _allowed_edits(key)
        found = process.extract(key, keys, scorer=Levenshtein.distance, score_cutoff=edits, limit=_PER_PLACE)
        for match, distance, _ in found:
            text, cid = names[match]
            if text != typed and _allowed_edits(match) >= distance:
                out.append(_Correction(first, last, text, "customer", int(distance), cid))
    return out


def _word_corrections(home: HomeResources, words: Sequence[_Word], deadline: float) -> list[_Correction]:
    """Words of the index near each of the query's words (the backend's vocabulary)."""
    out: list[_Correction] = []
    for i, word in enumerate(words):
        if i and time.perf_counter() > deadline:  # the first word always: a slow machine still gets an answer
            break
        try:
            similar = home.backend.similar_words(word.text, _PER_PLACE)
        except DossierError:  # the engine is away: no suggestions rather than no search
            return out
        typed = _fold(word.text)
        out.extend(
            _Correction(i, i, _cased(text, word.text), "word", int(Levenshtein.distance(typed, text)))
            for text in similar
        )
    return out


def _cased(word: str, typed: str) -> str:
    """A Latin ``word`` of the index (lower case) in the case ``typed`` was: Pacfic -> Pacific, INVOCE -> INVOICE."""
    plain = unicodedata.normalize("NFKC", typed)
    if not word.isascii() or not plain.isascii():
        return word
    if plain.isupper() and len(plain) > 1:
        return word.upper()
    if plain[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def _replacement(correction: _Correction, words: Sequence[_Word]) -> str | None:
    """The text put in place of the corrected words (quoted as they were, or when it would read as syntax)."""
    text = correction.text
    quoted = words[correction.first].quoted
    parts = text.split()
    needs = any(m in text for m in _FIELD_MARKS) or any(p == "OR" or p.startswith("-") for p in parts)
    if '"' in text:
        return None
    return f'"{text}"' if quoted or needs else text


def _rewritten(query: str, words: Sequence[_Word], chosen: Sequence[_Correction]) -> str | None:
    """``query`` with each chosen correction in place (from the end, so earlier offsets hold)."""
    text = query.translate(_QUOTES)
    for correction in sorted(chosen, key=lambda c: -c.first):
        replacement = _replacement(correction, words)
        if replacement is None:
            return None
        start, end = words[correction.first].start, words[correction.last].end
        text = text[:start] + replacement + text[end:]
    return " ".join(text.split())


def _candidates(
    query: str, words: Sequence[_Word], corrections: list[_Correction]
) -> list[list[_Correction]]:
    """Sets of corrections to try, best first: all mistyped parts corrected together, then one at a time."""
    ranked = sorted(
        corrections,
        key=lambda c: (c.distance, 0 if c.kind == "customer" else 1, -(c.last - c.first), c.first, c.text),
    )
    together: list[_Correction] = []
    for c in ranked:
        if all(c.last < o.first or c.first > o.last for o in together):
            together.append(c)
    out = [together] if len(together) > 1 else []
    out.extend([c] for c in ranked)
    return out


def _count(home: HomeResources, request: SearchRequest, principal: Principal, query: str) -> int:
    """How many hits ``query`` finds as ``principal`` with the request's filters (no page, no facets)."""
    counted = dataclasses.replace(request, query=query, offset=0, limit=0, facets=False, sort="date_desc")
    try:
        return home.backend.search(counted, principal).total
    except DossierError:  # a correction the search refuses, or the engine is away
        return 0


def suggestions(
    home: HomeResources, request: SearchRequest, principal: Principal, total: int
) -> list[dict[str, Any]]:
    """Corrected queries for ``request`` (which found ``total`` hits as ``principal``), best first.

    Each is ``{"query", "total", "corrections": [{"typed", "suggested", "kind", "customer_id"?}]}``:
    the whole corrected query (search it to follow the suggestion), how many hits it finds for the
    user, and what was changed (``kind`` ``customer`` for a registry name, ``word`` for a word of
    the index).  Empty when the query found more than :data:`SUGGEST_AT_MOST` hits or nothing
    could be corrected; see the module docstring for the rules.
    """
    query = request.query.strip()
    if total > SUGGEST_AT_MOST or not query:
        return []
    deadline = time.perf_counter() + TIME_BUDGET_S
    words, has_or = _words(query)
    if not words:
        return []
    corrections = _customer_corrections(home, words) + _word_corrections(home, words, deadline)
    out: list[dict[str, Any]] = []
    seen = {" ".join(query.split()).casefold()}
    checks = 0
    for chosen in _candidates(query, words, corrections):
        if len(out) >= MAX_SUGGESTIONS or checks >= MAX_CHECKS or (checks and time.perf_counter() > deadline):
            break
        rewritten = _rewritten(query, words, chosen)
        if rewritten is None or rewritten.casefold() in seen:
            continue
        seen.add(rewritten.casefold())
        checks += 1
        found = _count(home, request, principal, rewritten)
        if found <= max(total, 0):
            continue
        if has_or and any(_count(home, request, principal, _replacement(c, words) or "") < 1 for c in chosen):
            continue
        out.append(
            {
                "query": rewritten,
                "total": found,
                "corrections": [_described(c, words) for c in chosen],
            }
        )
    return out


def _described(correction: _Correction, words: Sequence[_Word]) -> dict[str, Any]:
    typed = " ".join(w.text for w in words[correction.first : correction.last + 1])
    out: dict[str, Any] = {"typed": typed, "suggested": correction.text, "kind": correction.kind}
    if correction.customer_id is not None:
        out["customer_id"] = correction.customer_id
    return out
