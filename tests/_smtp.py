"""A real local SMTP server for the notification tests (aiosmtpd on a free port) and one that never answers."""

from __future__ import annotations

import contextlib
import email
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    """The handler: keeps every accepted mail; ``refuse_rcpt``/``refuse_data`` make it answer that instead."""

    received: list[Any] = field(default_factory=list)
    refuse_rcpt: str | None = None
    refuse_data: str | None = None
    port: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if self.refuse_data:
            return self.refuse_data
        self.received.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[Any]:
        """The accepted mails, parsed (``m["Subject"]``, ``m.get_content()``, ``m["To"]``)."""
        return [
            email.message_from_bytes(e.original_content or e.content, policy=policy.default)
            for e in self.received
        ]

    def to(self, address: str) -> list[Any]:
        """The accepted mails for ``address``."""
        return [m for m in self.messages() if m["To"] == address]


@contextlib.contextmanager
def smtp_server(logins: dict[str, str] | None = None) -> Iterator[Mailbox]:
    """An aiosmtpd server on 127.0.0.1 and a free port, collecting what it accepts; with ``logins``
    (user → password) it asks for a login (AUTH PLAIN/LOGIN, allowed without TLS here)."""
    box = Mailbox(port=free_port())
    options: dict[str, Any] = {}
    if logins is not None:

        def check(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
            user = auth_data.login.decode()
            ok = logins.get(user) == auth_data.password.decode()
            return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535 itself

        options = {"authenticator": check, "auth_require_tls": False}
    controller = Controller(box, hostname="127.0.0.1", port=box.port, **options)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@contextlib.contextmanager
def hanging_server() -> Iterator[int]:
    """A port where connections are taken (by the kernel's backlog) but nothing is ever said: yields the port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield int(s.getsockname()[1])
