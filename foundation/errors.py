"""The one root exception of Dossier.

Every package raises subclasses of :class:`DossierError`; each carries a
``message`` a user can act on (Chinese first, English after a slash) and an
HTTP-ish ``status`` used by the web layer.
"""

from __future__ import annotations

from foundation.messages import Message


class DossierError(Exception):
    """Root of every error Dossier raises on purpose.

    Raised with a :class:`~foundation.messages.Message` (``msg("id", ...)``) the error renders
    in the reader's language (:meth:`text`); ``message`` and ``str()`` are the bilingual form
    the CLI and the logs print. A plain string is shown as it is in every language.
    """

    status: int = 500

    def __init__(self, message: str | Message) -> None:
        text = str(message)
        super().__init__(text)
        self.message = text
        self.msg: Message | None = message if isinstance(message, Message) else None

    def text(self, lang: str) -> str:
        """The message in ``lang`` (``zh`` or ``en``)."""
        return self.msg.render(lang) if self.msg is not None else self.message

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
