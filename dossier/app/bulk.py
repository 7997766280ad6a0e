"""Bulk edit (批量编辑, ``Dossier.bulk``): one change to many documents — chosen hits, or every hit of a search.

A :class:`BulkChange` sets any of: the document type, tags to add and to remove, the primary
customer (a registry customer), the confidentiality level (managers and admins), and archives or
unarchives.  Activities and comments are never bulk-edited (only documents are selected).

:meth:`BulkEditService.plan` says beforehand what would happen — how many documents change, how
many are already as asked, how many are skipped and why (not found or not readable, no edit right,
archived, a customer a sales rep does not own) — and :meth:`BulkEditService.apply` makes the change
through the single-document paths (:meth:`dossier.app._documents.DocumentService.update`, the
archive), so index, access and audit stay as for one edit: each changed document gets its own
audit event (``metadata_change``, marked ``"bulk": true``; ``permission_change`` when its level
moved; ``archive``/``unarchive`` per family).  Documents are taken in batches of :data:`BATCH`
within one call; a selection holds at most :func:`limit` documents (the export limit, capped
at :data:`dossier.app._archive.MAX_BULK`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from dossier.app import permissions as rights
from dossier.app._archive import MAX_BULK, ArchiveService
from dossier.app._documents import DocumentService
from dossier.app._reminders import find_customer
from dossier.app.folder import may_read
from dossier.app.resources import HomeResources
from dossier.app.search_request import doc_type_code
from foundation.errors import DossierError, Forbidden, NotFound
from foundation.messages import Message, msg
from index import CONFIDENTIALITY_LEVELS, Principal, SearchRequest
from records import Customer, Document

__all__ = [
    "ARCHIVE_ACTIONS",
    "BATCH",
    "SKIP_REASONS",
    "BulkChange",
    "BulkEditService",
    "BulkError",
    "skip_messages",
]

#: Documents read and changed per batch.
BATCH = 200
#: What ``archive`` may ask.
ARCHIVE_ACTIONS = ("archive", "unarchive")
#: Why a selected document is left alone (message ids ``app.bulk.skip.<reason>``).
SKIP_REASONS = ("not_found", "no_edit_right", "archived", "customer_forbidden", "failed")


class BulkError(DossierError):
    """A bulk edit that cannot start: nothing to change, nothing selected, too many, a value that means nothing."""

    status = 400


def _tags(raw: Iterable[str] | str | None) -> tuple[str, ...]:
    if raw is None:
        return ()
    items = raw.replace("，", ",").replace("、", ",").split(",") if isinstance(raw, str) else list(raw)
    return tuple(dict.fromkeys(t.strip()[:64] for t in items if t and t.strip()))


@dataclass(frozen=True)
class BulkChange:
    """What a bulk edit sets; every field left empty leaves that part of the documents alone."""

    doc_type: str | None = None
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    customer_id: int | None = None
    confidentiality: str | None = None
    archive: str | None = None

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> BulkChange:
        """From form or JSON fields: ``doc_type`` (code or label), ``add_tags``/``remove_tags`` (list or
        comma-separated), ``customer_id``, ``confidentiality``, ``archive`` (``archive``/``unarchive``)."""

        def text(name: str) -> str:
            value = values.get(name)
            return str(value).strip() if value is not None else ""

        try:
            doc_type = doc_type_code(text("doc_type")) if text("doc_type") else None
        except DossierError as exc:
            raise BulkError(exc.message) from None
        level = text("confidentiality") or None
        if level is not None and level not in CONFIDENTIALITY_LEVELS:
            raise BulkError(msg("app.document.unknown_confidentiality", value=repr(level[:40])))
        archive = text("archive") or None
        if archive is not None and archive not in ARCHIVE_ACTIONS:
            raise BulkError(msg("app.bulk.bad_archive", value=archive[:40]))
        customer = text("customer_id").lstrip("#")
        if customer and not customer.isdigit():
            raise BulkError(msg("app.search.bad_id", value=customer[:40]))
        change = cls(
            doc_type=doc_type,
            add_tags=_tags(values.get("add_tags")),
            remove_tags=_tags(values.get("remove_tags")),
            customer_id=int(customer) if customer else None,
            confidentiality=level,
            archive=archive,
        )
        if change.empty:
            raise BulkError(msg("app.bulk.nothing_to_change"))
        return change

    @property
    def empty(self) -> bool:
        """Whether it changes nothing at all."""
        return not (
            self.doc_type
            or self.add_tags
            or self.remove_tags
            or self.customer_id
            or self.confidentiality
            or self.archive
        )

    @property
    def edits(self) -> bool:
        """Whether it changes metadata (which takes edit rights), not only level or archive state."""
        return bool(self.doc_type or self.add_tags or self.remove_tags or self.customer_id)

    def as_json(self) -> dict[str, Any]:
        """The change as the API and the audit trail show it."""
        return {
            "doc_type": self.doc_type,
            "add_tags": list(self.add_tags),
            "remove_tags": list(self.remove_tags),
            "customer_id": self.customer_id,
            "confidentiality": self.confidentiality,
            "archive": self.archive,
        }


class BulkEditService:
    """Plan and apply one :class:`BulkChange` to many documents, as the caller."""

    def __init__(
        self, home: HomeResources, documents: DocumentService, archive: ArchiveService, *, max_hits: int = 0
    ) -> None:
        self._home = home
        self._documents = documents
        self._archive = archive
        self._max_hits = max_hits

    def change(self, values: Mapping[str, Any]) -> BulkChange:
        """:meth:`BulkChange.from_values`, with ``customer`` (a registry name, alias or id) as well as ``customer_id``."""
        named = str(values.get("customer") or "").strip()
        if named and not values.get("customer_id"):
            with self._home.sessions() as session:
                try:
                    customer = find_customer(session, named)
                except NotFound as exc:
                    raise BulkError(exc.message) from None
                values = {**values, "customer_id": str(customer.id)}
        return BulkChange.from_values(values)

    def limit(self) -> int:
        """The most documents one bulk edit takes: the export limit when set, never over ``MAX_BULK``."""
        return min(self._max_hits, MAX_BULK) if self._max_hits else MAX_BULK

    # -- what is selected --------------------------------------------------------------------

    def select(
        self, principal: Principal, *, ids: Sequence[int] = (), request: SearchRequest | None = None
    ) -> list[int]:
        """The documents chosen: ``ids`` as given, or every document hit of ``request`` run with the caller's rights."""
        limit = self.limit()
        if request is None:
            chosen = list(dict.fromkeys(int(i) for i in ids if int(i) > 0))
        else:
            self._home.prepare_search()
            chosen = []
            seen: set[int] = set()
            documents_only = replace(request, activities="exclude", versions="current")
            for doc_id in self._home.backend.iter_ids(documents_only, principal, batch=1000):
                if doc_id <= 0 or doc_id in seen:  # an activity's or a superseded version's entry
                    continue
                seen.add(doc_id)
                chosen.append(doc_id)
                if len(chosen) > limit:
                    break
        if not chosen:
            raise BulkError(msg("app.bulk.nothing_selected"))
        if len(chosen) > limit:
            raise BulkError(msg("app.bulk.too_many", n=len(chosen), max=limit))
        return chosen

    # -- plan and apply ----------------------------------------------------------------------

    def plan(self, doc_ids: Sequence[int], change: BulkChange, principal: Principal) -> dict[str, Any]:
        """What :meth:`apply` would do: ``{"total", "change": [ids], "unchanged": [ids], "skipped": [...],
        "counts": {reason: n}}``; each skipped entry is ``{"id", "title", "reason"}`` (the title only of a
        document the caller may read)."""
        self._check_rights(change, principal)
        out: dict[str, Any] = {"total": len(doc_ids), "change": [], "unchanged": [], "skipped": []}
        for start in range(0, len(doc_ids), BATCH):
            with self._home.sessions() as session:
                for doc_id in doc_ids[start : start + BATCH]:
                    doc = session.get(Document, doc_id)
                    verdict = self._verdict(session, doc, change, principal)
                    if verdict == "change":
                        out["change"].append(doc_id)
                    elif verdict == "unchanged":
                        out["unchanged"].append(doc_id)
                    else:
                        readable = verdict != "not_found" and doc is not None
                        title = (doc.title or "") if readable and doc is not None else ""
                        out["skipped"].append({"id": doc_id, "title": title, "reason": verdict})
        return _with_counts(out)

    def apply(self, doc_ids: Sequence[int], change: BulkChange, principal: Principal) -> dict[str, Any]:
        """Make ``change`` on every document of ``doc_ids`` the caller may change (see :meth:`plan`).

        Returns the plan's shape with ``changed`` (ids changed) instead of ``change``; a document
        that fails on its way (changed meanwhile) is skipped with reason ``failed`` and its message.
        """
        planned = self.plan(doc_ids, change, principal)
        result: dict[str, Any] = {
            "total": planned["total"],
            "changed": [],
            "unchanged": planned["unchanged"],
            "skipped": planned["skipped"],
        }
        detail = {"bulk": True}
        for doc_id in planned["change"]:
            try:
                if change.archive == "unarchive":
                    self._archive.unarchive([doc_id], principal, query="bulk")
                if change.edits or change.confidentiality:
                    self._documents.update(
                        doc_id,
                        principal,
                        doc_type=change.doc_type,
                        tags=self._new_tags(doc_id, change),
                        confidentiality=change.confidentiality,
                        customer_id=change.customer_id,
                        audit_detail=detail,
                    )
                if change.archive == "archive":
                    self._archive.archive([doc_id], principal, query="bulk")
            except DossierError as exc:
                result["skipped"].append(
                    {"id": doc_id, "title": "", "reason": "failed", "error": exc.message}
                )
            else:
                result["changed"].append(doc_id)
        return _with_counts(result)

    # -- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _check_rights(change: BulkChange, principal: Principal) -> None:
        if not rights.may_upload(principal):  # viewers only read
            raise Forbidden(msg("app.bulk.forbidden"))
        if change.confidentiality and not rights.may_change_confidentiality(principal):
            raise Forbidden(msg("app.document.confidentiality_forbidden"))
        if change.archive and not rights.may_archive(principal):
            raise Forbidden(msg("app.archive.forbidden"))

    def _verdict(self, session: Any, doc: Document | None, change: BulkChange, principal: Principal) -> str:
        """``change``, ``unchanged`` or the reason ``doc`` is skipped."""
        if doc is None or doc.trashed_at is not None or not may_read(principal, doc):
            return "not_found"
        if change.edits and not rights.may_edit(principal, doc):
            return "no_edit_right"
        if change.customer_id:
            customer = session.get(Customer, change.customer_id)
            if customer is None or customer.status != "confirmed":
                raise NotFound(msg("app.document.customer_not_found", id=change.customer_id))
            if principal.role == "sales" and change.customer_id not in principal.owned_customer_ids:
                return "customer_forbidden"
        archived = doc.archived_at is not None
        wants_edit = change.edits or change.confidentiality
        if archived and wants_edit and change.archive != "unarchive":
            return "archived"
        names = {t.name for t in doc.tags}
        differs = (
            (change.doc_type is not None and change.doc_type != doc.doc_type)
            or any(t not in names for t in change.add_tags)
            or any(t in names for t in change.remove_tags)
            or (change.customer_id is not None and change.customer_id != doc.customer_id)
            or (change.confidentiality is not None and change.confidentiality != doc.confidentiality)
            or (change.archive == "archive" and not archived)
            or (change.archive == "unarchive" and archived)
        )
        return "change" if differs else "unchanged"

    def _new_tags(self, doc_id: int, change: BulkChange) -> list[str] | None:
        if not (change.add_tags or change.remove_tags):
            return None
        with self._home.sessions() as session:
            doc = session.get(Document, doc_id)
            current = [t.name for t in doc.tags] if doc is not None else []
        kept = [t for t in current if t not in change.remove_tags]
        return kept + [t for t in change.add_tags if t not in kept]


def _with_counts(out: dict[str, Any]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for entry in out["skipped"]:
        counts[entry["reason"]] = counts.get(entry["reason"], 0) + 1
    out["counts"] = counts
    return out


def skip_messages() -> dict[str, Message]:
    """Why documents were skipped, for people, by reason."""
    return {
        "not_found": msg("app.bulk.skip.not_found"),
        "no_edit_right": msg("app.bulk.skip.no_edit_right"),
        "archived": msg("app.bulk.skip.archived"),
        "customer_forbidden": msg("app.bulk.skip.customer_forbidden"),
        "failed": msg("app.bulk.skip.failed"),
    }
