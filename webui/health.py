"""Health: ``GET /healthz`` for load balancers and container health checks, and the probes that call it.

The endpoint needs no login and says only what is up, never counts of documents or error
texts (those can carry URLs with passwords; they go to the log).  It answers 200 while the
records database answers — the queue and the index may be down, and the JSON says so as
``"status": "degraded"`` with the ``reasons`` — and 503 otherwise.  Work waiting in the records
(documents queued or being processed, pages awaiting OCR) while no worker is alive is degraded
too: nothing would ever finish it.

``python -m webui.health`` is the image's HEALTHCHECK (exit 0 when ``/healthz`` answers 200);
``python -m webui.health --worker`` is the worker container's: exit 0 when a worker of this
host has said, through the queue's liveness key, that it is alive.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, jsonify

from foundation.messages import msg
from webui.i18n import say

bp = Blueprint("health", __name__)

#: Where the web container's probe asks (gunicorn binds port 8000 in the image).
DEFAULT_URL = "http://127.0.0.1:8000/healthz"


def _failure(name: str, exc: Exception) -> dict[str, Any]:
    """A failed check: the exception's class for the caller, its message for the log."""
    current_app.logger.warning("health: %s: %s", name, exc)
    return {"ok": False, "error": type(exc).__name__}


def _probe(name: str, check: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run one check: ``{"ok": true, ...details}`` or ``{"ok": false, "error": ...}``."""
    try:
        return {"ok": True, **check()}
    # A probe reports every failure as a state instead of failing itself: that is its job.
    except Exception as exc:
        return _failure(name, exc)


@bp.get("/healthz")
def healthz() -> Any:
    """The state of the records database, the job queue and the search index."""
    from sqlalchemy import text

    from webui.core import get_dossier

    try:
        dossier = get_dossier()
    except Exception as exc:  # not initialised, database down, backend misconfigured: all mean 503
        body = {
            "status": "unavailable",
            "reasons": [_REASONS["database"]],
            "database": _failure("open", exc),
            "queue": {"ok": None},
            "index": {"ok": None},
        }
        return jsonify(body), 503

    def database() -> dict[str, Any]:
        with dossier.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"backend": dossier.engine.dialect.name}

    def queue() -> dict[str, Any]:
        jobs = dossier.queue()
        if jobs is None:
            raise ConnectionError("Redis unreachable")
        jobs.redis.ping()
        return {"jobs": jobs.queue.count, "workers": jobs.live_workers()}

    def search_index() -> dict[str, Any]:
        dossier.backend.count()
        return {"backend": dossier.backend.name}

    parts = {
        "database": _probe("database", database),
        "queue": _probe("queue", queue),
        "index": _probe("index", search_index),
    }
    healthy = bool(parts["database"]["ok"])
    if healthy:  # e-mails that failed for good wait for an admin (/admin/mail): degraded, never down
        parts["mail"] = _probe("mail", lambda: _mail_state(dossier))
    if healthy and parts["queue"]["ok"] and parts["queue"]["workers"] == 0:
        try:
            stalled = _work_waits(dossier)
        except Exception as exc:  # the database answered SELECT 1 a moment ago; say so, do not fail
            current_app.logger.warning("health: waiting work: %s", exc)
            stalled = False
        if stalled:
            parts["queue"] = {**parts["queue"], "ok": False, "error": "NoWorker"}
    reasons = [
        say(_NO_WORKER if part.get("error") == "NoWorker" else _MAIL if name == "mail" else _REASONS[name])
        for name, part in parts.items()
        if not part["ok"]
    ]
    status = "ok" if all(part["ok"] for part in parts.values()) else "degraded" if healthy else "unavailable"
    return jsonify({"status": status, "reasons": reasons, **parts}), 200 if healthy else 503


_REASONS = {
    "database": msg("web.health.database"),
    "queue": msg("web.health.queue"),
    "index": msg("web.health.index"),
}
_NO_WORKER = msg("web.health.no_worker")
_MAIL = msg("web.health.mail_failed")


def _mail_state(dossier: Any) -> dict[str, Any]:
    """Raises MailFailed (the probe answers ``{"ok": false, "error": "MailFailed"}``) when e-mails failed for good."""
    if dossier.notifications.mail_counts()["failed"]:
        raise MailFailed
    return {}


class MailFailed(Exception):
    """Some reminder e-mails failed after every try (the probe reports it as ``{"ok": false}``)."""


def _work_waits(dossier: Any) -> bool:
    """True when the records hold work a worker must do: documents queued or processing, pages awaiting OCR."""
    from sqlalchemy import exists, select

    from records import Document, Page

    documents = exists().where(Document.status.in_(("queued", "processing")))
    pages = (
        exists()
        .where(Page.document_id == Document.id)
        .where(Page.needs_ocr.is_(True), Page.ocr_error.is_(None), Document.status == "awaiting_ocr")
    )
    with dossier.sessions() as session:
        return bool(session.scalar(select(documents)) or session.scalar(select(pages)))


# -- the container probes -------------------------------------------------------------------


def probe_web(url: str = DEFAULT_URL, timeout_s: float = 25.0) -> int:
    """0 when ``url`` answers 200, else 1 (with the reason on stderr)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return 0 if response.status == 200 else 1
    except urllib.error.HTTPError as exc:  # a 503 from /healthz
        print(f"unhealthy: {url} answered {exc.code}: {exc.read()[:500]!r}", file=sys.stderr)
    except OSError as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
    return 1


def _pids() -> list[int]:
    """The processes this (container's) host can see."""
    return sorted(int(entry) for entry in os.listdir("/proc") if entry.isdigit())


def probe_worker() -> int:
    """0 when a worker process here holds a live liveness key in this data home's queue, else 1."""
    from foundation.config import load_settings
    from foundation.errors import DossierError
    from pipeline.queue import JobQueue

    try:
        queue = JobQueue.from_settings(load_settings())
    except DossierError as exc:
        print(f"unhealthy: {exc.message}", file=sys.stderr)
        return 1
    host = socket.gethostname()
    try:
        # Worker names are "<host>.<pid>" (workers.runner.worker_name); its key lives LIVENESS_TTL_S.
        alive = any(queue.is_alive(f"{host}.{pid}") for pid in _pids())
    finally:
        queue.redis.close()
    if not alive:
        print(f"unhealthy: no live worker on {host}", file=sys.stderr)
    return 0 if alive else 1


def argument_parser() -> argparse.ArgumentParser:
    """The probes' command line: ``python -m webui.health [--url URL] [--worker]``."""
    parser = argparse.ArgumentParser(prog="python -m webui.health", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url", default=DEFAULT_URL, help=f"health URL of the web server (default {DEFAULT_URL})"
    )
    parser.add_argument(
        "--worker", action="store_true", help="check this host's worker instead of the web server"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the probe the arguments name; the exit status is the verdict."""
    args = argument_parser().parse_args(argv)
    return probe_worker() if args.worker else probe_web(args.url)


if __name__ == "__main__":
    sys.exit(main())
