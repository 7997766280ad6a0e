"""Who may do what with a document: the one table every entry point asks.

Reading is the index's rule (:func:`index.readable_levels` plus a sales rep's own
confidential documents, :func:`dossier.app.folder.may_read`); the search backends apply it
inside their queries, and every other entry point (document page, page images,
downloads, exports, the API, the CLI's ``--as``) asks :func:`may_read` through
:func:`dossier.app.folder.readable_document`.  This module adds the writes and the
confidentiality a document gets by default.

- **read**: admin and manager everything; finance public, internal and finance documents;
  sales public and internal documents plus the confidential documents of the customers they
  own; viewer public documents only.
- **upload**: everyone but viewers.
- **edit metadata, upload a new version**: admin and manager any document; finance the
  finance documents; sales the documents of the customers they own and those they uploaded.
- **change confidentiality, delete (move to the trash), restore from and purge the trash,
  archive and unarchive**: admin and manager.

Every write needs read access first: a document one may not read answers "not found"
(404) as if it did not exist, never "forbidden".
"""

from __future__ import annotations

from collections.abc import Collection

from index import CONFIDENTIALITY_LEVELS, Principal
from records import Document

__all__ = [
    "CONFIDENTIALITY_LABELS",
    "MANAGE_ROLES",
    "UPLOAD_ROLES",
    "may_archive",
    "may_change_confidentiality",
    "may_delete",
    "may_edit",
    "may_manage_trash",
    "may_upload",
]

#: Roles that read everything and may change confidentiality and delete.
MANAGE_ROLES = ("admin", "manager")
#: Roles that may bring files in (viewers only read).
UPLOAD_ROLES = ("admin", "manager", "finance", "sales")

#: (中文, English) names of the levels, as users see them.
CONFIDENTIALITY_LABELS = {
    "public": ("公开", "public"),
    "internal": ("内部", "internal"),
    "confidential": ("机密", "confidential"),
    "finance": ("财务", "finance"),
}
assert set(CONFIDENTIALITY_LABELS) == set(CONFIDENTIALITY_LEVELS)


def may_upload(principal: Principal) -> bool:
    """Whether ``principal`` may bring new files in."""
    return principal.role in UPLOAD_ROLES


def _doc_customer_ids(doc: Document) -> set[int]:
    ids = {link.customer_id for link in doc.customer_links}
    if doc.customer_id is not None:
        ids.add(doc.customer_id)
    return ids


def may_edit(principal: Principal, doc: Document, owned: Collection[int] | None = None) -> bool:
    """Whether ``principal`` may edit ``doc``'s metadata or add a version (reading it is checked apart).

    ``owned`` defaults to ``principal.owned_customer_ids``.
    """
    if principal.role in MANAGE_ROLES:
        return True
    if principal.role == "finance":
        return doc.confidentiality == "finance"
    if principal.role == "sales":
        owned = principal.owned_customer_ids if owned is None else owned
        if owned and not _doc_customer_ids(doc).isdisjoint(owned):
            return True
        return any(v.uploaded_by == principal.username for v in doc.versions)
    return False


def may_change_confidentiality(principal: Principal) -> bool:
    """Whether ``principal`` may set a document's confidentiality (managers and admins)."""
    return principal.role in MANAGE_ROLES


def may_delete(principal: Principal) -> bool:
    """Whether ``principal`` may delete documents (managers and admins)."""
    return principal.role in MANAGE_ROLES


def may_manage_trash(principal: Principal) -> bool:
    """Whether ``principal`` may restore documents from the trash and purge it (managers and admins)."""
    return principal.role in MANAGE_ROLES


def may_archive(principal: Principal) -> bool:
    """Whether ``principal`` may archive and unarchive documents (managers and admins)."""
    return principal.role in MANAGE_ROLES
