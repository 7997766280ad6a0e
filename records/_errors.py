"""Errors of the system of record."""

from __future__ import annotations

from foundation.errors import DossierError
from foundation.messages import msg


class RecordsError(DossierError):
    """Something is wrong with the stored records or blobs."""


class BlobMissing(RecordsError):
    """A stored original is gone from the blob store."""

    def __init__(self, sha256: str) -> None:
        super().__init__(msg("records.blob.missing", short=sha256[:12]))
        self.sha256 = sha256


class BlobCorrupt(RecordsError):
    """A stored original no longer matches its checksum (HTTP 500: it is never served)."""

    status = 500

    def __init__(self, sha256: str) -> None:
        super().__init__(msg("records.blob.corrupt", short=sha256[:12]))
        self.sha256 = sha256


#: Why a sealed blob cannot be opened: reason -> message id (original, cached derived file).
_UNREADABLE = {
    "no_key": ("records.blob.unreadable.no_key", "records.blob.cached_unreadable.no_key"),
    "unknown_key": ("records.blob.unreadable.unknown_key", "records.blob.cached_unreadable.unknown_key"),
    "auth": ("records.blob.unreadable.auth", "records.blob.cached_unreadable.auth"),
    "format": ("records.blob.unreadable.format", "records.blob.cached_unreadable.format"),
}


class BlobUnreadable(BlobCorrupt):
    """A sealed (encrypted) blob cannot be opened: no key, a key not configured, or it fails
    authentication (altered, truncated or swapped bytes).  ``reason`` is one of ``no_key``,
    ``unknown_key``, ``auth``, ``format``; ``cached`` marks a derived file (page image)."""

    def __init__(self, blob: str, reason: str, key_id: str = "", *, cached: bool = False) -> None:
        shown = blob if cached else blob[:12]
        RecordsError.__init__(self, msg(_UNREADABLE[reason][cached], blob=shown, key_id=key_id))
        self.sha256 = blob
        self.reason = reason
        self.key_id = key_id
        self.cached = cached


class NotInitialised(RecordsError):
    """The data home has no (current) database schema."""

    def __init__(self, where: str) -> None:
        super().__init__(msg("records.not_initialised", where=where))


class DatabaseUnavailable(RecordsError):
    """The records database cannot be reached (server down, wrong address or password, unreadable file)."""

    status = 503

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(msg("records.database.unavailable", url=url, reason=reason))
        self.url = url
        self.reason = reason
