"""Backups of a data home (备份): a consistent snapshot of the records plus a content-addressed pool of blobs.

:class:`BackupService` is the ``backups`` service of :class:`dossier.app.services.Dossier`::

    report = dossier.backups.backup("/mnt/backup/dossier")          # one snapshot; new blobs only
    folder, manifest, problems = verify("/mnt/backup/dossier")      # check without restoring
    dossier.backups.run_scheduled()                                 # DOSSIER_BACKUP_DIR, when due
    dossier.backups.status()                                        # the last backup, a warning when old

Restoring into an empty home is :func:`dossier.app.restore.restore_home`.  The folder's layout
and its invariants are in :mod:`dossier.app.backup._pool`; how the records are copied while
the product serves and ingests, in :mod:`dossier.app.backup._records`.
"""

from __future__ import annotations

from dossier.app.backup._pool import (
    FORMAT,
    MANIFEST,
    BackupBusy,
    BackupInvalid,
    BlobEntry,
    Destination,
    Manifest,
    file_digest,
    verify,
)
from dossier.app.backup._records import (
    BackupError,
    drop_empty_schema,
    is_postgres,
    records_file_name,
    restore_postgres,
)
from dossier.app.backup._service import (
    SECRET_SETTINGS,
    BackupReport,
    BackupScheduler,
    BackupService,
    start_scheduler,
)

__all__ = [
    "FORMAT",
    "MANIFEST",
    "SECRET_SETTINGS",
    "BackupBusy",
    "BackupError",
    "BackupInvalid",
    "BackupReport",
    "BackupScheduler",
    "BackupService",
    "BlobEntry",
    "Destination",
    "Manifest",
    "drop_empty_schema",
    "file_digest",
    "is_postgres",
    "records_file_name",
    "restore_postgres",
    "start_scheduler",
    "verify",
]
