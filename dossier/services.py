"""The application core the CLI and the web UI share: records + blobs + search backend.

:class:`Dossier` is built once from :class:`~dossier.config.Settings` and passed around;
every read takes the caller's :class:`~index.Principal` and answers ``NotFound`` for
documents the caller may not read, exactly as for documents that do not exist.
"""

from __future__ import annotations

import functools
import os
import secrets
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

import index
import ingest
import records
from dossier.config import Settings, load_settings
from dossier.errors import NotFound
from index import Principal, SearchRequest
from ingest import DOC_TYPES
from records import Customer, Document, IngestBatch, Page, User
from workers.intake import Intake, IntakeOptions, ProgressFn, Source, collect_files

__all__ = ["DOC_TYPES", "Dossier", "doc_type_code"]

#: Roles that read every document regardless of confidentiality.
_READ_ALL_ROLES = ("admin", "manager")


class Dossier:
    """One open data home: use :meth:`open`, then the methods below."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = records.make_engine(settings.database_url)
        self.sessions: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)
        self.blobs = records.BlobStore(settings.blob_dir)
        self.backend = index.open_backend(self.engine, settings.get("DOSSIER_OPENSEARCH_URL"))
        self.limits = ingest.Limits.from_settings(settings)

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def open(cls, settings: Settings | None = None, *, require_init: bool = True) -> Dossier:
        """Open the data home; unless ``require_init`` is False it must have been initialised."""
        settings = settings or load_settings()
        dossier = cls(settings)
        if require_init and not records.is_migrated(dossier.engine):
            raise records.NotInitialised(str(settings.home))
        if require_init:
            dossier._load_user_words()
        return dossier

    def init(self, admin_password: str | None = None) -> str | None:
        """Create the data home, the schema and the ``admin`` user (idempotent).

        Returns the admin password when it was generated here, else None.
        """
        home = self.settings.home
        home.mkdir(parents=True, exist_ok=True)
        self.blobs.root.mkdir(parents=True, exist_ok=True)
        records.migrate(self.engine)
        self.backend.ensure_schema()
        self.settings.secret_key()
        generated = None
        with self.sessions() as session:
            if session.scalars(select(User).where(User.username == "admin")).first() is None:
                password = admin_password or self.settings.get("DOSSIER_ADMIN_PASSWORD")
                if not password:
                    password = generated = records.generate_password()
                session.add(User(username="admin", password_hash=records.hash_password(password), role="admin"))
                session.commit()
        self._load_user_words()
        return generated

    def _load_user_words(self) -> None:
        with self.sessions() as session:
            words: list[str] = []
            for customer in session.scalars(select(Customer)):
                words.append(customer.name)
                words.extend(customer.aliases or [])
        index.add_user_words(words)

    # -- users -------------------------------------------------------------------------------

    def authenticate(self, username: str, password: str) -> Principal | None:
        """The principal for a correct username and password of an active user, else None."""
        with self.sessions() as session:
            user = session.scalars(select(User).where(User.username == username)).first()
            if user is None or not user.active:
                records.verify_password(_dummy_hash(), password)  # same cost either way
                return None
            if not records.verify_password(user.password_hash, password):
                return None
            return self._principal(user)

    def principal_for(self, username: str) -> Principal:
        """The principal of an active user; NotFound otherwise."""
        with self.sessions() as session:
            user = session.scalars(select(User).where(User.username == username)).first()
            if user is None or not user.active:
                raise NotFound(f"没有用户 {username} / no such user")
            return self._principal(user)

    def set_password(self, username: str, password: str) -> None:
        """Give a user a new password (argon2-hashed); NotFound for an unknown user."""
        if len(password) < 8:
            from dossier.errors import DossierError

            raise DossierError("密码至少 8 个字符 / the password needs at least 8 characters")
        with self.sessions() as session:
            user = session.scalars(select(User).where(User.username == username)).first()
            if user is None:
                raise NotFound(f"没有用户 {username} / no such user")
            user.password_hash = records.hash_password(password)
            session.commit()

    def users(self) -> list[dict[str, Any]]:
        """Every user: name, role, active, created."""
        with self.sessions() as session:
            return [
                {"username": u.username, "role": u.role, "active": u.active,
                 "created_at": u.created_at.isoformat(timespec="seconds")}
                for u in session.scalars(select(User).order_by(User.username))
            ]

    @staticmethod
    def _principal(user: User) -> Principal:
        return Principal(username=user.username, role=user.role, user_id=user.id)

    # -- intake ------------------------------------------------------------------------------

    def _intake(self, workers: int | None = None) -> Intake:
        return Intake(self.sessions, self.blobs, self.backend, self.limits, workers or self.settings.workers)

    def ingest_paths(
        self,
        paths: Iterable[str | os.PathLike[str]],
        *,
        customer: str | None = None,
        doc_type: str | None = None,
        tags: Sequence[str] = (),
        uploaded_by: str = "system",
        progress: ProgressFn | None = None,
        workers: int | None = None,
    ) -> dict[str, Any]:
        """Ingest files and folders (recursively); returns the ``--json`` summary."""
        sources = collect_files(paths)
        return self.ingest_sources(
            sources, customer=customer, doc_type=doc_type, tags=tags, uploaded_by=uploaded_by,
            progress=progress, workers=workers, source="cli",
        )

    def ingest_sources(
        self,
        sources: Sequence[Source],
        *,
        customer: str | None = None,
        doc_type: str | None = None,
        tags: Sequence[str] = (),
        uploaded_by: str = "system",
        progress: ProgressFn | None = None,
        workers: int | None = None,
        source: str = "cli",
    ) -> dict[str, Any]:
        """Run the intake chain over prepared sources."""
        if doc_type is not None and doc_type not in DOC_TYPES:
            doc_type = doc_type_code(doc_type)
        options = IntakeOptions(
            customer=customer, doc_type=doc_type, tags=tuple(tags), uploaded_by=uploaded_by, source=source
        )
        if customer:
            index.add_user_words([customer])
        summary = self._intake(workers).run(sources, options, progress)
        return summary.as_json()

    def ingest_upload(
        self,
        filename: str,
        data: bytes,
        *,
        principal: Principal,
        customer: str | None = None,
        doc_type: str | None = None,
        tags: Sequence[str] = (),
    ) -> dict[str, Any]:
        """Ingest one uploaded file synchronously; returns ``{"id", "duplicate", "error"}``."""
        safe_name = Path(filename.replace("\\", "/")).name or "upload"
        summary = self.ingest_sources(
            [Source(label=safe_name, filename=safe_name, data=data)],
            customer=customer, doc_type=doc_type, tags=tags, uploaded_by=principal.username,
            workers=1, source="upload",
        )
        if summary["failed"]:
            failed_id = self._document_for_sha(records.sha256_bytes(data))
            return {"id": failed_id, "duplicate": False, "error": summary["failed"][0]["error"]}
        if summary["duplicates"]:
            dup = summary["duplicate_of"][0]
            return {"id": dup.get("id"), "duplicate": True, "error": None}
        return {"id": summary["documents"][0]["id"], "duplicate": False, "error": None}

    def _document_for_sha(self, digest: str) -> int | None:
        with self.sessions() as session:
            return session.scalars(
                select(records.Version.document_id).where(records.Version.sha256 == digest).limit(1)
            ).first()

    def ocr(
        self,
        ids: Iterable[int] | None = None,
        *,
        limit: int | None = None,
        engine: str | None = None,
        workers: int | None = None,
    ) -> dict[str, Any]:
        """OCR pages awaiting OCR (all, or of the given documents); returns the ``ocr --json`` summary."""
        from workers.ocr import OcrRunner

        runner = OcrRunner(
            self.sessions, self.blobs, self.backend, self.limits,
            engine=engine or self.settings.get("DOSSIER_OCR_ENGINE"),
            workers=workers or self.settings.workers,
        )
        return runner.run(None if ids is None else list(ids), limit).as_json()

    def reindex(self, ids: Iterable[int] | None = None, *, batch: int = 200) -> int:
        """Rebuild index entries from the records: the given documents, or (None) the whole index.

        The index is derived data, so this is always safe; failed documents are left out.
        Returns the number of documents indexed.
        """
        wanted = None if ids is None else sorted(set(ids))
        if wanted is None:
            self.backend.clear()
        done = 0
        with self.sessions() as session:
            query = select(Document.id).where(Document.status != "failed").order_by(Document.id)
            if wanted is not None:
                query = query.where(Document.id.in_(wanted))
            all_ids = list(session.scalars(query))
        for start in range(0, len(all_ids), batch):
            chunk = all_ids[start : start + batch]
            with self.sessions() as session:
                docs = session.scalars(
                    select(Document)
                    .where(Document.id.in_(chunk))
                    .options(
                        selectinload(Document.pages),
                        selectinload(Document.versions),
                        selectinload(Document.tags),
                        selectinload(Document.customer),
                        selectinload(Document.children).selectinload(Document.pages),
                    )
                ).all()
                self.backend.index([Intake.index_document(d) for d in docs], connection=session.connection())
                session.commit()
                done += len(docs)
        return done

    # -- reading -----------------------------------------------------------------------------

    def _may_read(self, principal: Principal, doc: Document) -> bool:
        if principal.role in _READ_ALL_ROLES:
            return True
        return doc.confidentiality in index.readable_levels(principal)

    def _readable(self, session: Session, doc_id: int, principal: Principal) -> Document:
        doc = session.get(
            Document,
            doc_id,
            options=[selectinload(Document.pages), selectinload(Document.versions), selectinload(Document.tags)],
        )
        if doc is None or not self._may_read(principal, doc):
            raise NotFound(f"文档 {doc_id} 不存在 / document {doc_id} not found")
        return doc

    def search(self, request: SearchRequest, principal: Principal) -> dict[str, Any]:
        """Run a search and join the hits with display data (the ``search --json`` shape)."""
        started = time.perf_counter()
        result = self.backend.search(request, principal)
        ids = [h.id for h in result.hits]
        with self.sessions() as session:
            docs = {
                d.id: d
                for d in session.scalars(
                    select(Document)
                    .where(Document.id.in_(ids))
                    .options(selectinload(Document.versions), selectinload(Document.customer))
                )
            }
            hits = []
            for hit in result.hits:
                doc = docs.get(hit.id)
                if doc is None:  # index ahead of records: never show what records do not hold
                    continue
                version = doc.current
                hits.append(
                    {
                        "id": doc.id,
                        "title": doc.title,
                        "filename": version.filename if version else "",
                        "customer": doc.customer.name if doc.customer else None,
                        "doc_type": doc.doc_type,
                        "date": doc.doc_date,
                        "score": round(hit.score, 4),
                        "snippet": hit.snippet,
                        "title_html": hit.title_html,
                        "status": doc.status,
                    }
                )
        facets = {
            name: [{"value": value, "count": count} for value, count in values]
            for name, values in result.facets.items()
        }
        return {
            "total": result.total,
            "took_ms": round((time.perf_counter() - started) * 1000, 1),
            "hits": hits,
            "facets": facets,
        }

    def show(self, doc_id: int, principal: Principal) -> dict[str, Any]:
        """Everything about one document (the ``show --json`` shape)."""
        with self.sessions() as session:
            doc = self._readable(session, doc_id, principal)
            version = doc.current
            children = [
                {"id": c.id, "filename": c.current.filename if c.current else c.title, "status": c.status}
                for c in doc.children
                if self._may_read(principal, c)
            ]
            return {
                "id": doc.id,
                "title": doc.title,
                "filename": version.filename if version else "",
                "doc_type": doc.doc_type,
                "doc_type_reason": doc.doc_type_reason,
                "status": doc.status,
                "error": doc.error,
                "customers": [doc.customer.name] if doc.customer else [],
                "customer": doc.customer.name if doc.customer else None,
                "tags": [t.name for t in doc.tags],
                "confidentiality": doc.confidentiality,
                "mime": version.mime if version else "",
                "size": version.size if version else 0,
                "sha256": version.sha256 if version else "",
                "created_at": doc.created_at.isoformat(timespec="seconds"),
                "date": doc.doc_date,
                "language": doc.language,
                "warnings": list(doc.warnings or []),
                "parent_id": doc.parent_id,
                "relation": doc.relation,
                "children": children,
                "entities": {},
                "pages": [
                    {"n": p.number, "text": p.text, "ocr": p.ocr, "needs_ocr": p.needs_ocr, "confidence": p.confidence}
                    for p in doc.pages
                ],
                "text": "\n\n".join(p.text for p in doc.pages if p.text),
                "versions": [
                    {
                        "n": v.number,
                        "sha256": v.sha256,
                        "filename": v.filename,
                        "mime": v.mime,
                        "size": v.size,
                        "uploaded_by": v.uploaded_by,
                        "uploaded_at": v.uploaded_at.isoformat(timespec="seconds"),
                    }
                    for v in doc.versions
                ],
            }

    def open_original(self, doc_id: int, principal: Principal) -> tuple[str, str, bytes]:
        """The newest original file of a document: (filename, mime, bytes), checksum verified."""
        with self.sessions() as session:
            doc = self._readable(session, doc_id, principal)
            version = doc.current
            if version is None:
                raise NotFound(f"文档 {doc_id} 没有原始文件 / document {doc_id} has no file")
            return version.filename, version.mime, self.blobs.get(version.sha256)

    def status(self) -> dict[str, Any]:
        """Counts by status, pages awaiting OCR and the latest batches."""
        with self.sessions() as session:
            by_status = dict(
                session.execute(select(Document.status, func.count()).group_by(Document.status)).all()
            )
            awaiting = session.scalar(select(func.count()).select_from(Page).where(Page.needs_ocr.is_(True)))
            batches = session.scalars(select(IngestBatch).order_by(IngestBatch.id.desc()).limit(5)).all()
            failed = session.execute(
                select(Document.id, Document.title, Document.error)
                .where(Document.status == "failed")
                .order_by(Document.id.desc())
                .limit(20)
            ).all()
            return {
                "documents": sum(by_status.values()),
                "by_status": by_status,
                "pages_awaiting_ocr": awaiting or 0,
                "indexed": self.backend.count(),
                "index": self.backend.name,
                "home": str(self.settings.home),
                "recent_failures": [{"id": i, "title": t, "error": e} for i, t, e in failed],
                "batches": [
                    {
                        "id": b.id,
                        "source": b.source,
                        "status": b.status,
                        "total": b.total,
                        "created_at": b.created_at.isoformat(timespec="seconds"),
                    }
                    for b in batches
                ],
            }


def doc_type_code(value: str) -> str:
    """Accept a type code, or its Chinese or English label."""
    lowered = value.strip().lower()
    for code, (zh, en) in DOC_TYPES.items():
        if lowered in (code, zh, en.lower()):
            return code
    from dossier.errors import DossierError

    known = "、".join(f"{code}（{zh}）" for code, (zh, _en) in DOC_TYPES.items())
    raise DossierError(f"未知的文档类型 {value!r}；可用：{known} / unknown document type")


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against for unknown users, so a wrong user name costs as much as a wrong password."""
    return records.hash_password(secrets.token_hex(8))
