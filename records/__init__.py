"""The system of record: models, migrations, the blob store, passwords.

Callers import from here, never from the private modules.
"""

from __future__ import annotations

from records._blobs import BlobStore, sha256_bytes
from records._db import check_reachable, database_url, has_schema, is_migrated, make_engine, migrate, redacted
from records._errors import BlobCorrupt, BlobMissing, DatabaseUnavailable, NotInitialised, RecordsError
from records._models import (
    CUSTOMER_STATUSES,
    CUSTOMER_TYPES,
    EXPORT_STATUSES,
    ROLES,
    STATUSES,
    AuditEvent,
    Base,
    Customer,
    Document,
    DocumentCustomer,
    EntityRow,
    ExportJob,
    IngestBatch,
    IngestJob,
    Page,
    Tag,
    User,
    Version,
    utcnow,
)
from records._passwords import generate_password, hash_password, verify_password

__all__ = [
    "CUSTOMER_STATUSES",
    "CUSTOMER_TYPES",
    "EXPORT_STATUSES",
    "ROLES",
    "STATUSES",
    "AuditEvent",
    "Base",
    "BlobCorrupt",
    "BlobMissing",
    "BlobStore",
    "Customer",
    "DatabaseUnavailable",
    "Document",
    "DocumentCustomer",
    "EntityRow",
    "ExportJob",
    "IngestBatch",
    "IngestJob",
    "NotInitialised",
    "Page",
    "RecordsError",
    "Tag",
    "User",
    "Version",
    "check_reachable",
    "database_url",
    "generate_password",
    "has_schema",
    "hash_password",
    "is_migrated",
    "make_engine",
    "migrate",
    "redacted",
    "sha256_bytes",
    "utcnow",
    "verify_password",
]
