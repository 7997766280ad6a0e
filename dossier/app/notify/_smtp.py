"""Sending one e-mail through the SMTP server of the ``DOSSIER_SMTP_*`` settings, with a clear reason when it fails.

:func:`send_mail` connects (plain, STARTTLS or SSL), logs in when a user is set, sends, and
quits; every failure becomes a :class:`MailError` whose ``message`` says what happened — the
server refused (its code and text), it did not answer within ``DOSSIER_SMTP_TIMEOUT`` seconds,
the connection was refused, the login was refused — and whether the server itself is out of
reach or refuses us (``connection``: the other mails waiting would fail the same way, so a round
stops there).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from foundation.config import Settings
from foundation.errors import ConfigError, DossierError
from foundation.messages import Message, msg

__all__ = ["SECURITY_MODES", "MailError", "SmtpConfig", "send_mail"]

#: DOSSIER_SMTP_SECURITY values.
SECURITY_MODES = ("none", "starttls", "ssl")


class MailError(DossierError):
    """An e-mail could not be sent; ``connection`` is True when the server could not be reached at all."""

    status = 502

    def __init__(self, message: Message, *, connection: bool = False) -> None:
        super().__init__(message)
        self.connection = connection


@dataclass(frozen=True)
class SmtpConfig:
    """The SMTP settings; ``enabled`` is False when no host is set (notifications stay in the web UI)."""

    host: str
    port: int
    security: str
    user: str
    password: str
    sender: str
    timeout_s: float
    max_tries: int

    @property
    def enabled(self) -> bool:
        """Whether e-mail is configured at all."""
        return bool(self.host)

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig:
        """Read and check the ``DOSSIER_SMTP_*`` settings (a bad value is a ConfigError naming it)."""
        security = settings.get("DOSSIER_SMTP_SECURITY").strip().lower() or "none"
        if security not in SECURITY_MODES:
            raise ConfigError(msg("notify.smtp.bad_security", value=security))
        try:
            timeout = float(settings.get("DOSSIER_SMTP_TIMEOUT"))
        except ValueError:
            timeout = -1.0
        if not 0 < timeout <= 600:
            raise ConfigError(msg("notify.smtp.bad_timeout", value=settings.get("DOSSIER_SMTP_TIMEOUT")))
        return cls(
            host=settings.get("DOSSIER_SMTP_HOST").strip(),
            port=settings.get_int("DOSSIER_SMTP_PORT"),
            security=security,
            user=settings.get("DOSSIER_SMTP_USER").strip(),
            password=settings.get("DOSSIER_SMTP_PASSWORD"),
            sender=settings.get("DOSSIER_SMTP_FROM").strip() or "dossier@localhost",
            timeout_s=timeout,
            max_tries=max(1, settings.get_int("DOSSIER_SMTP_MAX_TRIES")),
        )


def build_message(config: SmtpConfig, recipient: str, subject: str, body: str) -> EmailMessage:
    """A plain-text UTF-8 e-mail (the subject may be Chinese)."""
    mail = EmailMessage()
    mail["From"] = config.sender
    mail["To"] = recipient
    mail["Subject"] = subject
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = make_msgid(domain=config.sender.rpartition("@")[2] or "localhost")
    mail.set_content(body)
    return mail


def _text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return " ".join(text.split())[:300]


def send_mail(config: SmtpConfig, recipient: str, subject: str, body: str) -> None:
    """Send one e-mail; raises :class:`MailError` with the reason when it did not go."""
    where = f"{config.host}:{config.port}"
    mail = build_message(config, recipient, subject, body)
    try:
        if config.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                config.host, config.port, timeout=config.timeout_s, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout_s)
        with smtp:
            if config.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if config.user:
                smtp.login(config.user, config.password)
            smtp.send_message(mail, from_addr=config.sender, to_addrs=[recipient])
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = next(iter(exc.recipients.values()), (0, b""))
        raise MailError(msg("notify.mail.refused", code=code, text=_text(text), server=where)) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(  # every other mail would be refused the same way: the round stops (``connection``)
            msg("notify.mail.login_refused", code=exc.smtp_code, text=_text(exc.smtp_error), server=where),
            connection=True,
        ) from None
    except smtplib.SMTPResponseException as exc:  # sender refused, data refused, HELO refused, …
        raise MailError(
            msg("notify.mail.refused", code=exc.smtp_code, text=_text(exc.smtp_error), server=where)
        ) from None
    except TimeoutError:
        raise MailError(
            msg("notify.mail.timeout", server=where, seconds=f"{config.timeout_s:g}"), connection=True
        ) from None
    except ConnectionRefusedError:
        raise MailError(msg("notify.mail.connection_refused", server=where), connection=True) from None
    except smtplib.SMTPServerDisconnected as exc:
        if isinstance(exc.__context__, TimeoutError):  # smtplib turns a reply that never came into this
            raise MailError(
                msg("notify.mail.timeout", server=where, seconds=f"{config.timeout_s:g}"), connection=True
            ) from None
        raise MailError(
            msg("notify.mail.disconnected", server=where, error=_text(str(exc))), connection=True
        ) from None
    except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        raise MailError(
            msg("notify.mail.unreachable", server=where, error=_text(f"{type(exc).__name__}: {exc}")),
            connection=True,
        ) from None
