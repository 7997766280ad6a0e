"""Notifications (通知) on the web: the counter in the navigation bar, the list, and the e-mail outbox for admins.

Routes: ``GET /notifications`` (``?unread=1&page=``), ``POST /notifications/read`` (form fields ``id``,
or ``all=1``); the API ``GET /api/notifications[?unread=1&page=]`` → ``{"unread", "total", "page",
"pages", "items"}`` and ``POST /api/notifications/read`` (JSON ``{"ids": [...]}`` or ``{"all": true}``,
CSRF token in ``X-CSRF-Token``) → ``{"marked", "unread"}``.  ``GET /admin/mail`` (admins; 404 for
everyone else): pending and failed e-mails with their attempts and last error (``?status=sent``
for the sent ones), ``POST /admin/mail/retry`` (``id`` or ``all=1``) tries failed ones again.
Every POST carries the CSRF token.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for

from foundation.errors import DossierError
from webui.auth import login_required
from webui.core import get_dossier
from webui.i18n import gettext as _
from webui.i18n import say

bp = Blueprint("notifications", __name__)


@bp.app_context_processor
def _counter() -> dict[str, Any]:
    """``unread_notifications()`` for the navigation bar (one indexed count, only when a page asks)."""

    def unread_notifications() -> int:
        principal = g.get("principal")
        if principal is None:
            return 0
        try:
            return int(get_dossier().notifications.unread_count(principal))
        except Exception:  # the counter must never break a page (the database hiccuped): no number
            return 0

    return {"unread_notifications": unread_notifications}


def _page_arg() -> int:
    raw = request.args.get("page", "")
    return min(10_000, int(raw)) if raw.isdigit() and int(raw) > 0 else 1


def _ids(values: list[Any]) -> list[int]:
    ids = []
    for value in values[:1000]:
        text = str(value).strip()
        if not text.isdigit():
            abort(400, description=_("notify.web.bad_ids"))
        ids.append(int(text))
    return ids


def _api_user() -> None:
    if g.get("principal") is None:
        abort(401)


@bp.route("/notifications")
@login_required
def index() -> Any:
    """The user's notifications, newest first (unread ones stand out)."""
    unread_only = request.args.get("unread") == "1"
    result = get_dossier().notifications.list(g.principal, unread_only=unread_only, page=_page_arg())
    return render_template("notifications/index.html", result=result, unread_only=unread_only)


@bp.route("/notifications/read", methods=("POST",))
@login_required
def read() -> Any:
    """Mark some (``id`` fields) or all (``all=1``) of the user's notifications read."""
    ids = None if request.form.get("all") == "1" else _ids(request.form.getlist("id"))
    n = get_dossier().notifications.mark_read(g.principal, ids)
    flash(_("notify.web.marked", n=n), "info")
    return redirect(url_for("notifications.index"))


@bp.get("/api/notifications")
def api_list() -> Any:
    """``{"unread", "total", "page", "pages", "items"}`` of the caller."""
    _api_user()
    unread_only = request.args.get("unread") in ("1", "true")
    return jsonify(get_dossier().notifications.list(g.principal, unread_only=unread_only, page=_page_arg()))


@bp.post("/api/notifications/read")
def api_read() -> Any:
    """Mark ``{"ids": [...]}`` or ``{"all": true}`` read; ``{"marked", "unread"}``."""
    _api_user()
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not (body.get("all") is True or isinstance(body.get("ids"), list)):
        abort(400, description=_("notify.web.bad_read"))
    ids = None if body.get("all") is True else _ids(body["ids"])
    service = get_dossier().notifications
    marked = service.mark_read(g.principal, ids)
    return jsonify({"marked": marked, "unread": service.unread_count(g.principal)})


def _require_admin() -> None:
    if g.principal.role != "admin":
        abort(404)


@bp.route("/admin/mail")
@login_required
def mail() -> Any:
    """The e-mail outbox: pending and failed mails (or ``?status=sent``), attempts, last error, retry."""
    _require_admin()
    status = (
        request.args.get("status") if request.args.get("status") in ("pending", "failed", "sent") else None
    )
    service = get_dossier().notifications
    rows = service.mails(g.principal, status)
    for row in rows:
        row["error_text"] = say(row["last_error"]) if row["last_error"] else ""
    return render_template(
        "notifications/mail.html",
        rows=rows,
        status=status,
        counts=service.mail_counts(),
        enabled=service.smtp.enabled,
    )


@bp.route("/admin/mail/retry", methods=("POST",))
@login_required
def mail_retry() -> Any:
    """Try one failed mail (``id``) or every failed one (``all=1``) again at the workers' next round."""
    _require_admin()
    ids = None if request.form.get("all") == "1" else _ids(request.form.getlist("id"))
    try:
        found = get_dossier().notifications.retry(g.principal, ids)
    except DossierError as exc:  # not (or no longer) failed: say so on the page
        flash(say(exc), "error")
    else:
        flash(_("notify.web.retried", n=len(found)), "info")
    return redirect(url_for("notifications.mail"))
