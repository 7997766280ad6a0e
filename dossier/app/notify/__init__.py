"""Notifications (通知): in-app messages, e-mail digests and same-day mails, the outbox (see :mod:`.service`)."""

from dossier.app.notify._smtp import MailError, SmtpConfig
from dossier.app.notify.service import NotificationService, check_email

__all__ = ["MailError", "NotificationService", "SmtpConfig", "check_email"]
