"""The app's one :class:`Dossier`, opened lazily and shared by every request of that app."""

from __future__ import annotations

import threading

from flask import Flask, current_app

from dossier.app.services import Dossier

_OPEN_LOCK = threading.Lock()


def init_app(app: Flask) -> None:
    """Reserve the app's Dossier slot; the instance opens on first use (so `dossier init` can come later)."""
    app.extensions.setdefault("dossier", None)


def get_dossier() -> Dossier:
    """Return the current app's Dossier, opening it on first use."""
    app = current_app
    d = app.extensions.get("dossier")
    if d is None:
        with _OPEN_LOCK:
            d = app.extensions.get("dossier")
            if d is None:
                d = Dossier.open(app.config["DOSSIER_SETTINGS"]).interactive()
                app.extensions["dossier"] = d
    return d
