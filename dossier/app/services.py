"""The application core the CLI and the web UI share: records + blobs + search backend.

:class:`Dossier` is built once from :class:`~foundation.config.Settings` and passed around;
every read takes the caller's :class:`~index.Principal` and answers ``NotFound`` for
documents the caller may not read, exactly as for documents that do not exist.

It holds the resources of the open data home (:class:`~dossier.app.resources.HomeResources`)
and the services made over them: ``accounts``, ``audit``, ``documents``, ``customers``,
``exports``, ``intake`` (intake, batches, retries, OCR, reindexing), ``reading`` (search,
show, originals) and ``backups``, and offers the intake's and reading's entry points as its own.  Opening,
initialising, upgrading and the status of the home stay here.
"""

from __future__ import annotations

import fcntl
import functools
import logging
from pathlib import Path
from typing import Any

from redis import RedisError as QueueError
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

import index
import ingest
import records
from dossier.app._accounts import AccountService, principal_of
from dossier.app._activities import ActivityService
from dossier.app._archive import ArchiveService
from dossier.app._check import IntegrityService
from dossier.app._customers import CustomerService
from dossier.app._documents import DocumentService
from dossier.app._erasure import erase_documents
from dossier.app._index_flusher import IndexFlusher
from dossier.app._intake import IntakeService
from dossier.app._reading import ReadingService
from dossier.app._reminders import ReminderService
from dossier.app._retention import RetentionService
from dossier.app._timeline import Timeline
from dossier.app._trash import TrashService
from dossier.app.audit import AuditService
from dossier.app.backup import BackupService
from dossier.app.bulk import BulkEditService
from dossier.app.dashboard import Dashboard
from dossier.app.export import ExportService
from dossier.app.notify import NotificationService
from dossier.app.owners import link_owners, unmatched_owners
from dossier.app.resources import HomeResources
from dossier.app.saved_views import SavedViewService
from dossier.app.thumbnails import ThumbnailService
from foundation.config import Settings, load_settings
from foundation.filemodes import file_mode_problems, file_mode_warnings, secure_home
from foundation.messages import msg
from ingest import DOC_TYPES
from pipeline.batches import batch_report
from records import Customer, Document, IngestBatch, Page, User

__all__ = ["DOC_TYPES", "Dossier"]


class Dossier:
    """One open data home: use :meth:`open`, then the methods below and the services it holds.

    ``accounts`` (:class:`~dossier.app._accounts.AccountService`): users, logins, sessions, API tokens.
    ``audit`` (:class:`~dossier.app.audit.AuditService`): recording events, reading the trail.
    ``documents`` (:class:`~dossier.app._documents.DocumentService`): permissions, page images, edits,
    versions, deletes.  ``customers`` (:class:`~dossier.app._customers.CustomerService`): the registry
    and re-extraction.  ``exports`` (:class:`~dossier.app.export.ExportService`): exports of search results.
    ``intake`` (:class:`~dossier.app._intake.IntakeService`): intake, batches, retries, OCR, reindexing.
    ``reading`` (:class:`~dossier.app._reading.ReadingService`): search, one document, its original.
    ``trash`` (:class:`~dossier.app._trash.TrashService`): the trash (回收站), restoring and purging it.
    ``archive`` (:class:`~dossier.app._archive.ArchiveService`): archiving (归档) and unarchiving.
    ``integrity`` (:class:`~dossier.app._check.IntegrityService`): ``dossier check`` and its repairs.
    ``backups`` (:class:`~dossier.app.backup.BackupService`): backups, scheduled ones, their status.
    ``notifications`` (:class:`~dossier.app.notify.NotificationService`): in-app notifications, reminder e-mails.
    ``reminders`` (:class:`~dossier.app._reminders.ReminderService`): reminders (提醒), due soon, customer care.
    ``thumbnails`` (:class:`~dossier.app.thumbnails.ThumbnailService`): first-page pictures for the results.
    ``activities`` (:class:`~dossier.app._activities.ActivityService`): activities and comments (沟通记录);
    ``timeline`` (:class:`~dossier.app._timeline.Timeline`): one page of a customer's timeline (客户时间线).
    ``dashboard`` (:class:`~dossier.app.dashboard.Dashboard`): the start page's figures (工作台).
    ``views`` (:class:`~dossier.app.saved_views.SavedViewService`) saved views (保存的视图); ``bulk`` (:class:`~dossier.app.bulk.BulkEditService`) bulk edit.
    The entry points of the last two (``ingest_paths``, ``search``, ``show`` …) are also ``Dossier``'s.
    """

    def __init__(self, settings: Settings) -> None:
        self.resources = home = HomeResources.connect(settings)
        self.audit = AuditService(home.sessions)
        self.exports = ExportService(
            home, record=self.audit.record, principal_for=functools.partial(principal_of, home.sessions)
        )
        self.accounts = AccountService(home.sessions, settings, revoke_exports=self.exports.revoke_user)
        self.customers = CustomerService(home.sessions, home.backend, home.queue)
        self.intake = IntakeService(home, self.audit)
        self.reading = ReadingService(home)
        self.trash = TrashService(home, erase=erase_documents)
        self.archive = ArchiveService(home)
        self.retention = RetentionService(home)
        self.reminders = ReminderService(home)
        self.backups = BackupService(home, record=self.audit.record)
        # The daily care run goes first, so that the notifications see the reminders it made;
        # each user's digest lists the customers they should contact.
        self.notifications = NotificationService(
            home,
            before=lambda now: self.reminders.daily(now.date()),
            care=self.reminders.care_lines,
        )
        self.documents = DocumentService(
            home.sessions,
            home.backend,
            home.blobs,
            ingest_upload=self.intake.ingest_upload,
            reindex=self.intake.reindex,
            enqueue=self.intake.enqueue,
            trash=self.trash.trash,
        )
        self.thumbnails = ThumbnailService(home.sessions, home.blobs, page_image=self.documents.page_image)
        self.integrity = IntegrityService(home, reindex=self.intake.reindex)
        self.activities, self.timeline = ActivityService(home), Timeline(home)
        self.dashboard = Dashboard(home)
        self.views, self.bulk = (
            SavedViewService(home.sessions),
            BulkEditService(home, self.documents, self.archive, max_hits=self.exports.limits.max_hits),
        )
        # What the CLI, the web and the workers call on the application, served by the services above.
        intake, reading = self.intake, self.reading
        self.queue = intake.queue
        self.ingest_paths, self.ingest_sources, self.ingest_upload = (
            intake.ingest_paths,
            intake.ingest_sources,
            intake.ingest_upload,
        )
        self.wait_for_batch, self.new_batch, self.close_batch = (
            intake.wait_for_batch,
            intake.new_batch,
            intake.close_batch,
        )
        self.batches, self.batch_status, self.batch_report = (
            intake.batches,
            intake.batch_status,
            intake.batch_report,
        )
        self.retry, self.ocr, self.reindex = intake.retry, intake.ocr, intake.reindex
        self.search, self.show, self.open_original = reading.search, reading.show, reading.open_original

    # -- the open data home's resources (read-only) ------------------------------------------

    @property
    def settings(self) -> Settings:
        """The settings this home was opened with."""
        return self.resources.settings

    @property
    def engine(self) -> Engine:
        """The records database."""
        return self.resources.engine

    @property
    def sessions(self) -> sessionmaker[Session]:
        """Sessions on the records database."""
        return self.resources.sessions

    @property
    def blobs(self) -> records.BlobStore:
        """The content-addressed store of originals."""
        return self.resources.blobs

    @property
    def backend(self) -> index.SearchBackend:
        """The search backend (embedded FTS5 or OpenSearch)."""
        return self.resources.backend

    @property
    def limits(self) -> ingest.Limits:
        """The per-file intake limits."""
        return self.resources.limits

    @property
    def flusher(self) -> IndexFlusher | None:
        """Sends queued index work after commits (OpenSearch only)."""
        return self.resources.flusher

    def interactive(self) -> Dossier:
        """Tune for a web process: index writes are searchable before the request that made them returns."""
        if self.backend.queued_writes and hasattr(self.backend, "refresh"):
            self.backend.refresh = "wait_for"
        return self

    def close(self) -> None:
        """Send what waits to be indexed and release the database."""
        self.resources.close()

    # -- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def open(cls, settings: Settings | None = None, *, require_init: bool = True) -> Dossier:
        """Open the data home; unless ``require_init`` is False it must have been initialised."""
        settings = settings or load_settings()
        secure_home(settings.home)  # a home made before (0755, dossier.db 0644) is private from now on
        dossier = cls(settings)
        records.check_reachable(dossier.engine)  # a clear message, not a driver traceback, when it is down
        if require_init and not records.is_migrated(dossier.engine):
            if not records.has_schema(dossier.engine):
                raise records.NotInitialised(str(settings.home))
            dossier._upgrade_schema()
        if require_init and dossier.backend.needs_reindex():
            dossier._rebuild_derived()
        if require_init:
            dossier._load_user_words()
        return dossier

    def _upgrade_schema(self) -> None:
        """Bring an older data home's schema up to date (one process at a time)."""
        self.settings.home.mkdir(parents=True, exist_ok=True)
        with open(self.settings.home / ".migrate.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not records.is_migrated(self.engine):
                records.migrate(self.engine)
                self.documents.apply_type_levels()
                self.documents.apply_container_rule()
                with (
                    self.sessions() as session
                ):  # owners named before their accounts existed (dossier.app.owners)
                    link_owners(session)
                    session.commit()

    def _rebuild_derived(self) -> None:
        """After an upgrade that changed what is extracted and indexed: re-extract and reindex everything.

        Runs once (the other processes opening the home meanwhile wait for it), from the
        stored text: no parsing, no OCR.
        """
        import sys

        with open(self.settings.home / ".migrate.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not self.backend.needs_reindex():
                return
            print(str(msg("app.upgrade.rebuilding")), file=sys.stderr)
            logging.getLogger(__name__).info("rebuilding derived data after an upgrade")
            self.backend.clear()
            self.customers.reextract()  # indexes every document that has text, with its new fields

    def init(self, admin_password: str | None = None) -> str | None:
        """Create the data home, the schema and the ``admin`` user (idempotent).

        Returns the admin password when it was generated here, else None; ``admin_outcome`` then
        says what became of the admin account: ``generated``, ``setting`` (DOSSIER_ADMIN_PASSWORD),
        ``argument`` (``admin_password``) or ``exists`` (it was there already).
        """
        home = self.settings.home
        home.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.blobs.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        records.migrate(self.engine)
        try:
            self.backend.ensure_schema()
        except (
            index.BackendUnavailable
        ) as exc:  # the index is made when the engine answers; records come first
            logging.getLogger(__name__).warning("%s", exc.message)
        self.settings.secret_key()
        generated = None
        self.admin_outcome = "exists"
        with self.sessions() as session:
            if session.scalars(select(User).where(User.username == "admin")).first() is None:
                password = admin_password or self.settings.get("DOSSIER_ADMIN_PASSWORD")
                self.admin_outcome = "argument" if admin_password else "setting"
                if not password:
                    password = generated = records.generate_password()
                    self.admin_outcome = "generated"
                else:  # one chosen by a person: the password policy applies (a generated one is strong)
                    self.accounts.check_admin_password(password)
                session.add(
                    User(username="admin", password_hash=records.hash_password(password), role="admin")
                )
                try:
                    session.commit()
                except IntegrityError:  # another `dossier init` on the same database made it first
                    session.rollback()
                    generated, self.admin_outcome = None, "exists"
        self._load_user_words()
        secure_home(
            home
        )  # the database, the session key and the folders just made: the running account's only
        return generated

    def _load_user_words(self) -> None:
        with self.sessions() as session:
            words: list[str] = []
            for customer in session.scalars(select(Customer)):
                words.append(customer.name)
                words.extend(customer.aliases or [])
        index.add_user_words(words)

    def status(self) -> dict[str, Any]:
        """Counts by status, pages awaiting OCR, the index and its waiting work, the queue and the latest batches.

        ``file_modes`` lists the parts of the data home other accounts may use (``{"path", "mode",
        "expected"}``: the home should be 0700, every file in it 0600, a key file too) and
        ``warnings`` says each in a line with its fix.
        """
        index_status = self.backend.status()
        backup = self.backups.status()
        mail = (
            self.notifications.mail_counts()
        )  # {"pending", "failed", "sent"}: failed ones wait for an admin
        key_file = self.settings.get("DOSSIER_BLOB_KEY_FILE").strip()
        modes = file_mode_problems(self.settings.home, [Path(key_file)] if key_file else [])
        with self.sessions() as session:
            by_status = dict(
                session.execute(select(Document.status, func.count()).group_by(Document.status)).all()
            )
            awaiting = session.scalar(select(func.count()).select_from(Page).where(Page.needs_ocr.is_(True)))
            batches = session.scalars(select(IngestBatch).order_by(IngestBatch.id.desc()).limit(5)).all()
            batch_reports = [self.intake.with_eta(batch_report(session, b)) for b in batches]
            failed = session.execute(
                select(Document.id, Document.title, Document.error)
                .where(Document.status == "failed")
                .order_by(Document.id.desc())
                .limit(20)
            ).all()
            unmatched = unmatched_owners(session)
            session.commit()
        return {
            "documents": sum(by_status.values()),
            "by_status": by_status,
            "pages_awaiting_ocr": awaiting or 0,
            "indexed": index_status["documents"],
            "index": self.backend.name,
            "index_status": index_status,
            "home": str(self.settings.home),
            "queue": self._queue_status(),
            "recent_failures": [{"id": i, "title": t, "error": e} for i, t, e in failed],
            "batches": batch_reports,
            # Registry owner names that match no account, or several (see dossier.app.owners).
            "unmatched_owners": unmatched,
            "file_modes": modes,
            "backup": backup,
            "mail": mail,
            "warnings": file_mode_warnings(modes)
            + ([backup["warning"]] if backup["warning"] else [])
            + ([str(msg("app.status.mail_failed", n=mail["failed"]))] if mail["failed"] else []),
        }

    def _queue_status(self) -> dict[str, Any]:
        queue = self.queue()
        if queue is None:
            return {
                "reachable": False,
                "jobs": 0,
                "workers": 0,
                "error": msg("app.queue.unreachable", url=self.settings.get("DOSSIER_REDIS_URL")).dumps(),
            }
        try:
            return {
                "reachable": True,
                "jobs": queue.queue.count,
                "workers": queue.live_workers(),
                "error": None,
            }
        except QueueError as exc:
            self.resources.queue.forget()
            return {"reachable": False, "jobs": 0, "workers": 0, "error": str(exc)}
