"""The extraction step: entities, document date and type, and customer links of a stored document.

It reads the stored page texts only, so ``dossier reextract`` repeats it after a registry
change or a better extractor without parsing or OCR again.  Each run replaces the
document's entities and its automatic customer links; links chosen by a person
(``given`` at intake, ``manual``) are kept and stay first.  It also replaces the due dates
the text sets (contract end, renewal, quote validity, payment terms) and keeps the
document's automatic reminders in step with them (:mod:`pipeline.reminders`).

A company the registry does not know becomes a *suggested* customer (one per name, never
a silent duplicate of a known one) for a person to confirm, reject or merge; documents are
linked to suggested customers right away, but only confirmed customers appear in search
filters and facets until then.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

import index
import ingest
from foundation.messages import load_stored, msg, stored_within, texts
from pipeline import access, reminders
from pipeline.amounts import document_amount
from records import Customer, Document, DocumentCustomer, EntityRow, record_event

_log = logging.getLogger(__name__)

#: The reason stored with a type the uploader chose (never re-guessed), in its stored form.
GIVEN_AT_INTAKE = msg("pipeline.given_at_intake").dumps()
#: The reason of a type a person chose on the document page; like one given at intake, re-typing keeps it.
GIVEN_BY_PERSON = msg("pipeline.given_by_person").dumps()
#: The same reasons as versions before message ids stored them.
_GIVEN_BEFORE = {
    "pipeline.given_at_intake": "导入时指定 / given at intake",
    "pipeline.given_by_person": "人工指定 / set by a person",
}


def type_given(reason: str | None, *, by_person: bool = True) -> bool:
    """Whether a stored type reason says the uploader chose the type (or, with ``by_person``, anybody).

    Such a type is never guessed again. Reasons stored before message ids count as well.
    """
    ids = (
        ("pipeline.given_at_intake", "pipeline.given_by_person")
        if by_person
        else ("pipeline.given_at_intake",)
    )
    message = load_stored(reason)
    if message is not None:
        return message.id in ids
    return reason is not None and reason in {_GIVEN_BEFORE[i] for i in ids}


#: How a failed extraction's warning stored before warnings had ids starts (its Chinese text).
_FAILED_PREFIX = "实体抽取失败"


def _extraction_failed(warning: str) -> bool:
    """Whether a document's warning says extraction failed (dropped when extraction runs again)."""
    message = load_stored(warning)
    return (
        message.id == "pipeline.extraction.failed"
        if message is not None
        else warning.startswith(_FAILED_PREFIX)
    )


#: Link methods a person chose; extraction keeps them.
KEPT_METHODS = ("given", "manual")

_FORMATS = {mime: fmt for fmt, mime in ingest.MIME.items()}

#: Endings of a full legal name (a bare trade name lacks them).
_LEGAL_ENDINGS = (
    "公司",
    "集团",
    "厂",
    "院",
    "所",
    "中心",
    "inc",
    "ltd",
    "limited",
    "corp",
    "corporation",
    "llc",
    "co",
    "gmbh",
    "plc",
    "company",
)


def name_key(name: str) -> str:
    """How registry names compare: as the linker compares them (NFKC, case folded, no spaces or punctuation)."""
    return ingest.normalize_name(name)


#: Registry states that are customers, or our own company: what a company name can be registered as.
REGISTERED = ("confirmed", "self")


@dataclass(frozen=True)
class NameMatch:
    """Which registered customer (confirmed, or our own company) a company name stands for.

    ``how``: ``name``/``alias`` (equal after :func:`name_key`), ``fuzzy`` (the linker's
    similar-name rule), ``trade_name`` (equal without region and legal form, see
    :func:`ingest.trade_name`), ``ambiguous`` (several fit: ``candidates``; none is chosen) or
    ``none``.
    """

    customer_id: int | None
    how: str
    candidates: tuple[int, ...] = ()


@dataclass(frozen=True)
class NamedCustomer:
    """What a customer name given at intake files a document under (see :meth:`Extraction.named_customer`).

    ``outcome``: ``registered`` (a confirmed customer), ``suggested`` (an existing suggestion),
    ``new`` (a new suggestion), ``rejected``, ``self`` (our own company) or ``ambiguous`` —
    the last three file the document without a customer.  ``customer`` is None then (and
    for ``new`` when nothing was created).
    """

    name: str
    outcome: str
    customer: Customer | None = None
    candidates: tuple[str, ...] = ()

    @property
    def message(self) -> str | None:
        """What to tell the person who gave the name (中文 / English); None when it is simply that customer."""
        if self.outcome == "registered":
            if self.customer is None or self.customer.name == self.name:
                return None
            return str(msg("pipeline.customer.filed_under", name=self.name, customer=self.customer.name))
        if self.outcome in ("suggested", "new"):
            return str(msg("pipeline.customer.suggested", name=self.name))
        if self.outcome == "rejected":
            return str(msg("pipeline.customer.rejected", name=self.name))
        if self.outcome == "self":
            return str(msg("pipeline.customer.own_company", name=self.name))
        if self.outcome == "ambiguous":
            names = "、".join(self.candidates)
            return str(msg("pipeline.customer.ambiguous", name=self.name, names=names))
        return None


class Extraction:
    """Runs the step; caches the customer registry per process and refreshes it when it changes."""

    def __init__(self, lead_days: Mapping[str, int] = reminders.DEFAULT_LEAD_DAYS) -> None:
        #: Days before each kind of due date that its reminder falls due (DOSSIER_REMINDER_LEAD_DAYS).
        self.lead_days: Mapping[str, int] = dict(lead_days)
        self._lock = threading.Lock()
        self._stamp: tuple[Any, ...] | None = None
        self._registry: ingest.Registry | None = None
        self._rejected: frozenset[str] = frozenset()
        self._words: set[str] = set()
        self._registered_entries: list[ingest.RegistryEntry] = []
        self._registered: ingest.Registry | None = None
        self._ours = ingest.Registry(())
        self._self_ids: frozenset[int] = frozenset()
        self._names: dict[int, str] = {}
        self._by_key: dict[str, set[int]] = {}
        self._by_trade: dict[str, set[int]] = {}
        self._pending: dict[str, dict[str, int]] = {"suggested": {}, "rejected": {}}

    # -- the registry ---------------------------------------------------------------------------

    def registry(self, session: Session) -> ingest.Registry:
        """The registry as of now (rebuilt only when a customer row changed since the last call)."""
        stamp = tuple(
            session.execute(
                select(func.count(Customer.id), func.max(Customer.id), func.max(Customer.updated_at))
            ).one()
        )
        with self._lock:
            if self._registry is None or stamp != self._stamp:
                rows = session.scalars(select(Customer).where(Customer.status != "rejected")).all()
                entries = [
                    ingest.RegistryEntry(
                        id=c.id,
                        name=c.name,
                        aliases=tuple(a for a in (c.aliases or []) if a and a != c.name),
                        credit_code=c.credit_code or None,
                        is_self=c.status == "self",
                        emails=tuple(
                            str(ct["email"]).lower() for ct in (c.contacts or []) if ct.get("email")
                        ),
                        phones=tuple(
                            str(ct[key])
                            for ct in (c.contacts or [])
                            for key in ("mobile", "landline")
                            if ct.get(key)
                        ),
                    )
                    for c in rows
                ]
                self._registry = ingest.Registry(entries)
                rejected = session.scalars(select(Customer).where(Customer.status == "rejected")).all()
                self._rejected = frozenset(name_key(n) for c in rejected for n in c.names)
                self._index_names(rows, rejected, entries)
                words = {n for c in rows for n in c.names} - self._words
                if words:  # registry names segment as whole words (BRIEF §4)
                    index.add_user_words(sorted(words))
                    self._words |= words
                self._stamp = stamp
            return self._registry

    def _index_names(
        self, rows: Sequence[Customer], rejected: Sequence[Customer], entries: Sequence[ingest.RegistryEntry]
    ) -> None:
        """The lookups of :meth:`registered` and :meth:`named_customer` (called under the lock)."""
        registered = {c.id for c in rows if c.status in REGISTERED}
        self._registered_entries = [e for e in entries if e.id in registered]
        self._registered = None  # compiled when first needed (intake names, import folding)
        self._self_ids = frozenset(c.id for c in rows if c.status == "self")
        self._ours = ingest.Registry(e for e in entries if e.is_self)
        self._names = {c.id: c.name for c in rows}
        self._by_key = {}
        self._by_trade = {}
        self._pending = {"suggested": {}, "rejected": {}}
        for c in rows:
            if c.status in REGISTERED:
                for n in c.names:
                    self._by_key.setdefault(name_key(n), set()).add(c.id)
                    trade = ingest.trade_name(n)
                    if len(trade) >= 2:
                        self._by_trade.setdefault(trade, set()).add(c.id)
        for c in [*rows, *rejected]:
            if c.status in self._pending:
                for n in c.names:
                    self._pending[c.status].setdefault(name_key(n), c.id)

    def registered(self, session: Session, name: str, *, loose: bool = True, trade: bool = True) -> NameMatch:
        """The confirmed customer or our own company that ``name`` stands for.

        Equal names and aliases first (two customers sharing one: ambiguous); with ``loose``
        also the linker's fuzzy rule and, failing that (with ``trade``), an equal trade name
        (光华物流 for 光华物流（武汉）有限公司).  Suggested and rejected names never match here.
        """
        key = name_key(name)
        if not key:
            return NameMatch(None, "none")
        self.registry(session)
        with self._lock:
            exact = sorted(self._by_key.get(key, ()))
            if len(exact) == 1:
                full = name_key(self._names.get(exact[0], "")) == key
                return NameMatch(exact[0], "name" if full else "alias")
            if exact:
                return NameMatch(None, "ambiguous", tuple(exact))
            if not loose:
                return NameMatch(None, "none")
            if self._registered is None:
                self._registered = ingest.Registry(self._registered_entries)
            hit = self._registered.resolve_name(name)
            if hit is not None:
                return NameMatch(hit[0].id, hit[1])
            core = ingest.trade_name(name) if trade else ""
            fits = sorted(self._by_trade.get(core, ())) if len(core) >= 2 else []
        if len(fits) == 1:
            return NameMatch(fits[0], "trade_name")
        return NameMatch(None, "ambiguous", tuple(fits)) if fits else NameMatch(None, "none")

    def _names_us(self, session: Session, name: str) -> bool:
        """Whether a company name is our own company's: a name or alias, the linker's fuzzy rule, the trade name."""
        self.registry(session)
        key, core = name_key(name), ingest.trade_name(name)
        with self._lock:
            return bool(
                self._by_key.get(key, set()) & self._self_ids
                or self._ours.resolve_name(name) is not None
                or (len(core) >= 2 and self._by_trade.get(core, set()) & self._self_ids)
            )

    def named_customer(self, session: Session, name: str, *, create: bool = True) -> NamedCustomer:
        """The customer a name given at intake (upload form, ``--customer``, an inbox folder) stands for.

        In this order: a confirmed customer's name or alias; our own company (no customer);
        a rejected name (no customer: rejected stays rejected); a confirmed customer by the
        linker's fuzzy rule or the trade name; an existing suggestion; else a new
        *suggestion* (with ``create``).  Nobody confirms a customer by naming it: that is a
        reviewer's act on the customers page.  Ambiguous names file under no customer.
        """
        name = " ".join(name.split())[:255]
        if not name_key(name):
            return NamedCustomer(name, "none")
        for loose in (False, True):
            match = self.registered(session, name, loose=loose)
            if match.how == "ambiguous":
                with self._lock:
                    names = tuple(self._names.get(i, f"#{i}") for i in match.candidates)
                return NamedCustomer(name, "ambiguous", candidates=names)
            if match.customer_id is not None:
                customer = session.get(Customer, match.customer_id)
                if customer is not None and customer.status == "self":
                    return NamedCustomer(name, "self")
                if customer is not None and customer.status == "confirmed":
                    return NamedCustomer(name, "registered", customer)
            if not loose:
                with self._lock:
                    rejected = self._pending["rejected"].get(name_key(name))
                if rejected is not None:
                    return NamedCustomer(name, "rejected")
        with self._lock:
            pending = self._pending["suggested"].get(name_key(name))
        suggestion = session.get(Customer, pending) if pending is not None else None
        if suggestion is not None and suggestion.status == "suggested":
            return NamedCustomer(name, "suggested", suggestion)
        return NamedCustomer(name, "new", self._suggested(session, name) if create else None)

    def forget(self) -> None:
        """Drop the cached registry (the next call reloads it)."""
        with self._lock:
            self._registry, self._stamp = None, None

    # -- the step -----------------------------------------------------------------------------------

    def apply(
        self, session: Session, doc: Document, *, ocr_text: bool = False, fmt: str | None = None
    ) -> list[ingest.Entity]:
        """Extract, date, type and link ``doc`` from its stored pages, in the caller's transaction."""
        pages = [p.text or "" for p in doc.pages]
        found = list(ingest.extract_entities(pages))
        doc.entities = [
            EntityRow(
                kind=e.kind,
                value=e.value[:500],
                text=e.text[:500],
                page=e.page,
                start=e.start,
                end=e.end,
                valid=e.valid,
                role=(e.role or None) and e.role[:32],
            )
            for e in found
        ]
        doc.amount = document_amount(doc.entities)  # the charts' and the customer page's figure
        doc.doc_date = ingest.document_date(found, pages)
        if not type_given(doc.doc_type_reason):
            version = doc.current
            parsed = ingest.ParsedDocument(
                mime=version.mime if version else "",
                format=fmt or _format_of(version.mime if version else "", doc),
                pages=tuple(ingest.Page(number=p.number, text=p.text or "") for p in doc.pages),
                title=doc.title,
            )
            guess = ingest.guess_doc_type(parsed, version.filename if version else "", found)
            reason = guess.reason
            if ocr_text:
                reason = texts(f"{reason.render('zh')}（OCR 文本）", f"{reason.render('en')} (from OCR text)")
            doc.doc_type, doc.doc_type_reason = guess.code, stored_within(reason, 500)
        level_before, source_before = doc.confidentiality, doc.confidentiality_source
        if follow_type_level(doc) and source_before is not None:  # a new document's first level is no change
            record_event(
                session,
                "system",
                "permission_change",
                target_type="document",
                target_id=doc.id,
                detail={
                    "before": level_before,
                    "after": doc.confidentiality,
                    "source": doc.confidentiality_source,
                    "cause": "doc_type",
                    "doc_type": doc.doc_type,
                },
            )
        self._link(session, doc, found, "\n".join(pages))
        due = ingest.extract_due_dates(pages, doc_date=doc.doc_date, doc_type=doc.doc_type)
        rows = reminders.store_due_dates(session, doc, due)
        reminders.sync_reminders(session, doc, rows, lead_days=self.lead_days)
        return found

    def apply_safely(self, session: Session, doc: Document, **kwargs: Any) -> None:
        """:meth:`apply`, but a failure of the step only costs a warning: the document stays searchable.

        The step runs inside a savepoint, so a half-done extraction leaves nothing behind.
        """
        earlier = [w for w in (doc.warnings or []) if not _extraction_failed(w)]
        try:
            with session.begin_nested():
                self.apply(session, doc, **kwargs)
        except (OperationalError, InterfaceError):
            raise  # the database is busy or gone: the job's retry handles it, not a warning
        except Exception as exc:  # the job boundary of this optional step: record it, keep the document
            _log.exception("extraction failed for document %s", doc.id)
            session.expire(
                doc,
                [
                    "entities",
                    "amount",
                    "customer_links",
                    "customer",
                    "doc_type",
                    "doc_type_reason",
                    "doc_date",
                    "confidentiality",
                    "confidentiality_source",
                ],
            )
            doc.warnings = [
                *earlier,
                msg("pipeline.extraction.failed", kind=type(exc).__name__, detail=str(exc)[:200]).dumps(),
            ]
            return
        if earlier != list(doc.warnings or []):
            doc.warnings = earlier  # an earlier failure is over

    def clear(self, session: Session, doc: Document) -> None:
        """Forget what extraction found (a document that failed): entities, automatic links and due dates go.

        The document's open automatic reminders are cancelled with its due dates.
        """
        doc.entities = []
        doc.amount = None
        doc.customer_links = [link for link in doc.customer_links if link.method in KEPT_METHODS]
        self._set_primary(session, doc)
        if doc.id is not None:
            reminders.sync_reminders(session, doc, reminders.store_due_dates(session, doc, []))

    def _link(self, session: Session, doc: Document, found: Sequence[ingest.Entity], text: str) -> None:
        result = self.registry(session).link(found, text)
        kept = [link for link in doc.customer_links if link.method in KEPT_METHODS]
        seen = {link.customer_id for link in kept}
        links = list(kept)
        for link in result.links:
            if link.customer_id in seen:
                continue
            seen.add(link.customer_id)
            links.append(
                DocumentCustomer(
                    customer_id=link.customer_id,
                    method=link.method,
                    score=float(link.score),
                    evidence=stored_within(link.evidence, 500),
                )
            )
        for name in _without_prefixes(result.suggestions):
            customer = self._suggested(session, name)
            if customer is None or customer.id in seen:
                continue
            seen.add(customer.id)
            links.append(
                DocumentCustomer(
                    customer_id=customer.id,
                    method="suggested",
                    score=0.5,
                    evidence=stored_within(msg("pipeline.customer.suggested_evidence", name=name), 500),
                )
            )
        links.extend(self._attachment_links(doc, seen))
        for position, row in enumerate(links):
            row.position = position
        doc.customer_links = links
        session.flush()
        self._set_primary(session, doc)

    def link_attachments(self, session: Session, doc: Document) -> None:
        """Add the customers of an e-mail's attachments to the e-mail (after they were stored)."""
        seen = {link.customer_id for link in doc.customer_links}
        extra = self._attachment_links(doc, seen)
        if extra:
            for position, link in enumerate(extra, start=len(doc.customer_links)):
                link.position = position
            doc.customer_links.extend(extra)
            session.flush()
            self._set_primary(session, doc)

    @staticmethod
    def _attachment_links(doc: Document, seen: set[int]) -> list[DocumentCustomer]:
        """An e-mail is about the customers its attachments are about (a quote sent as PDF)."""
        out: list[DocumentCustomer] = []
        for child in doc.children:
            if child.relation != "attachment" or child.status == "failed":
                continue
            filename = child.current.filename if child.current else child.title
            for link in child.customer_links:
                if link.customer_id in seen or link.method in KEPT_METHODS:
                    continue
                seen.add(link.customer_id)
                out.append(
                    DocumentCustomer(
                        customer_id=link.customer_id,
                        method="attachment",
                        score=float(link.score) * 0.9,
                        evidence=stored_within(
                            msg(
                                "pipeline.link.attachment",
                                filename=filename,
                                evidence=link.evidence or link.method,
                            ),
                            500,
                        ),
                    )
                )
        return out

    def _suggested(self, session: Session, name: str) -> Customer | None:
        """The suggested customer for an unknown company name (created once; None if rejected or ours)."""
        name = name.strip()[:255]
        if not name or name_key(name) in self._rejected:
            return None
        if self._names_us(session, name):
            return None  # our own company under another spelling: never a customer
        customer = session.scalars(select(Customer).where(Customer.name == name)).first()
        if customer is None:
            customer = self._new_suggestion(session, name)
        # Every customer row's name is a user word (a reindex from the records learns them all first): learnt
        # now, before the document that named it is indexed later in this transaction (BRIEF §4).
        index.add_user_words([name])
        return None if customer is None or customer.status in ("rejected", "self") else customer

    def _new_suggestion(self, session: Session, name: str) -> Customer | None:
        """A new suggested customer ``name`` (or the one another worker made at the same moment)."""
        customer = Customer(name=name, aliases=[], status="suggested", contacts=[])
        try:
            with session.begin_nested():
                session.add(customer)
                session.flush()
        except IntegrityError:  # another worker suggested it at the same moment
            _log.info("suggested customer %r was created concurrently", name)
            return session.scalars(select(Customer).where(Customer.name == name)).first()
        self.forget()
        return customer

    @staticmethod
    def _set_primary(session: Session, doc: Document) -> None:
        """The primary customer: a chosen one first, else the strongest confirmed link."""
        primary = None
        for link in doc.customer_links:
            customer = link.customer or session.get(Customer, link.customer_id)
            if customer is not None and (link.method in KEPT_METHODS or customer.status == "confirmed"):
                primary = customer
                break
        doc.customer = primary


#: ``documents.confidentiality_source``: the level follows the type (``type``), a manager chose it
#: (``manual``: re-typing leaves it alone), or someone who may not lower levels changed the document
#: (``kept``: re-typing may raise it, never lower it; only a manager's or admin's act lowers it).
LEVEL_FOLLOWS_TYPE, LEVEL_MANUAL, LEVEL_KEPT = "type", "manual", "kept"


def follow_type_level(doc: Document, *, may_lower: bool = False) -> bool:
    """Give ``doc`` its type's default confidentiality, by the rule of its source; True when it changed.

    A manager's choice (``manual``) stays.  A ``kept`` level (set by :func:`keep_level`, or here
    when ``may_lower`` is False and the type would lower it) only rises: to the type's level when
    that is stricter, else it stays — also when the two are not comparable (finance and
    confidential).  A level that follows its type (``type``, or a new document) moves with it;
    ``may_lower`` (a manager's or admin's own edit) lets a ``kept`` level follow the type again.
    """
    if doc.confidentiality_source == LEVEL_MANUAL:
        return False
    wanted = access.default_level(doc.doc_type)
    source = LEVEL_FOLLOWS_TYPE
    if doc.confidentiality_source == LEVEL_KEPT and not may_lower:
        source = LEVEL_KEPT
        if not access.at_least(wanted, doc.confidentiality):
            wanted = doc.confidentiality
    changed = doc.confidentiality != wanted
    doc.confidentiality, doc.confidentiality_source = wanted, source
    return changed


def keep_level(doc: Document) -> None:
    """From now on automatic re-typing may raise ``doc``'s level but not lower it (see :func:`follow_type_level`).

    Called when someone who may not lower levels edits the document or uploads a new version of it.
    """
    if doc.confidentiality_source != LEVEL_MANUAL:
        doc.confidentiality_source = LEVEL_KEPT


def searchable_customers(doc: Document) -> list[Customer]:
    """The customers a document is filed under in search: chosen or confirmed links, primary first."""
    out: list[Customer] = []
    for link in doc.customer_links:
        customer = link.customer
        if customer is None or customer in out:
            continue
        if link.method in KEPT_METHODS or customer.status == "confirmed":
            out.append(customer)
    if doc.customer is not None and doc.customer not in out:
        out.insert(0, doc.customer)
    return out


def _without_prefixes(names: Sequence[str]) -> list[str]:
    """Unknown company names, less a bare name that another one of them only extends (Google / Google Inc.)."""
    keys = [name_key(n) for n in names]
    return [
        name
        for name, key in zip(names, keys, strict=True)
        if key.endswith(_LEGAL_ENDINGS) or not any(other != key and other.startswith(key) for other in keys)
    ]


def _format_of(mime: str, doc: Document) -> str:
    fmt = _FORMATS.get(mime, "")
    if fmt in ("png", "jpeg", "tiff", "gif", "bmp", "webp"):
        return "image"
    if not fmt and any(p.ocr for p in doc.pages):
        return "image"
    return fmt


#: One per process; the registry it caches is refreshed from the records when they change.
SHARED = Extraction()
