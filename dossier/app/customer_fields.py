"""The fields a sales team steers by: who may edit which customer field, customer tags, and their history.

* A sales rep edits the contacts, stage, tags and notes (:data:`REP_FIELDS`) of the customers
  they own (:func:`dossier.app.folder.owned_customer_ids`); admins and managers edit every field;
  finance and viewers none (:func:`check_edit`).
* Customer tags (客户标签) are short labels: at most :data:`MAX_TAGS`, each at most
  :data:`MAX_TAG_CHARS` characters, trimmed, no duplicates and no list separators inside
  (:func:`clean_tags`).
* Every change of a field in :data:`HISTORY_FIELDS` is kept as a :class:`records.CustomerChange`
  row (who, when, from what to what) that the customer timeline shows (:func:`record_changes`).
* A change of a field in :data:`SEARCH_FIELDS` changes what search filters on (``stage:``,
  ``importance:``, ``ctag:``, ``customer_type:``): the customer's documents are reindexed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from foundation.errors import Forbidden, NotFound, RegistryError
from foundation.messages import msg
from foundation.vocabulary import MAX_STAGE_CHARS
from index import Principal
from records import CustomerChange

__all__ = [
    "EDIT_ALL_ROLES",
    "HISTORY_FIELDS",
    "MAX_TAGS",
    "MAX_TAG_CHARS",
    "REP_FIELDS",
    "SEARCH_FIELDS",
    "check_edit",
    "check_stage",
    "clean_tags",
    "editable_fields",
    "record_changes",
]

#: Roles that edit every field of every customer.
EDIT_ALL_ROLES = ("admin", "manager")
#: What a sales rep edits of the customers they own.
REP_FIELDS = ("contacts", "stage", "tags", "notes")
#: Fields whose every change is kept as a CustomerChange row (the timeline's stage and type changes).
HISTORY_FIELDS = ("stage", "customer_type", "importance", "owner_name")
#: Fields the search index carries for the customer's documents.
SEARCH_FIELDS = ("stage", "importance", "tags", "customer_type")

MAX_TAGS = 20
MAX_TAG_CHARS = 32
#: What separates tags typed as one text (and so may not appear inside one).
TAG_SEPARATORS = re.compile(r"[,，;；/／、|\n]+")
_SPACE = re.compile(r"\s+")


def clean_tags(value: Any) -> list[str]:
    """Customer tags as stored: trimmed, inner spaces kept single, duplicates (any width or case) dropped.

    ``value`` is a list of tags or one text separated by ``, ; / 、``.  Raises
    :class:`RegistryError` (400) saying which tag is wrong and what the limits are.
    """
    if value is None:
        return []
    if isinstance(value, str):
        items: Iterable[Any] = TAG_SEPARATORS.split(value)
    elif isinstance(value, (list, tuple)):
        items = value
    else:
        raise RegistryError(msg("app.customer.tags.not_a_list"))
    out: list[str] = []
    seen: set[str] = set()
    for raw in items:
        if not isinstance(raw, str):
            raise RegistryError(msg("app.customer.tags.not_a_list"))
        tag = _SPACE.sub(" ", raw.strip())
        if not tag:
            continue
        if TAG_SEPARATORS.search(tag):
            raise RegistryError(msg("app.customer.tags.separator", tag=tag[:40]))
        if len(tag) > MAX_TAG_CHARS:
            raise RegistryError(msg("app.customer.tags.too_long", tag=tag[:40], limit=MAX_TAG_CHARS))
        key = unicodedata.normalize("NFKC", tag).casefold()
        if key in seen:
            continue
        seen.add(key)
        out.append(tag)
    if len(out) > MAX_TAGS:
        raise RegistryError(msg("app.customer.tags.too_many", n=len(out), limit=MAX_TAGS))
    return out


def check_stage(value: Any) -> None:
    """Refuse a sales stage longer than :data:`foundation.vocabulary.MAX_STAGE_CHARS` (an edit never cuts one silently)."""
    text = str(value or "").strip()
    if len(text) > MAX_STAGE_CHARS:
        raise RegistryError(msg("app.customer.stage_too_long", n=len(text), limit=MAX_STAGE_CHARS))


def editable_fields(principal: Principal, customer_id: int, owned: Iterable[int]) -> tuple[str, ...] | None:
    """The fields ``principal`` may edit of customer ``customer_id``: None for every field, () for none."""
    if principal.role in EDIT_ALL_ROLES:
        return None
    if principal.role == "sales" and customer_id in set(owned):
        return REP_FIELDS
    return ()


def check_edit(principal: Principal, customer_id: int, owned: Iterable[int], fields: Iterable[str]) -> None:
    """Refuse an edit ``principal`` may not make (403), naming what they may do instead."""
    allowed = editable_fields(principal, customer_id, owned)
    if allowed is None:
        return
    if principal.role != "sales":
        raise Forbidden(msg("app.customer.edit_forbidden"))
    if not allowed:
        raise Forbidden(msg("app.customer.edit_not_owner", id=customer_id))
    other = sorted(set(fields) - set(allowed))
    if other:
        raise Forbidden(msg("app.customer.edit_rep_fields", fields=", ".join(other)))


def missing(customer_id: int) -> NotFound:
    """The one answer for a customer that does not exist (or was rejected)."""
    return NotFound(msg("app.customer.not_found", id=customer_id))


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def record_changes(
    session: Session, customer_id: int, username: str, before: Mapping[str, Any], after: Mapping[str, Any]
) -> list[str]:
    """A CustomerChange row for each :data:`HISTORY_FIELDS` field whose value differs; returns those fields."""
    changed = []
    for name in HISTORY_FIELDS:
        if name not in after:
            continue
        old, new = _text(before.get(name)), _text(after.get(name))
        if old != new:
            session.add(
                CustomerChange(customer_id=customer_id, username=username, field=name, before=old, after=new)
            )
            changed.append(name)
    return changed
