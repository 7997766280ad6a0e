"""The application: :class:`Dossier` (one open data home) and the services it is made of.

Accounts, documents, the customer registry, search, export and the audit trail, over the intake
chain (:mod:`pipeline`), the records and the index.  The worker runtime (:mod:`workers`), the web
UI (:mod:`webui`) and the command line (:mod:`dossier.cli`) sit above it; nothing here imports them.
"""

from __future__ import annotations

from dossier.app._accounts import LoginThrottled, SessionEnded
from dossier.app.services import Dossier

__all__ = ["Dossier", "LoginThrottled", "SessionEnded"]
