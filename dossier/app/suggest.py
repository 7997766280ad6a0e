"""Autocomplete: customers (full names, short names, aliases) and tags that a user may see.

:func:`suggest` answers one typed fragment for one field:

* ``customer`` — confirmed registry customers whose full name or an alias contains the fragment
  (the customer list shows every confirmed customer to every signed-in user, so these leak
  nothing; suggested and rejected customers are never offered).  The value to insert is always
  the full name; ``match`` is the name or alias that matched (a short name shows as itself).
* ``tag`` — document tags carried by at least one document the user may read (the reading rule
  of :func:`dossier.app.folder.readable_clause`, trash excluded): a tag only on a confidential
  document the user may not read is never offered, so its existence does not leak.
* ``ctag`` — customer tags (``Customer.tags``) of confirmed customers (shown on the customer list).
* ``search`` — the search box: customers and tags together, ranked together (customers first
  within a rank).

Ranking: an exact match first, then a prefix match, then a substring match; within each, the
shorter text first, then by text.  Text is compared after NFKC and case folding.

Pinyin: a fragment of three or more ASCII letters (any case) also matches a customer whose full
name, short name or an alias reads as it in pinyin — the start of the full pinyin or of the
initials from any character of the name on (``guanghua``, ``guanghuawu``, ``ghwl`` and ``huawu``
all offer 光华物流; :func:`index.pinyin_match`).  Such a match ranks after every written match
(rank 3: from the name's first character, 4: from inside it), and is offered under the same
rule as the others: confirmed customers only.  Tags are not matched by pinyin.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, exists, func, select
from sqlalchemy.orm import Session

from dossier.app import folder
from foundation.errors import DossierError
from foundation.messages import msg
from foundation.variants import fold_variants
from index import Principal, pinyin_match
from records import Customer, Document, Tag

__all__ = ["FIELDS", "MAX_LIMIT", "MAX_QUERY", "BadSuggestRequest", "Suggestion", "suggest"]

#: The fields that take suggestions.
FIELDS = ("customer", "tag", "ctag", "search")
#: At most this many suggestions per answer.
MAX_LIMIT = 20
#: A longer fragment is refused (nothing that long is a name being typed).
MAX_QUERY = 64
#: Tag names checked for a readable document, best ranked first (further substring matches are dropped).
_TAG_CANDIDATES = 25


class BadSuggestRequest(DossierError):
    """An unknown field, or a fragment too long to be typed into a name field."""

    status = 400


@dataclass(frozen=True)
class Suggestion:
    """One suggestion: ``value`` is what goes into the field, ``match`` the text that matched."""

    value: str
    match: str
    kind: str  # "name", "alias", "tag" or "ctag"
    customer_id: int | None = None
    rank: int = 2  # 0 exact, 1 prefix, 2 substring, 3 pinyin from the start, 4 pinyin from inside

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "match": self.match, "kind": self.kind}
        if self.customer_id is not None:
            out["customer_id"] = self.customer_id
        return out


def fold(text: str) -> str:
    """Text as suggestions compare it: NFKC, case-folded, trimmed."""
    return unicodedata.normalize("NFKC", text).casefold().strip()


def _rank(text: str, needle: str) -> int | None:
    """0 exact, 1 prefix, 2 substring, None no match (both folded)."""
    if text == needle:
        return 0
    if text.startswith(needle):
        return 1
    if needle in text:
        return 2
    return None


def _pinyin_rank(text: str, needle: str) -> int | None:
    """3 when ``text`` reads as ``needle`` in pinyin from its start, 4 from inside it, None not (see the module doc)."""
    found = pinyin_match(text, needle)
    return None if found is None else 3 + found


def _customers(session: Session, needle: str, limit: int) -> list[Suggestion]:
    rows = session.execute(
        select(Customer.id, Customer.name, Customer.aliases).where(Customer.status == "confirmed")
    ).all()
    pinyin = len(needle) >= 3 and needle.isascii() and needle.isalpha()
    best: dict[int, tuple[tuple[int, int, int, str], Suggestion]] = {}
    needle = fold_variants(needle)  # 光華 suggests 光华物流 (names only: tags are matched in SQL as typed)
    for cid, name, aliases in rows:
        for position, text in enumerate([name, *(aliases or [])]):
            text = str(text or "").strip()
            rank = _rank(fold_variants(fold(text)), needle) if text else None
            if rank is None and pinyin and text:
                rank = _pinyin_rank(text, needle)
            if rank is None:
                continue
            # The full name before an alias of the same rank; then the shorter text.
            key = (rank, 0 if position == 0 else 1, len(text), text)
            kind = "name" if position == 0 else "alias"
            if cid not in best or key < best[cid][0]:
                best[cid] = (
                    key,
                    Suggestion(value=name, match=text, kind=kind, customer_id=int(cid), rank=rank),
                )
    ranked = sorted(best.values(), key=lambda pair: (pair[0][0], pair[0][2], pair[0][1], pair[1].value))
    return [s for _, s in ranked[:limit]]


def _escape(needle: str) -> str:
    """``needle`` for a LIKE pattern with ``\\`` as the escape character."""
    return needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _tags(session: Session, principal: Principal, needle: str, limit: int) -> list[Suggestion]:
    """Tags on a document ``principal`` may read, best first.

    The candidates come from the tag names in rank order (at most :data:`_TAG_CANDIDATES`); each is
    then checked for one readable document, stopping once ``limit`` are found, so a fragment that
    names many tags costs a bounded number of look-ups.
    """
    owned = folder.owned_customer_ids(session, principal)
    document_tags: Any = Document.__mapper__.relationships["tags"].secondary
    lowered = func.lower(Tag.name)
    escaped = _escape(needle)
    rank = case((lowered == needle, 0), (lowered.like(f"{escaped}%", escape="\\"), 1), else_=2)
    candidates = session.execute(
        select(Tag.id, Tag.name, rank)
        .where(lowered.like(f"%{escaped}%", escape="\\"))
        .order_by(rank, func.length(Tag.name), Tag.name)
        .limit(_TAG_CANDIDATES)
    ).all()
    readable = folder.readable_clause(principal, owned)
    found: list[tuple[tuple[int, int, str], str]] = []
    for tag_id, name, _sql_rank in candidates:
        listed = select(document_tags.c.document_id).join(
            Document, Document.id == document_tags.c.document_id
        )
        if session.scalar(select(exists(listed.where(document_tags.c.tag_id == tag_id, readable)))):
            text_rank = _rank(fold(name), needle)
            if text_rank is not None:
                found.append(((text_rank, len(name), name), name))
            if len(found) >= limit:
                break
    found.sort()
    return [Suggestion(value=name, match=name, kind="tag", rank=key[0]) for key, name in found]


def _customer_tags(session: Session, needle: str, limit: int) -> list[Suggestion]:
    rows = session.scalars(select(Customer.tags).where(Customer.status == "confirmed")).all()
    names = {str(t).strip() for tags in rows for t in (tags or []) if str(t).strip()}
    return _ranked_plain(names, needle, "ctag", limit)


def _ranked_plain(names: Any, needle: str, kind: str, limit: int) -> list[Suggestion]:
    scored = []
    for name in set(names):
        rank = _rank(fold(name), needle)
        if rank is not None:
            scored.append(((rank, len(name), name), name))
    scored.sort()
    return [Suggestion(value=name, match=name, kind=kind, rank=key[0]) for key, name in scored[:limit]]


def suggest(
    session: Session, principal: Principal, field: str, query: str, limit: int = 10
) -> list[Suggestion]:
    """Suggestions for ``query`` typed into a ``field`` (one of :data:`FIELDS`), best first.

    An empty fragment has no suggestions; ``limit`` is clamped to 1..:data:`MAX_LIMIT`.  An
    unknown field or a fragment over :data:`MAX_QUERY` characters raises
    :class:`BadSuggestRequest`.
    """
    if field not in FIELDS:
        raise BadSuggestRequest(msg("app.suggest.bad_field", field=field[:32], fields=", ".join(FIELDS)))
    if len(query) > MAX_QUERY:
        raise BadSuggestRequest(msg("app.suggest.too_long", n=MAX_QUERY))
    needle = fold(query)
    if not needle:
        return []
    limit = max(1, min(int(limit), MAX_LIMIT))
    if field == "customer":
        return _customers(session, needle, limit)
    if field == "tag":
        return _tags(session, principal, needle, limit)
    if field == "ctag":
        return _customer_tags(session, needle, limit)
    both = _customers(session, needle, limit) + _tags(session, principal, needle, limit)
    return sorted(both, key=lambda s: s.rank)[:limit]  # stable: customers first within a rank
