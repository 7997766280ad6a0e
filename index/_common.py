"""What every backend shares about a document: who may read it, its metadata text, its validity."""

from __future__ import annotations

from foundation.errors import DossierError
from foundation.messages import msg
from index._types import ACCESS_LEVELS, IndexDocument, Principal

__all__ = [
    "META_SEP",
    "BackendUnavailable",
    "InvalidDocument",
    "check_document",
    "meta_text",
    "readable_levels",
]

META_SEP = " | "  # punctuation, so CJK runs of two fields never fuse


class BackendUnavailable(DossierError):
    """The configured search backend cannot be used."""

    status = 503


class InvalidDocument(DossierError):
    """A document handed to the index has a value the index cannot store."""

    status = 422


def readable_levels(principal: Principal) -> frozenset[str]:
    """Confidentiality levels ``principal`` may read in every document.

    Sales may also read ``confidential`` documents of the customers they own;
    that part depends on the document, so each backend adds it in its query.  Only admins
    and managers read ``restricted`` entries (containers of confidential and finance parts).
    """
    role = principal.role
    if role in ("admin", "manager"):
        return frozenset(ACCESS_LEVELS)
    if role == "finance":
        return frozenset({"public", "internal", "finance"})
    if role == "sales":
        return frozenset({"public", "internal"})
    return frozenset({"public"})


def check_document(doc: IndexDocument) -> None:
    """Raise :class:`InvalidDocument` for a value no backend can store."""
    if doc.confidentiality not in ACCESS_LEVELS:
        raise InvalidDocument(msg("index.document.confidentiality", level=repr(doc.confidentiality)))


def meta_text(doc: IndexDocument) -> str:
    """The searchable metadata of a document as one text: file name, customers, aliases, tags, entities."""
    return META_SEP.join(
        dict.fromkeys(
            x for x in (doc.filename, *doc.customers, *doc.customer_aliases, *doc.tags, *doc.extra) if x
        )
    )
