"""Retention and destruction (保留与销毁, ``Dossier.retention``): rules, legal holds, the destruction queue.

**Rules** cover documents by type and/or by their primary customer's type, counted from a date
(``doc_date``: the document's own date, falling back to its intake; ``created_at``: its intake).
A rule archives what is due and proposes for destruction what is due.  Where several enabled
rules cover a document the longest retention wins: the latest archive date of those that
archive, the latest destruction date of those that destroy (a rule without a destruction period
does not stop another's).  Parts (attachments, archive members) follow their container and are
never covered on their own.

**Legal hold** (法律保留) on a document, on a container of it or on a customer it is linked to
stops every rule and blocks approval and execution of its destruction (:func:`held`).

**Two people.**  A proposal (by a rule, ``proposed_by="retention:<rule>"``, or by hand by a
manager) is approved by a manager or admin who is not its proposer: for a rule's proposal the
approver is the second person (the rule's author was the first); for a proposal by hand the
approver must be someone else.  Approved → ``destroying`` → :func:`erase_documents` →
``destroyed``; the destruction certificate is the audit event ``destruction`` (what, sha256,
when, proposer, approver, rule).  A destruction interrupted in ``destroying`` (or approved but
not started) is finished by the workers' next housekeeping round, the next :meth:`RetentionService.run`
or approval; those waiting are erased together, so the database is compacted once for all of them.

Each state change is one conditional UPDATE (``WHERE status = …``), so two workers or a
worker and the CLI never do the same step twice; a proposal takes a write lock on its document
row first, so a document never gets two open proposals.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from dossier.app import permissions as rights
from dossier.app._erasure import erase_documents, family_ids, held
from dossier.app.search_request import doc_type_code
from foundation.errors import DossierError, Forbidden, NotFound
from foundation.messages import msg
from foundation.vocabulary import customer_type_name
from index import Principal
from pipeline.indexing import INDEXED_STATUSES, index_documents
from records import Customer, Destruction, Document, DocumentPart, RetentionRule, record_event, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from dossier.app.resources import HomeResources

__all__ = ["BASES", "OPEN_STATUSES", "RetentionError", "RetentionService", "format_days", "parse_duration"]

#: Dates a rule may count from.
BASES = ("doc_date", "created_at")
#: Destruction states in which the document is still waiting for its end.
OPEN_STATUSES = ("proposed", "approved", "destroying")
#: Who archives for a rule (``archived_by``) and the prefix of a rule's proposals.
RETENTION_USER = "retention"
_DURATION = re.compile(r"\s*(\d{1,4})\s*([ymd])\s*", re.IGNORECASE)
_UNIT_DAYS = {"y": 365, "m": 30, "d": 1}


class RetentionError(DossierError):
    """A rule, a proposal or a decision that cannot be made as asked (the message says what to do)."""

    status = 400


#: Longest period a rule may name (200 years).
MAX_DAYS = 200 * 365


def parse_duration(text: str) -> int:
    """Days in ``30y``, ``6m`` or ``90d`` (a year is 365 days, a month 30; at most 200 years); DossierError otherwise."""
    match = _DURATION.fullmatch(text or "")
    if match is None or int(match.group(1)) == 0:
        raise RetentionError(msg("app.retention.bad_duration", value=repr(text)))
    days = int(match.group(1)) * _UNIT_DAYS[match.group(2).lower()]
    if days > MAX_DAYS:  # a date that far on is past what dates can hold: the daily run would fail
        raise RetentionError(msg("app.retention.too_long", value=repr(text), years=MAX_DAYS // 365))
    return days


def format_days(days: int | None) -> str:
    """``30y``/``6m``/``90d`` for a number of days (the form :func:`parse_duration` reads); ``""`` for None."""
    if days is None:
        return ""
    for unit in ("y", "m"):
        if days % _UNIT_DAYS[unit] == 0:
            return f"{days // _UNIT_DAYS[unit]}{unit}"
    return f"{days}d"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def _basis_date(doc: Document, basis: str) -> date:
    """The date a rule counts from: the document's date (when it has a valid one and the rule says so), else intake."""
    if basis == "doc_date" and doc.doc_date:
        try:
            return date.fromisoformat(doc.doc_date)
        except ValueError:
            pass
    return doc.created_at.date()


def _covers(rule: RetentionRule, doc: Document) -> bool:
    if rule.doc_type and doc.doc_type != rule.doc_type:
        return False
    if rule.customer_type:
        return doc.customer is not None and doc.customer.customer_type == rule.customer_type
    return True


def _files(session: Session, doc_id: int) -> list[dict[str, Any]]:
    """``[{document_id, filename, sha256}]`` of every version of the document and of its parts."""
    docs = session.scalars(select(Document).where(Document.id.in_(family_ids(session, [doc_id])))).all()
    return [
        {"document_id": d.id, "filename": v.filename, "sha256": v.sha256} for d in docs for v in d.versions
    ]


def _family_held(session: Session, doc: Document) -> bool:
    """A hold on the document, a container, a linked customer, or on any of its parts."""
    ids = family_ids(session, [doc.id])
    return any(held(session, d) for d in session.scalars(select(Document).where(Document.id.in_(ids))))


class RetentionService:
    """Retention rules, legal holds and the destruction queue of one data home (see the module docstring)."""

    def __init__(self, home: HomeResources) -> None:
        self._home = home

    # -- rules ---------------------------------------------------------------------------------

    def rules(self) -> list[dict[str, Any]]:
        """Every rule, oldest first."""
        with self._home.sessions() as session:
            return [
                self._rule_view(r) for r in session.scalars(select(RetentionRule).order_by(RetentionRule.id))
            ]

    @staticmethod
    def _rule_view(rule: RetentionRule) -> dict[str, Any]:
        return {
            "id": rule.id,
            "name": rule.name,
            "doc_type": rule.doc_type,
            "customer_type": rule.customer_type,
            "basis": rule.basis,
            "archive_after_days": rule.archive_after_days,
            "destroy_after_days": rule.destroy_after_days,
            "archive_after": format_days(rule.archive_after_days),
            "destroy_after": format_days(rule.destroy_after_days),
            "enabled": rule.enabled,
            "created_by": rule.created_by,
            "created_at": _iso(rule.created_at),
        }

    def add_rule(
        self,
        principal: Principal,
        *,
        name: str,
        doc_type: str | None = None,
        customer_type: str | None = None,
        basis: str = "doc_date",
        archive_after: str | None = None,
        destroy_after: str | None = None,
    ) -> dict[str, Any]:
        """Add a rule (managers and admins); every value is checked and refused with what to write instead."""
        _require_manager(principal)
        name = (name or "").strip()
        if not name:
            raise RetentionError(msg("app.retention.rule_name_missing"))
        try:
            doc_type = doc_type_code(doc_type.strip()) if doc_type and doc_type.strip() else None
        except DossierError as exc:
            raise RetentionError(exc.msg or exc.message) from None
        folded = None
        if (customer_type or "").strip():
            folded = customer_type_name(customer_type or "")
            if folded is None:
                raise RetentionError(msg("app.retention.unknown_customer_type", value=repr(customer_type)))
        if basis not in BASES:
            raise RetentionError(msg("app.retention.unknown_basis", value=repr(basis)))
        archive_days = parse_duration(archive_after) if archive_after and archive_after.strip() else None
        destroy_days = parse_duration(destroy_after) if destroy_after and destroy_after.strip() else None
        if archive_days is None and destroy_days is None:
            raise RetentionError(msg("app.retention.rule_does_nothing"))
        if archive_days is not None and destroy_days is not None and destroy_days < archive_days:
            raise RetentionError(
                msg("app.retention.destroy_before_archive", archive=archive_after, destroy=destroy_after)
            )
        with self._home.sessions() as session:
            if session.scalar(select(RetentionRule.id).where(RetentionRule.name == name)) is not None:
                raise RetentionError(msg("app.retention.rule_exists", name=name))
            rule = RetentionRule(
                name=name,
                doc_type=doc_type,
                customer_type=folded,
                basis=basis,
                archive_after_days=archive_days,
                destroy_after_days=destroy_days,
                created_by=principal.username,
            )
            session.add(rule)
            session.flush()
            view = self._rule_view(rule)
            record_event(
                session, principal.username, "retention_rule_add", target_type="retention_rule",
                target_id=rule.id, detail={k: v for k, v in view.items() if k not in ("created_at",)},
            )  # fmt: skip
            session.commit()
            return view

    def remove_rule(self, rule_id: int, principal: Principal) -> dict[str, Any]:
        """Remove a rule (managers and admins); its open proposals stay in the queue for people to decide."""
        _require_manager(principal)
        with self._home.sessions() as session:
            rule = session.get(RetentionRule, rule_id)
            if rule is None:
                raise NotFound(msg("app.retention.no_rule", id=rule_id))
            view = self._rule_view(rule)
            session.delete(rule)
            record_event(
                session, principal.username, "retention_rule_remove", target_type="retention_rule",
                target_id=rule_id, detail={"name": view["name"]},
            )  # fmt: skip
            session.commit()
            return view

    # -- legal holds ---------------------------------------------------------------------------

    def set_hold(
        self,
        principal: Principal,
        *,
        document_id: int | None = None,
        customer: str | int | None = None,
        reason: str | None = None,
        hold: bool = True,
    ) -> dict[str, Any]:
        """Set (or, with ``hold=False``, release) a legal hold on a document or a customer (by id or name)."""
        _require_manager(principal)
        action = "legal_hold" if hold else "legal_hold_release"
        reason = _reason(reason)
        with self._home.sessions() as session:
            target: Document | Customer | None
            if document_id is not None:
                target = session.get(Document, document_id)
                if target is None:
                    raise NotFound(msg("app.retention.no_document", id=document_id))
                kind, label = "document", target.title
            else:
                target = _find_customer(session, customer)
                kind, label = "customer", target.name
            target.legal_hold = hold
            target.legal_hold_reason = reason if hold else None
            record_event(
                session, principal.username, action, target_type=kind, target_id=target.id,
                detail={"name": label, "reason": reason},
            )  # fmt: skip
            session.commit()
            return {
                "type": kind,
                "id": target.id,
                "name": label,
                "legal_hold": hold,
                "reason": target.legal_hold_reason,
            }

    def holds(self) -> list[dict[str, Any]]:
        """Every document and customer under a legal hold."""
        with self._home.sessions() as session:
            docs = session.scalars(
                select(Document).where(Document.legal_hold.is_(True)).order_by(Document.id)
            )
            found = [
                {"type": "document", "id": d.id, "name": d.title, "reason": d.legal_hold_reason} for d in docs
            ]
            customers = session.scalars(
                select(Customer).where(Customer.legal_hold.is_(True)).order_by(Customer.id)
            )
            found += [
                {"type": "customer", "id": c.id, "name": c.name, "reason": c.legal_hold_reason}
                for c in customers
            ]
            return found

    def is_held(self, doc_id: int) -> bool:
        """Whether a legal hold applies to the document (see :func:`held`)."""
        with self._home.sessions() as session:
            doc = session.get(Document, doc_id)
            return doc is not None and held(session, doc)

    # -- the queue -----------------------------------------------------------------------------

    def queue(self, *, status: str | None = None) -> list[dict[str, Any]]:
        """Destructions, the open ones first (newest first within each state)."""
        with self._home.sessions() as session:
            query = select(Destruction).order_by(Destruction.id.desc())
            if status:
                query = query.where(Destruction.status == status)
            rows = list(session.scalars(query))
            rank = {s: i for i, s in enumerate(OPEN_STATUSES)}
            rows.sort(key=lambda r: rank.get(r.status, len(rank)))
            return [self._view(session, r) for r in rows]

    def _view(self, session: Session, row: Destruction) -> dict[str, Any]:
        doc = session.get(Document, row.document_id)
        rule = session.get(RetentionRule, row.rule_id) if row.rule_id is not None else None
        return {
            "id": row.id,
            "document_id": row.document_id,
            "title": row.title,
            "files": row.files,
            "status": row.status,
            "reason": row.reason,
            "rule_id": row.rule_id,
            "rule": rule.name if rule is not None else None,
            "proposed_by": row.proposed_by,
            "proposed_at": _iso(row.proposed_at),
            "decided_by": row.decided_by,
            "decided_at": _iso(row.decided_at),
            "destroyed_at": _iso(row.destroyed_at),
            "held": doc is not None and _family_held(session, doc),
        }

    def propose(self, doc_id: int, principal: Principal, reason: str | None = None) -> dict[str, Any]:
        """Propose a document (with its parts) for destruction by hand (managers and admins)."""
        _require_manager(principal)
        created = self._propose(doc_id, principal.username, None, _reason(reason), by_hand=True)
        return created

    def _propose(
        self, doc_id: int, proposer: str, rule: RetentionRule | None, reason: str | None, *, by_hand: bool
    ) -> dict[str, Any]:
        with self._home.sessions() as session:
            # The first statement writes: it locks the row (PostgreSQL) or the database (SQLite), so two runs
            # proposing the same document at once are one after the other, and the second sees the first's row.
            session.execute(
                update(Document).where(Document.id == doc_id).values(updated_at=Document.updated_at)
            )
            doc = session.get(Document, doc_id)
            if doc is None:
                raise NotFound(msg("app.retention.no_document", id=doc_id))
            if doc.parent_id is not None:
                raise RetentionError(msg("app.retention.part_of", id=doc_id, parent=doc.parent_id))
            container = session.scalar(
                select(DocumentPart.container_id).where(DocumentPart.part_id == doc_id)
            )
            if container is not None:
                raise RetentionError(msg("app.retention.included_in", id=doc_id, container=container))
            if _family_held(session, doc):
                raise Forbidden(msg("app.retention.held", id=doc_id))
            open_row = session.scalar(
                select(Destruction).where(
                    Destruction.document_id == doc_id, Destruction.status.in_(OPEN_STATUSES)
                )
            )
            if open_row is not None:
                if by_hand:
                    raise RetentionError(
                        msg("app.retention.already_proposed", id=doc_id, destruction=open_row.id)
                    )
                return self._view(session, open_row)
            row = Destruction(
                document_id=doc_id,
                rule_id=rule.id if rule is not None else None,
                title=doc.title,
                files=_files(session, doc_id),
                status="proposed",
                reason=reason,
                proposed_by=proposer,
            )
            session.add(row)
            session.flush()
            record_event(
                session, proposer, "destruction_propose", target_type="document", target_id=doc_id,
                detail={"destruction": row.id, "title": doc.title, "rule": rule.name if rule else None, "reason": reason},
            )  # fmt: skip
            session.commit()
            return self._view(session, row)

    def approve(self, destruction_id: int, principal: Principal, *, now: bool = False) -> dict[str, Any]:
        """Approve a proposed destruction (a manager or admin other than the proposer), then have it carried out.

        With the job queue reachable the workers carry it out within a housekeeping round (the
        erasure compacts the database, which may take minutes in a large home: not in a web
        request); without one, or with ``now`` (the CLI), it is carried out here and now.  The
        answer's ``status`` says which: ``approved`` (the workers will) or ``destroyed``.
        """
        _require_manager(principal)
        with self._home.sessions() as session:
            row = session.get(Destruction, destruction_id)
            if row is None:
                raise NotFound(msg("app.retention.no_destruction", id=destruction_id))
            if row.status != "proposed":
                raise RetentionError(msg("app.retention.not_proposed", id=destruction_id, status=row.status))
            if row.proposed_by == principal.username:
                raise Forbidden(msg("app.retention.same_person", id=destruction_id))
            doc = session.get(Document, row.document_id)
            if doc is not None and _family_held(session, doc):
                raise Forbidden(msg("app.retention.held", id=row.document_id))
            won = session.execute(
                update(Destruction)
                .where(Destruction.id == destruction_id, Destruction.status == "proposed")
                .values(status="approved", decided_by=principal.username, decided_at=utcnow())
            )
            if getattr(won, "rowcount", 0) != 1:
                raise RetentionError(msg("app.retention.not_proposed", id=destruction_id, status="approved"))
            record_event(
                session, principal.username, "destruction_approve", target_type="document",
                target_id=row.document_id, detail={"destruction": destruction_id, "title": row.title},
            )  # fmt: skip
            session.commit()
        if now or self._home.queue() is None:  # asked to, or no workers to hand it to
            self._carry_out(destruction_id)
        with self._home.sessions() as session:
            return self._view(session, session.get(Destruction, destruction_id))  # type: ignore[arg-type]

    def reject(self, destruction_id: int, principal: Principal, reason: str | None = None) -> dict[str, Any]:
        """Reject a proposal (a manager or admin); the proposer withdrawing their own cancels it."""
        _require_manager(principal)
        with self._home.sessions() as session:
            row = session.get(Destruction, destruction_id)
            if row is None:
                raise NotFound(msg("app.retention.no_destruction", id=destruction_id))
            if row.status not in ("proposed", "approved"):
                raise RetentionError(msg("app.retention.not_proposed", id=destruction_id, status=row.status))
            status = "cancelled" if row.proposed_by == principal.username else "rejected"
            won = session.execute(
                update(Destruction)
                .where(Destruction.id == destruction_id, Destruction.status == row.status)
                .values(
                    status=status,
                    decided_by=principal.username,
                    decided_at=utcnow(),
                    reason=_reason(reason) or row.reason,
                )
            )
            if getattr(won, "rowcount", 0) != 1:
                raise RetentionError(msg("app.retention.not_proposed", id=destruction_id, status="?"))
            record_event(
                session, principal.username, "destruction_reject", target_type="document",
                target_id=row.document_id, detail={"destruction": destruction_id, "title": row.title, "reason": _reason(reason)},
            )  # fmt: skip
            session.commit()
            session.refresh(row)
            return self._view(session, row)

    # -- carrying out --------------------------------------------------------------------------

    def _carry_out(self, destruction_id: int) -> str:
        """Carry out one approved (or interrupted) destruction; returns the state it ended in."""
        done = self._carry_out_all([destruction_id])
        if destruction_id in done:
            return "destroyed"
        with self._home.sessions() as session:
            row = session.get(Destruction, destruction_id)
            return "gone" if row is None else row.status

    def _carry_out_all(self, destruction_ids: Sequence[int]) -> list[int]:
        """approved → destroying → erased → destroyed (each with its certificate), all in ONE erasure.

        One :func:`erase_documents` call for every document, so the database is compacted once
        however many are destroyed.  A hold that appeared after an approval stops that one before it
        starts (it stays approved).  Returns the ids that ended destroyed.
        """
        started: list[tuple[int, int, list[str]]] = []  # (destruction, document, sha256 of its files)
        with self._home.sessions() as session:
            for destruction_id in destruction_ids:
                row = session.get(Destruction, destruction_id)
                if row is None:
                    continue
                if row.status == "approved":
                    doc = session.get(Document, row.document_id)
                    if doc is not None and _family_held(session, doc):
                        continue
                    session.execute(
                        update(Destruction)
                        .where(Destruction.id == destruction_id, Destruction.status == "approved")
                        .values(status="destroying")
                    )
                    session.commit()
                    session.refresh(row)
                if row.status != "destroying":
                    continue
                if session.get(Document, row.document_id) is not None:  # versions added since: name them too
                    known = {(f["document_id"], f["sha256"]) for f in row.files}
                    row.files = row.files + [
                        f
                        for f in _files(session, row.document_id)
                        if (f["document_id"], f["sha256"]) not in known
                    ]
                    session.commit()
                started.append((row.id, row.document_id, [f["sha256"] for f in row.files]))
        if not started:
            return []
        erase_documents(
            self._home,
            [document for _, document, _ in started],
            digests=[d for *_, ds in started for d in ds],
        )
        done: list[int] = []
        with self._home.sessions() as session:
            for destruction_id, _, _ in started:
                now = utcnow()
                won = session.execute(
                    update(Destruction)
                    .where(Destruction.id == destruction_id, Destruction.status == "destroying")
                    .values(status="destroyed", destroyed_at=now)
                )
                if getattr(won, "rowcount", 0) != 1:
                    continue
                row = session.get(Destruction, destruction_id)
                assert row is not None
                rule = session.get(RetentionRule, row.rule_id) if row.rule_id is not None else None
                files = list(row.files)
                record_event(
                    session, RETENTION_USER, "destruction", target_type="document", target_id=row.document_id,
                    detail={
                        "destruction": row.id,
                        "document_id": row.document_id,
                        "title": row.title,
                        "files": [{"filename": f["filename"], "sha256": f["sha256"]} for f in files],
                        "proposed_by": row.proposed_by,
                        "proposed_at": _iso(row.proposed_at),
                        "approved_by": row.decided_by,
                        "approved_at": _iso(row.decided_at),
                        "destroyed_at": _iso(now),
                        "rule": rule.name if rule is not None else None,
                    },
                )  # fmt: skip
                done.append(row.id)
            session.commit()
        return done

    def pending(self) -> int:
        """How many destructions are approved or interrupted (waiting for :meth:`finish_pending`)."""
        with self._home.sessions() as session:
            return len(
                session.scalars(
                    select(Destruction.id).where(Destruction.status.in_(("approved", "destroying")))
                ).all()
            )

    def finish_pending(self) -> list[int]:
        """Carry out every approved destruction and finish every interrupted one, in one erasure; returns their ids."""
        with self._home.sessions() as session:
            ids = list(
                session.scalars(
                    select(Destruction.id)
                    .where(Destruction.status.in_(("approved", "destroying")))
                    .order_by(Destruction.id)
                )
            )
        return self._carry_out_all(ids) if ids else []

    # -- the daily run -------------------------------------------------------------------------

    def due(
        self, now: datetime | None = None
    ) -> tuple[list[tuple[Document, RetentionRule]], list[tuple[Document, RetentionRule]]]:
        """(documents to archive, documents to propose), each with the rule that makes it due (detached)."""
        today = (now or utcnow()).date()
        to_archive: list[tuple[Document, RetentionRule]] = []
        to_propose: list[tuple[Document, RetentionRule]] = []
        with self._home.sessions() as session:
            rules = list(session.scalars(select(RetentionRule).where(RetentionRule.enabled.is_(True))))
            if not rules:
                return [], []
            open_ids = set(
                session.scalars(select(Destruction.document_id).where(Destruction.status.in_(OPEN_STATUSES)))
            )
            query = (
                select(Document)
                .where(
                    Document.parent_id.is_(None),
                    Document.trashed_at.is_(None),
                    Document.legal_hold.is_(False),
                )
                .options(selectinload(Document.customer), selectinload(Document.customer_links))
            )
            if all(r.doc_type for r in rules):  # only the types some rule names
                query = query.where(Document.doc_type.in_({r.doc_type for r in rules}))
            candidates = session.scalars(query)
            for doc in candidates:
                covering = [r for r in rules if _covers(r, doc)]
                if not covering or held(session, doc):
                    continue
                archive = _latest(doc, covering, "archive_after_days")
                destroy = _latest(doc, covering, "destroy_after_days")
                if archive is not None and doc.archived_at is None and archive[0] <= today:
                    to_archive.append((doc, archive[1]))
                due = destroy is not None and doc.id not in open_ids and destroy[0] <= today
                if destroy is not None and due and not _family_held(session, doc):
                    to_propose.append((doc, destroy[1]))
            session.expunge_all()
        return to_archive, to_propose

    def run(self, now: datetime | None = None) -> dict[str, Any]:
        """The daily run: archive what is due, propose what is due for destruction, finish approved destructions.

        Returns ``{"archived": [ids], "proposed": [destruction ids], "destroyed": [destruction ids]}``.
        """
        to_archive, to_propose = self.due(now)
        archived = self._archive([(d.id, r.name) for d, r in to_archive])
        proposed = []
        for doc, rule in to_propose:
            try:
                row = self._propose(doc.id, f"{RETENTION_USER}:{rule.name}"[:64], rule, None, by_hand=False)
            except (NotFound, Forbidden, DossierError):
                continue  # gone, held or made a part meanwhile: the next run looks again
            if row["status"] == "proposed" and row["proposed_by"].startswith(RETENTION_USER):
                proposed.append(row["id"])
        destroyed = self.finish_pending()
        return {"archived": archived, "proposed": sorted(set(proposed)), "destroyed": destroyed}

    def _archive(self, due: Sequence[tuple[int, str]]) -> list[int]:
        done: list[int] = []
        with self._home.sessions() as session:
            for doc_id, rule_name in due:
                won = session.execute(
                    update(Document)
                    .where(
                        Document.id == doc_id, Document.archived_at.is_(None), Document.trashed_at.is_(None)
                    )
                    .values(archived_at=utcnow(), archived_by=RETENTION_USER)
                )
                if getattr(won, "rowcount", 0) != 1:
                    continue
                done.append(doc_id)
                record_event(
                    session, RETENTION_USER, "retention_archive", target_type="document", target_id=doc_id,
                    detail={"rule": rule_name},
                )  # fmt: skip
            session.flush()
            docs = session.scalars(select(Document).where(Document.id.in_(done))).all() if done else []
            index_documents(session, self._home.backend, [d for d in docs if d.status in INDEXED_STATUSES])
            session.commit()
        return done


def _latest(doc: Document, rules: Sequence[RetentionRule], period: str) -> tuple[date, RetentionRule] | None:
    """The latest date (and its rule) the ``period`` of ``rules`` gives ``doc``: the longest retention wins."""
    found: tuple[date, RetentionRule] | None = None
    for rule in rules:
        days = getattr(rule, period)
        if days is None:
            continue
        when = _basis_date(doc, rule.basis) + timedelta(days=days)
        if found is None or when > found[0]:
            found = (when, rule)
    return found


#: Longest reason kept for a proposal, a rejection or a legal hold (a longer one is cut).
MAX_REASON = 500


def _reason(text: str | None) -> str | None:
    """A reason as stored: stripped, cut to :data:`MAX_REASON` characters, None when empty."""
    return (text or "").strip()[:MAX_REASON] or None


def _require_manager(principal: Principal) -> None:
    if principal.role not in rights.MANAGE_ROLES:
        raise Forbidden(msg("app.retention.forbidden"))


def _find_customer(session: Session, customer: str | int | None) -> Customer:
    found: Customer | None = None
    if isinstance(customer, int) or (isinstance(customer, str) and customer.strip().isdigit()):
        found = session.get(Customer, int(customer))
    if found is None and isinstance(customer, str) and customer.strip():
        found = session.scalar(select(Customer).where(Customer.name == customer.strip()))
    if found is None:
        raise NotFound(msg("app.retention.no_customer", name=repr(customer)))
    return found
