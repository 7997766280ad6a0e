"""SQLAlchemy models of the system of record.

The search index is derived from these rows; the rows and the blob store are what
must never be lost.  Timestamps are UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from foundation.vocabulary import CUSTOMER_TYPE_NAMES


def utcnow() -> datetime:
    """Current UTC time without microseconds noise."""
    return datetime.now(UTC).replace(tzinfo=None)


class Clipped(TypeDecorator[str]):
    """``VARCHAR(n)`` that cuts a longer value to its first ``n`` characters on the way in.

    For columns filled from files and folders (titles, file names, tags, inbox paths):
    SQLite never enforces a length, PostgreSQL refuses a longer value and would fail the
    whole transaction — the document with it.  Cutting keeps both databases alike.  The
    DDL is a plain ``VARCHAR(n)``, so the migrations are unchanged.
    """

    impl = String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        """``value`` cut to the column's length (None stays None)."""
        if value is not None and len(value) > self.length:
            return value[: self.length]
        return value


class Base(DeclarativeBase):
    """Declarative base of every records table."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[str]: JSON}


#: Document statuses, in the order a document moves through them.
STATUSES = ("queued", "processing", "indexed", "awaiting_ocr", "failed")

#: Roles a user may have (issue 7 details what each may do).
ROLES = ("admin", "manager", "finance", "sales", "viewer")


document_tags = Table(
    "document_tags",
    Base.metadata,
    Column("document_id", ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_document_tags_tag_id", "tag_id"),
)


class User(Base):
    """A person who logs in.  ``password_hash`` is argon2.

    ``failed_logins`` counts wrong passwords since the last success or lock; reaching
    ``DOSSIER_LOGIN_MAX_FAILURES`` sets ``locked_until`` (logins are refused until then).
    ``last_login_at`` is the last successful login, ``last_seen_at`` the last request of a
    signed-in session (written at most once a minute).
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="viewer")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column()
    last_login_at: Mapped[datetime | None] = mapped_column()
    last_seen_at: Mapped[datetime | None] = mapped_column()
    # The person's name as others write it (张伟): a registry's owner column may use it or the login.
    display_name: Mapped[str | None] = mapped_column(Clipped(128))
    email: Mapped[str | None] = mapped_column(Clipped(320))  # where reminders are mailed (None: in-app only)


class UserSession(Base):
    """A signed-in browser session, kept on the server so it can be ended there.

    The cookie carries a random key; only its sha256 is stored (``id``).  A session is valid
    while ``ended_at`` is unset: logging out, a password change, disabling the account or a
    new role sets it (``end_reason`` says which), and a replayed cookie is refused from then on.
    """

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()
    end_reason: Mapped[str | None] = mapped_column(String(32))
    ip: Mapped[str | None] = mapped_column(Clipped(64))

    user: Mapped[User] = relationship()


class ApiToken(Base):
    """A personal API token of a user: only its sha256 is stored, never the token.

    ``revoked_at`` set = refused from then on; ``last_used_at`` is written at most once a minute.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()  # None: until revoked

    user: Mapped[User] = relationship()


class LoginFailure(Base):
    """One failed login from a client address: the per-address limit counts these over a sliding window.

    Kept in the records (not in one process's memory) so every web process behind a load
    balancer counts the same failures; rows older than the window are deleted as new ones come.
    """

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_ip_at", "ip", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ip: Mapped[str] = mapped_column(String(64))
    username: Mapped[str] = mapped_column(Clipped(64), default="")
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


#: Customer types of the registry (潜在 prospect, 现有 current, 流失 lost).
CUSTOMER_TYPES = CUSTOMER_TYPE_NAMES

#: Registry states: ``confirmed`` customers, ``suggested`` ones found in documents and waiting
#: for a person to confirm, ``rejected`` suggestions (kept so they are not suggested again), and
#: ``self`` — our own company, which appears in documents but is never a customer.
CUSTOMER_STATUSES = ("confirmed", "suggested", "rejected", "self")


class Customer(Base):
    """A customer in the registry.  ``aliases`` are short names that also identify it.

    ``region`` is the province (浙江省, 上海市), ``city`` the prefecture-level city;
    ``owner_name`` is the sales rep as the registry names them, ``owner_id`` the user
    account it resolves to where there is one.  ``contacts`` is a list of
    ``{name, title, mobile, landline, email}``.
    """

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Clipped(255), unique=True)
    aliases: Mapped[list[str]] = mapped_column(default=list)
    credit_code: Mapped[str | None] = mapped_column(String(18), index=True)
    customer_type: Mapped[str | None] = mapped_column(String(16))
    industry: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(64))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    external_id: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(
        String(16), default="confirmed", server_default="confirmed", index=True
    )
    stage: Mapped[str | None] = mapped_column(String(32))
    importance: Mapped[str | None] = mapped_column(String(8))
    city: Mapped[str | None] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(500))
    owner_name: Mapped[str | None] = mapped_column(String(64))
    contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    notes: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]] = mapped_column(default=list)  # customer tags (客户标签), steer search as ctag:
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # A legal hold on a customer stops every retention rule for each of its documents.
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    legal_hold_reason: Mapped[str | None] = mapped_column(Clipped(500))

    owner: Mapped[User | None] = relationship()

    @property
    def names(self) -> list[str]:
        """The full name followed by the aliases, without repeats."""
        return list(dict.fromkeys([self.name, *(self.aliases or [])]))


class DocumentCustomer(Base):
    """A link between a document and a customer, with how it was made.

    ``method``: ``given`` (chosen at intake), ``manual`` (a merge), ``credit_code``, ``name``,
    ``alias``, ``fuzzy``, ``contact`` (a registered contact's e-mail or phone), ``attachment``
    (an e-mail's attachment is about it) or ``suggested`` (a company not yet in the registry);
    ``evidence`` says why, for people.  The document's primary customer is
    also in ``documents.customer_id``.
    """

    __tablename__ = "document_customers"
    # A document's links with their method, and a customer's linked documents, from the indexes alone
    # (the start page's charts, migration 0015; customer care and the customer page, migration 0014).
    __table_args__ = (
        Index("ix_document_customers_document_method", "document_id", "method", "customer_id"),
        Index("ix_document_customers_customer_document", "customer_id", "document_id"),
    )

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    method: Mapped[str] = mapped_column(String(16), default="name")
    score: Mapped[float] = mapped_column(Float, default=1.0)
    evidence: Mapped[str | None] = mapped_column(Clipped(500))
    position: Mapped[int] = mapped_column(Integer, default=0)  # 0 = primary

    customer: Mapped[Customer] = relationship()


class EntityRow(Base):
    """One entity found in a document's text (see ``ingest.Entity``); rebuilt by each extraction."""

    __tablename__ = "entities"
    __table_args__ = (Index("ix_entities_kind_value", "kind", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(Clipped(500))
    text: Mapped[str] = mapped_column(Clipped(500))
    page: Mapped[int] = mapped_column(Integer, default=1)
    start: Mapped[int] = mapped_column(Integer, default=0)
    end: Mapped[int] = mapped_column(Integer, default=0)
    valid: Mapped[bool] = mapped_column(Boolean, default=True)
    role: Mapped[str | None] = mapped_column(Clipped(32))


class Tag(Base):
    """A free label on documents."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Clipped(64), unique=True)


document_access = Table(
    "document_access",
    Base.metadata,
    Column("document_id", ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class DocumentPart(Base):
    """A file inside a container's original that was already a document of its own (not a child).

    An e-mail's attachment or an archive's member that had been stored before is not stored
    again as a child; this row still says the container holds it (``relation``: ``attachment``
    or ``member``), so the container is at least as strict as it (the container rule).
    """

    __tablename__ = "document_parts"

    container_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    part_id: Mapped[int] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    relation: Mapped[str] = mapped_column(String(16))

    part: Mapped[Document] = relationship(foreign_keys=[part_id])


class Document(Base):
    """A customer file: its metadata, state and pages.  Content lives in versions and the blob store.

    ``confidentiality`` is the document's own level.  ``access_level`` and ``access_customers``
    are what reading it takes once its containers and parts count too (the container rule,
    :mod:`pipeline.access`): every entry point checks those, never ``confidentiality`` alone.
    ``included`` lists the files inside this one's original that were already documents of
    their own (an attachment uploaded before): parts that are not children.
    """

    __tablename__ = "documents"
    # AUTOINCREMENT: SQLite would otherwise give the next document the id of a destroyed one that
    # had the highest id, and the audit trail's certificate would then name the wrong document.
    __table_args__ = (
        Index("ix_documents_status", "status"),
        # Each customer's newest live document from the index alone (customer care, the customer page);
        # the second for documents reached through their links (migration 0014).
        Index("ix_documents_customer_created", "customer_id", "created_at", "trashed_at"),
        Index("ix_documents_id_created", "id", "created_at", "trashed_at"),
        # The start page (migration 0015): the amount charts' and the month chart's documents from the
        # index alone, and the charts' fingerprint (the last change).
        Index(
            "ix_documents_type_amount",
            "doc_type",
            "trashed_at",
            "archived_at",
            "status",
            "customer_id",
            "amount",
            "confidentiality",
            "access_level",
        ),
        Index(
            "ix_documents_live_date",
            "trashed_at",
            "archived_at",
            "doc_date",
            "doc_type",
            "status",
            "confidentiality",
            "access_level",
        ),
        Index("ix_documents_updated_at", "updated_at"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(Clipped(500), default="")
    doc_type: Mapped[str] = mapped_column(String(32), default="other")
    doc_type_reason: Mapped[str | None] = mapped_column(Clipped(500))  # why this type: shown to users
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customers.id", ondelete="SET NULL"), index=True
    )
    confidentiality: Mapped[str] = mapped_column(String(16), default="internal")
    # "type": the level follows the document type (pipeline.access.default_level); "manual": a
    # manager set it and re-typing leaves it alone; None: a document from before levels followed types.
    confidentiality_source: Mapped[str | None] = mapped_column(String(16))
    # The level reading takes (own level joined with containers' and parts'); None: not computed yet.
    access_level: Mapped[str | None] = mapped_column(String(16))
    # A level the container keeps whatever its parts say now: a part inside its original was deleted.
    access_floor: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    error: Mapped[str | None] = mapped_column(Text)
    # The worker processing it now (status "processing"); a dead claimant's work is taken over.
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    language: Mapped[str] = mapped_column(Clipped(8), default="")
    doc_date: Mapped[str | None] = mapped_column(String(10))
    # its total (pipeline.amounts: a 总/合计/total amount, else its largest), kept with its entities
    amount: Mapped[Decimal | None] = mapped_column(Numeric(20, 2))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)
    relation: Mapped[str | None] = mapped_column(String(16))  # attachment | member
    warnings: Mapped[list[str]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Lifecycle (issue 15).  In the trash since ``trashed_at`` (hidden from search, purged after
    # DOSSIER_TRASH_DAYS); archived (read-only, hidden from default search) since ``archived_at``;
    # ``legal_hold`` stops every retention rule and every destruction while it is set.
    trashed_at: Mapped[datetime | None] = mapped_column(index=True)
    trashed_by: Mapped[str | None] = mapped_column(String(64))
    archived_at: Mapped[datetime | None] = mapped_column()
    archived_by: Mapped[str | None] = mapped_column(String(64))
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    legal_hold_reason: Mapped[str | None] = mapped_column(Clipped(500))

    customer: Mapped[Customer | None] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=document_tags, order_by="Tag.name")
    versions: Mapped[list[Version]] = relationship(
        back_populates="document", order_by="Version.number", cascade="all, delete-orphan"
    )
    pages: Mapped[list[Page]] = relationship(
        back_populates="document", order_by="Page.number", cascade="all, delete-orphan"
    )
    children: Mapped[list[Document]] = relationship(order_by="Document.id")
    customer_links: Mapped[list[DocumentCustomer]] = relationship(
        order_by="DocumentCustomer.position", cascade="all, delete-orphan"
    )
    entities: Mapped[list[EntityRow]] = relationship(order_by="EntityRow.id", cascade="all, delete-orphan")
    access_customers: Mapped[list[Customer]] = relationship(secondary=document_access, order_by="Customer.id")
    included: Mapped[list[DocumentPart]] = relationship(
        foreign_keys="DocumentPart.container_id",
        order_by="DocumentPart.part_id",
        cascade="all, delete-orphan",
    )

    @property
    def linked_customers(self) -> list[Customer]:
        """Every linked customer, the primary first (falls back to ``customer`` alone)."""
        linked = [link.customer for link in self.customer_links]
        if self.customer is not None and self.customer not in linked:
            linked.insert(0, self.customer)
        return linked

    @property
    def current(self) -> Version | None:
        """The newest version, or None for a document that has none yet."""
        return self.versions[-1] if self.versions else None

    @property
    def lifecycle(self) -> str:
        """``trashed``, ``archived`` or ``active`` (the trash wins over the archive)."""
        if self.trashed_at is not None:
            return "trashed"
        return "archived" if self.archived_at is not None else "active"


class Version(Base):
    """One uploaded file of a document: its bytes are in the blob store under ``sha256``.

    ``pages`` is the text a superseded version had (kept when a newer version replaced it, so
    old text stays findable with ``version:all``); the current version's text is the
    document's own pages.  ``restored_from`` is the number of the version this one restored.
    """

    __tablename__ = "versions"
    __table_args__ = (UniqueConstraint("document_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer, default=1)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(Clipped(1024))
    mime: Mapped[str] = mapped_column(Clipped(128), default="application/octet-stream")
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(64), default="system")
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    restored_from: Mapped[int | None] = mapped_column(Integer)

    document: Mapped[Document] = relationship(back_populates="versions")
    pages: Mapped[list[VersionPage]] = relationship(
        order_by="VersionPage.number", cascade="all, delete-orphan", passive_deletes=True
    )


class VersionPage(Base):
    """The text of one page of a superseded version (see :class:`Version`)."""

    __tablename__ = "version_pages"

    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id", ondelete="CASCADE"), primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text, default="")
    ocr: Mapped[bool] = mapped_column(Boolean, default=False)


class ContentClaim(Base):
    """The document a stored file (by sha256) belongs to: one row per file, so one file is one document.

    Taking a file inserts its claim in the same transaction as its document; a second intake
    of the same bytes at the same moment fails on the primary key and reports a duplicate.
    """

    __tablename__ = "content_claims"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), index=True)


class Page(Base):
    """Text of one page.  ``needs_ocr`` pages have no text yet and wait for OCR."""

    __tablename__ = "pages"
    __table_args__ = (
        UniqueConstraint("document_id", "number"),
        Index("ix_pages_needs_ocr", "needs_ocr", "document_id"),  # the backlog's pages awaiting OCR (0015)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text, default="")
    needs_ocr: Mapped[bool] = mapped_column(Boolean, default=False)
    ocr: Mapped[bool] = mapped_column(Boolean, default=False)
    confidence: Mapped[float | None] = mapped_column(Float)
    engine: Mapped[str | None] = mapped_column(Clipped(32))
    rotation: Mapped[int | None] = mapped_column(Integer)
    # Why OCR of this page failed (it keeps needs_ocr); None while OCR is pending or done.
    ocr_error: Mapped[str | None] = mapped_column(Text)

    document: Mapped[Document] = relationship(back_populates="pages")


class AuditEvent(Base):
    """Append-only record of who did what."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32), index=True)
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


#: States of an export job, in the order it moves through them.
EXPORT_STATUSES = ("queued", "running", "done", "failed", "expired")


class ExportJob(Base):
    """A background export of a search result set (issue 6): what was asked, its progress and its file.

    ``request`` holds the search (query, filters, sort) as :func:`dossier.app.export.request_to_json`
    writes it; ``path`` is the finished file under ``DOSSIER_HOME/exports`` (relative to the
    home), downloadable by ``username`` until ``expires_at``, then deleted (status ``expired``).
    """

    __tablename__ = "export_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    format: Mapped[str] = mapped_column(String(8))
    request: Mapped[dict[str, Any]] = mapped_column(default=dict)
    base_url: Mapped[str] = mapped_column(Clipped(500), default="")
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    path: Mapped[str | None] = mapped_column(String(1024))
    error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()
    # A fingerprint of the owner's rights (role, owned customers) the file was filtered with; the
    # file is handed out only while the owner's rights are the same (dossier.app.export).
    rights: Mapped[str | None] = mapped_column(String(64))


class IngestBatch(Base):
    """One intake run: a CLI call, an upload, an inbox sweep."""

    __tablename__ = "ingest_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(32), default="cli")
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | done
    total: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    origin: Mapped[str | None] = mapped_column(Clipped(4096))  # the inbox folder, for inbox batches

    jobs: Mapped[list[IngestJob]] = relationship(back_populates="batch", order_by="IngestJob.id")


class IngestJob(Base):
    """One file of a batch and what became of it."""

    __tablename__ = "ingest_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batches.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(Clipped(4096))
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | done | duplicate | failed
    document_id: Mapped[int | None] = mapped_column(
        ForeignKey("documents.id", ondelete="SET NULL"), index=True
    )
    error: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    # Inbox files: where the file was taken from, and whether it has been moved to .done/.failed.
    origin: Mapped[str | None] = mapped_column(Clipped(4096))
    settled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true(), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()

    batch: Mapped[IngestBatch] = relationship(back_populates="jobs")


class RetentionRule(Base):
    """A retention rule: documents of a type and/or of customers of a type, counted from a date.

    ``doc_type`` and ``customer_type`` narrow what the rule covers (None: any); ``basis`` is the
    date the periods count from (``doc_date``: the document's own date, falling back to its
    intake; ``created_at``: its intake).  After ``archive_after_days`` a document is archived;
    after ``destroy_after_days`` it is proposed for destruction (each None: never).
    A legal hold on the document or one of its customers stops every rule.
    """

    __tablename__ = "retention_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Clipped(200))
    doc_type: Mapped[str | None] = mapped_column(String(32))
    customer_type: Mapped[str | None] = mapped_column(String(16))
    basis: Mapped[str] = mapped_column(String(16), default="doc_date")
    archive_after_days: Mapped[int | None] = mapped_column(Integer)
    destroy_after_days: Mapped[int | None] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


#: States of a destruction, in the order it moves through them (or ``rejected``/``cancelled``).
DESTRUCTION_STATUSES = ("proposed", "approved", "destroying", "destroyed", "rejected", "cancelled")


class Destruction(Base):
    """One document proposed for destruction, approved by a second manager, then destroyed.

    ``document_id`` is a plain number (the document row is gone once destroyed); ``title`` and
    ``files`` (``[{filename, sha256}]`` of every version of it and of its parts) are what the
    destruction certificate names.  ``rule_id`` is the retention rule that proposed it (None:
    proposed by hand or by a trash purge).
    """

    __tablename__ = "destructions"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(Integer, index=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("retention_rules.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(Clipped(500), default="")
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="proposed", index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    proposed_by: Mapped[str] = mapped_column(String(64), default="system")
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column()
    destroyed_at: Mapped[datetime | None] = mapped_column()


class BackupRun(Base):
    """One backup made of this home (``dossier backup``, or scheduled): where, how much, how it ended.

    ``status`` is ``running``, ``done`` or ``failed`` (``error`` says why).
    """

    __tablename__ = "backup_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    destination: Mapped[str] = mapped_column(Clipped(4096))
    status: Mapped[str] = mapped_column(String(16), default="running")
    scheduled: Mapped[bool] = mapped_column(Boolean, default=False)
    files: Mapped[int] = mapped_column(Integer, default=0)
    new_blobs: Mapped[int] = mapped_column(Integer, default=0)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
