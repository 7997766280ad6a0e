"""The one root exception of Dossier.

Every package raises subclasses of :class:`DossierError`; each carries a
``message`` a user can act on (Chinese first, English after a slash) and an
HTTP-ish ``status`` used by the web layer.
"""

from __future__ import annotations


class DossierError(Exception):
    """Root of every error Dossier raises on purpose."""

    status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(DossierError):
    """A setting has a value Dossier cannot use."""

    status = 500


class NotFound(DossierError):
    """The thing asked for does not exist or may not be seen by the caller."""

    status = 404


class Forbidden(DossierError):
    """The caller may not do this."""

    status = 403


class RegistryError(DossierError):
    """A customer-registry file or action that cannot be used (dossier.app.registry)."""

    status = 400
