"""The customer registry of a data home (``Dossier.customers``): re-extraction, import/export, review, edits.

Every registry change re-analyses the documents it affects (linked to the changed
customers or naming them), through the queue when a worker runs, otherwise at once; an edit
that changes only what the index carries of a customer (stage, importance, tags, type …)
reindexes its documents instead (:meth:`CustomerService._reindex_customer`).  Who may edit
which field is :mod:`dossier.app.customer_fields`'s rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from redis import RedisError as QueueError
from sqlalchemy import select
from sqlalchemy.orm import selectinload

import index
from dossier.app import customer_fields, folder, registry
from foundation.errors import Forbidden
from foundation.messages import msg
from index import Principal, SearchRequest
from pipeline import extraction
from pipeline.indexing import index_customer_activities, index_documents
from records import Customer, Document, DocumentCustomer, Version

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from pipeline.queue import JobQueue

_REVIEW_ROLES = folder.READ_ALL_ROLES
#: Changed fields that change which documents name the customer: those documents are re-analysed.
_REEXTRACT_FIELDS = frozenset({"name", "aliases", "credit_code", "status"})
#: Changed fields the index carries for the customer's documents: those are reindexed.
_INDEXED_FIELDS = frozenset({*customer_fields.SEARCH_FIELDS, "industry", "region"})

#: What building a document's index entry reads, loaded in one go per batch.
INDEX_LOADS = (
    selectinload(Document.pages),
    selectinload(Document.versions).selectinload(Version.pages),
    selectinload(Document.tags),
    selectinload(Document.customer),
    selectinload(Document.customer_links).selectinload(DocumentCustomer.customer),
    selectinload(Document.entities),
    selectinload(Document.children).selectinload(Document.pages),
    selectinload(Document.included),
    selectinload(Document.access_customers),
)


def document_batches(
    sessions: sessionmaker[Session], ids: Sequence[int], batch: int
) -> Iterator[tuple[Session, Sequence[Document]]]:
    """The documents of ``ids`` in batches, each with what indexing reads, in a session of its own."""
    for start in range(0, len(ids), batch):
        with sessions() as session:
            docs = session.scalars(
                select(Document).where(Document.id.in_(ids[start : start + batch])).options(*INDEX_LOADS)
            ).all()
            yield session, docs


class CustomerService:
    """The customer registry of one data home: import and export, review, edits, and re-extraction.

    ``queue`` returns the job queue (None while Redis cannot be reached): a registry change
    re-analyses the documents it affects through it when it answers.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        backend: index.SearchBackend,
        queue: Callable[[], JobQueue | None],
    ) -> None:
        self._sessions = sessions
        self._backend = backend
        self._queue = queue

    def reextract(
        self,
        ids: Iterable[int] | None = None,
        *,
        batch: int = 100,
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, int]:
        """Run the extraction step again on stored text (no parsing, no OCR) and reindex.

        Entities, document date and type (unless chosen at intake) and automatic customer
        links are rebuilt from the current extractor and registry.  ``ids`` None means every
        document that has text.  Returns counts: documents, type changes, link changes.
        """
        with self._sessions() as session:
            query = (
                select(Document.id)
                .where(Document.status.in_(("indexed", "awaiting_ocr")))
                .order_by(Document.id)
            )
            if ids is not None:
                query = query.where(Document.id.in_(sorted(set(ids))))
            all_ids = list(session.scalars(query))
        counts = {"documents": 0, "types_changed": 0, "links_changed": 0}
        for session, docs in document_batches(self._sessions, all_ids, batch):
            for doc in docs:
                before = (doc.doc_type, [link.customer_id for link in doc.customer_links])
                extraction.SHARED.apply_safely(session, doc, ocr_text=any(p.ocr for p in doc.pages))
                counts["types_changed"] += doc.doc_type != before[0]
                counts["links_changed"] += [link.customer_id for link in doc.customer_links] != before[1]
            index_documents(session, self._backend, docs)
            session.commit()
            counts["documents"] += len(docs)
            if progress is not None:
                progress(counts["documents"], len(all_ids))
        return counts

    # -- the customer registry ---------------------------------------------------------------

    def import_registry(self, path: str | Path, *, actor: str = "system") -> dict[str, Any]:
        """Import a registry file (JSON/CSV/XLSX) and re-analyse the documents it affects.

        Suggestions the registry now names are merged into their customers, owner names are
        linked to accounts, and one ``customer_import`` audit event by ``actor`` records it.
        """
        with self._sessions() as session:
            report = registry.import_customers(
                session, registry.read_rows(Path(path)), actor=actor, source=Path(path).name
            )
        extraction.SHARED.forget()
        out = report.as_json()
        out["reanalysed"] = self._reanalyse(set(report.touched), report.changed_names, report.document_ids)
        return out

    def intake_customer(self, name: str | None) -> dict[str, Any] | None:
        """How a customer name given at intake will be filed (nothing is created); None for no name.

        ``{"name", "outcome", "customer", "candidates", "message"}``: ``outcome`` as
        :class:`pipeline.extraction.NamedCustomer` says, ``customer`` the registered name it
        resolves to, ``message`` what to tell the person (中文 / English) or None.
        """
        if not name or not name.strip():
            return None
        with self._sessions() as session:
            named = extraction.SHARED.named_customer(session, name, create=False)
            return {
                "name": named.name,
                "outcome": named.outcome,
                "customer": named.customer.name if named.customer is not None else None,
                "candidates": list(named.candidates),
                "message": named.message,
            }

    def registered_names(self, limit: int = 5000) -> list[tuple[str, str]]:
        """``(name, full name)`` of every confirmed customer's full name and aliases, by name (what intake fields offer)."""
        with self._sessions() as session:
            rows = session.execute(
                select(Customer.name, Customer.aliases).where(Customer.status == "confirmed")
            ).all()
        pairs = {(str(a), str(full)) for full, aliases in rows for a in [full, *(aliases or [])] if a}
        return sorted(pairs)[:limit]

    def export_registry(self, path: str | Path) -> int:
        """Write the registry (confirmed customers and our own company) as CSV, XLSX or JSON."""
        with self._sessions() as session:
            return registry.export_customers(session, Path(path))

    def update(self, customer_id: int, fields: dict[str, Any], principal: Principal) -> dict[str, Any]:
        """Edit a customer's registry fields; its documents follow (re-analysed or reindexed).

        Admins and managers edit every field; a sales rep the contacts, stage, tags and notes of
        the customers they own (:mod:`dossier.app.customer_fields`); anyone else, another field or
        another rep's customer is refused (403) with what they may do.  Returns ``{"id", "name",
        "status", "warnings", "changed", "reanalysed"}``; a bad value raises a 400 error that says
        which and why.
        """
        with self._sessions() as session:
            found = session.get(Customer, customer_id)
            if found is None or found.status == "rejected":
                raise customer_fields.missing(customer_id)
            owned = folder.owned_customer_ids(session, principal)
            customer_fields.check_edit(principal, customer_id, owned, fields)
            customer, new_names, warnings, changed = registry.update_customer(
                session, customer_id, fields, actor=principal.username
            )
            result: dict[str, Any] = {
                "id": customer.id,
                "name": customer.name,
                "status": customer.status,
                "warnings": warnings,  # Messages: the web shows them in its reader's language
                "changed": sorted(changed),
            }
        if new_names or changed & (_REEXTRACT_FIELDS | _INDEXED_FIELDS):
            self._reindex_activities({customer_id})  # their entries carry the customer's names and fields
        if new_names or changed & _REEXTRACT_FIELDS:
            extraction.SHARED.forget()
            result["reanalysed"] = self._reanalyse({customer_id}, new_names)
        elif changed & _INDEXED_FIELDS:
            result["reanalysed"] = self._reindex_customer({customer_id})
        else:
            result["reanalysed"] = 0
        return result

    def _reindex_customer(self, customer_ids: set[int]) -> int:
        """Reindex what search holds of customers whose indexed fields changed (stage, importance, tags, type …).

        The one place a customer field change reaches the index: their documents' entries,
        through the queue when one answers, else here.  Returns how many documents.
        """
        if not customer_ids:
            return 0
        wanted = sorted(customer_ids)
        with self._sessions() as session:
            ids = set(
                session.scalars(
                    select(DocumentCustomer.document_id).where(DocumentCustomer.customer_id.in_(wanted))
                )
            )
            ids.update(session.scalars(select(Document.id).where(Document.customer_id.in_(wanted))))
        if not ids:
            return 0
        queue = self._queue()
        if queue is not None:
            try:
                queue.enqueue_reindex(sorted(ids))
                return len(ids)
            except QueueError:
                pass
        for session, docs in document_batches(self._sessions, sorted(ids), 200):
            index_documents(session, self._backend, docs)
            session.commit()
        return len(ids)

    def _reindex_activities(self, customer_ids: set[int]) -> int:
        """Reindex the activities and comments of ``customer_ids`` here (a few thousand at most per customer)."""
        with self._sessions() as session:
            done = index_customer_activities(session, self._backend, customer_ids)
            session.commit()
        return done

    def confirm(self, customer_id: int, principal: Principal) -> dict[str, Any]:
        """Make a suggested customer a confirmed one (admin, manager)."""
        return self._review(customer_id, "confirm", principal)

    def reject(self, customer_id: int, principal: Principal) -> dict[str, Any]:
        """Reject a suggestion: it is unlinked and never suggested again (admin, manager)."""
        return self._review(customer_id, "reject", principal)

    def merge(self, customer_id: int, into_id: int, principal: Principal) -> dict[str, Any]:
        """Merge a (suggested) customer into a confirmed one, keeping its name as an alias (admin, manager).

        The result also says ``"action": "merge"`` and ``"into": {"id", "name"}``.
        """
        return self._review(customer_id, "merge", principal, into_id)

    def _review(
        self, customer_id: int, action: str, principal: Principal, into_id: int | None = None
    ) -> dict[str, Any]:
        if principal.role not in _REVIEW_ROLES:
            raise Forbidden(msg("app.customer.review_forbidden"))
        with self._sessions() as session:
            done = registry.review(session, customer_id, action, into_id, actor=principal.username)
            names = set(done.customer.names)
            result: dict[str, Any] = {
                "id": done.customer.id,
                "name": done.customer.name,
                "status": done.customer.status,
                "action": action,
            }
            if done.into is not None:
                result["into"] = {"id": done.into.id, "name": done.into.name}
                # The merged customer's activities now belong to the surviving one: reindexed with its fields.
                index_customer_activities(session, self._backend, [done.into.id])
                session.commit()
        extraction.SHARED.forget()
        result["reanalysed"] = self._reanalyse(done.customer_ids, names, done.document_ids)
        return result

    def _reanalyse(self, customer_ids: set[int], names: set[str], document_ids: Iterable[int] = ()) -> int:
        """Re-extract the documents a registry change affects: linked to those customers or naming them.

        Registry names feed jieba's dictionary, so those documents' index entries change too.
        Through the queue when one answers, else here.  Returns how many documents.
        """
        if names:
            index.add_user_words(sorted(names))
        ids: set[int] = set(document_ids)
        with self._sessions() as session:
            if customer_ids:
                ids.update(
                    session.scalars(
                        select(DocumentCustomer.document_id).where(
                            DocumentCustomer.customer_id.in_(customer_ids)
                        )
                    )
                )
        for name in sorted(names):
            if len(name) < 2:
                continue
            quoted = '"' + name.replace('"', " ") + '"'
            offset = 0
            while True:
                result = self._backend.search(
                    SearchRequest(quoted, offset=offset, limit=1000, facets=False, activities="exclude"),
                    Principal.system(),
                )
                ids.update(h.id for h in result.hits if h.id > 0)
                offset += len(result.hits)
                if not result.hits or offset >= result.total:
                    break
        if not ids:
            return 0
        queue = self._queue()
        if queue is not None:
            try:
                queue.enqueue_reextract(sorted(ids))
                return len(ids)
            except QueueError:
                pass
        self.reextract(sorted(ids))
        return len(ids)
