"""Suggested customers: a reviewer confirms, rejects or merges them; a registry import folds them.

- **Confirm** makes a suggestion a customer.  **Reject** makes it ``rejected`` (kept so it is
  never suggested again) and unlinks it from every document — also from documents a person
  filed under it at intake.  **Merge** moves its documents to a confirmed customer and keeps its
  names as that customer's aliases (future documents naming it link there); the merged row
  stays as ``rejected``.
- **Folding** (:func:`fold_suggestions`, after a registry import): a suggestion whose name is
  now a registered customer's name, short name or alias — or is similar by the linker's fuzzy
  rule — is merged into it; one that names our own company (the ``self`` row) is folded into
  it instead: its name becomes an alias of ours (so the linker recognises it and never
  suggests it again) and its documents lose that link, since we are never a customer.  Any
  document still linked to our own company (a suggestion the import itself turned into the
  ``self`` row, a name given at intake) loses that link too.

Every act writes its audit event in the caller's transaction (``customer_confirm``,
``customer_reject``, ``customer_merge``; folding is part of the import's ``customer_import``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from dossier.app._registry_audit import bounded
from foundation.errors import NotFound, RegistryError
from foundation.messages import msg, stored_within
from pipeline.extraction import KEPT_METHODS, SHARED, name_key
from records import Activity, Customer, Document, DocumentCustomer, record_event

__all__ = ["Reviewed", "fold_suggestions", "review", "unlink_ours"]


@dataclass
class Reviewed:
    """What a review did: the customer, the merge target, the customers and documents to re-analyse."""

    customer: Customer
    action: str
    into: Customer | None = None
    customer_ids: set[int] = field(default_factory=set)
    document_ids: set[int] = field(default_factory=set)


def _new_aliases(target: Customer, names: list[str]) -> list[str]:
    """``names`` that ``target`` does not already carry (compared as the linker compares names)."""
    have = {name_key(n) for n in target.names}
    out: list[str] = []
    for name in names:
        key = name_key(name)
        if key and key not in have:
            have.add(key)
            out.append(name)
    return out


def _linked_documents(session: Session, customer: Customer) -> set[int]:
    ids = set(
        session.scalars(
            select(DocumentCustomer.document_id).where(DocumentCustomer.customer_id == customer.id)
        )
    )
    ids.update(session.scalars(select(Document.id).where(Document.customer_id == customer.id)))
    return ids


def _unlink(session: Session, customer: Customer) -> set[int]:
    """Remove every document link to ``customer`` (and it as a primary customer); returns those documents."""
    session.flush()
    ids = _linked_documents(session, customer)
    if not ids:
        return ids
    session.execute(delete(DocumentCustomer).where(DocumentCustomer.customer_id == customer.id))
    session.execute(update(Document).where(Document.customer_id == customer.id).values(customer_id=None))
    session.expire_all()
    return ids


def merge(session: Session, customer: Customer, target: Customer, *, by_person: bool) -> dict[str, Any]:
    """Move ``customer``'s documents to ``target``, keep its names as aliases there, mark it rejected.

    A link a person chose (given at intake, a manual merge) stays such a link; an automatic one
    becomes ``manual`` when a person merges, or an ``alias`` link when an import folds it (the
    next extraction decides again).  Returns the audit particulars.
    """
    before_aliases = list(target.aliases or [])
    added = _new_aliases(target, customer.names)
    target.aliases = [*before_aliases, *added]
    moved = 0
    for link in session.scalars(
        select(DocumentCustomer).where(DocumentCustomer.customer_id == customer.id)
    ).all():
        if session.get(DocumentCustomer, (link.document_id, target.id)) is None:
            method = link.method if link.method in KEPT_METHODS else ("manual" if by_person else "alias")
            said = (
                msg("app.customer.merged_evidence", name=customer.name)
                if by_person
                else msg("app.customer.folded_evidence", name=customer.name)
            )
            evidence = stored_within(said, 500)
            session.add(
                DocumentCustomer(
                    document_id=link.document_id,
                    customer_id=target.id,
                    method=method,
                    score=1.0 if method in KEPT_METHODS else float(link.score or 0.85),
                    evidence=evidence,
                    position=link.position,
                )
            )
            moved += 1
        session.delete(link)
    for doc in session.scalars(select(Document).where(Document.customer_id == customer.id)):
        doc.customer_id = target.id
    # Activities and comments go to the surviving customer too (the caller reindexes them).
    moved_activities = list(session.scalars(select(Activity).where(Activity.customer_id == customer.id)))
    for activity in moved_activities:
        activity.customer_id = target.id
    activities = len(moved_activities)
    status = customer.status
    customer.status = "rejected"
    session.flush()
    return {
        "name": customer.name,
        "into": target.name,
        "into_id": target.id,
        "documents": moved,
        "activities": int(activities or 0),
        "changed": {"status": [status, "rejected"]},
        "into_changed": {"aliases": [bounded(before_aliases), bounded(list(target.aliases))]}
        if added
        else {},
    }


def _fold_into_self(session: Session, customer: Customer, ours: Customer) -> dict[str, Any]:
    """A suggestion that names our own company: its names become our aliases, its links go."""
    before_aliases = list(ours.aliases or [])
    added = _new_aliases(ours, customer.names)
    ours.aliases = [*before_aliases, *added]
    documents = _unlink(session, customer)
    status = customer.status
    customer.status = "rejected"
    session.flush()
    return {
        "name": customer.name,
        "into": ours.name,
        "into_id": ours.id,
        "self": True,
        "documents": len(documents),
        "document_ids": sorted(documents),
        "changed": {"status": [status, "rejected"]},
    }


def fold_suggestions(session: Session) -> list[dict[str, Any]]:
    """Merge every suggestion the registry now names into that customer (ours: fold it into the self row).

    Runs in the caller's transaction after the registry changed (flushed).  Returns one entry
    per folded suggestion: ``{"id", "name", "into", "into_id", "documents", "self"?}``.
    """
    SHARED.forget()  # the registry changed in this transaction
    plans: list[tuple[Customer, Customer, str]] = []  # decided on one state of the registry, then carried out
    for suggestion in session.scalars(
        select(Customer).where(Customer.status == "suggested").order_by(Customer.id)
    ).all():
        match = SHARED.registered(session, suggestion.name, trade=False)
        target = session.get(Customer, match.customer_id) if match.customer_id is not None else None
        if target is not None and target.status in ("confirmed", "self"):
            plans.append((suggestion, target, match.how))
    folded: list[dict[str, Any]] = []
    for suggestion, target, how in plans:
        suggestion_id = suggestion.id
        if target.status == "self":
            detail = _fold_into_self(session, suggestion, target)
        else:
            detail = merge(session, suggestion, target, by_person=False)
        folded.append({"id": suggestion_id, "how": how, **detail})
    SHARED.forget()
    return folded


def unlink_ours(session: Session) -> set[int]:
    """Unlink our own company from every document (we are never a customer); returns those documents.

    Such links remain when an import turns a suggestion itself into the ``self`` row, or when
    our name was given at intake before the registry knew it.
    """
    documents: set[int] = set()
    for ours in session.scalars(select(Customer).where(Customer.status == "self")).all():
        documents |= _unlink(session, ours)
    return documents


def review(
    session: Session, customer_id: int, action: str, into_id: int | None = None, *, actor: str = "system"
) -> Reviewed:
    """Confirm, reject or merge a customer (usually a suggestion), audit it and commit."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(msg("app.customer.not_found", id=customer_id))
    done = Reviewed(customer, action, customer_ids={customer.id})
    before = customer.status
    if action == "confirm":
        customer.status = "confirmed"
        detail: dict[str, Any] = {"name": customer.name, "changed": {"status": [before, "confirmed"]}}
    elif action == "reject":
        done.document_ids = _unlink(session, customer)
        customer.status = "rejected"
        detail = {
            "name": customer.name,
            "changed": {"status": [before, "rejected"]},
            "documents_unlinked": len(done.document_ids),
        }
    elif action == "merge":
        target = session.get(Customer, into_id) if into_id is not None else None
        if target is None or target.id == customer.id or target.status in ("rejected", "suggested"):
            raise RegistryError(msg("app.customer.merge_target"))
        done.document_ids = _linked_documents(session, customer)
        if target.status == "self":  # "this is us": our names grow, the documents lose the link
            detail = _fold_into_self(session, customer, target)
        else:
            detail = merge(session, customer, target, by_person=True)
        done.into = target
        done.customer_ids.add(target.id)
    else:
        raise RegistryError(msg("app.customer.unknown_action", action=action))
    record_event(
        session, actor, f"customer_{action}", target_type="customer", target_id=customer.id, detail=detail
    )
    session.commit()
    return done
