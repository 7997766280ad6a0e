"""Errors ``ingest`` raises for a file it cannot read.  Each message is one line a user can act on."""

from __future__ import annotations

from foundation.errors import DossierError
from foundation.messages import Message, msg


class IngestError(DossierError):
    """A file could not be turned into a document.  ``message`` says why, in Chinese / English."""

    status = 422


class UnsupportedFile(IngestError):
    """The file's content is of a type Dossier does not read."""

    def __init__(self, mime: str, message: str | Message | None = None) -> None:
        super().__init__(message or msg("ingest.unsupported", mime=mime))
        self.mime = mime


class BrokenFile(IngestError):
    """The file claims a format but is damaged, truncated or empty."""


class EncryptedFile(IngestError):
    """The file needs a password to open."""


class LimitExceeded(IngestError):
    """The file is larger, longer or deeper than a configured limit allows."""


class ParseTimeout(IngestError):
    """Parsing the file took longer than the configured limit."""
