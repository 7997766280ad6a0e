"""Reminders (提醒) and customer care (客户关怀) on the web: pages, start-page panels, the JSON API.

Pages: ``GET /reminders`` (``?status=&due_within=&owner=&team=1&customer=``: the list, the add
form and the customers to contact), ``POST /reminders`` (add), ``POST /reminders/<id>/done``,
``/snooze`` (``days`` or ``until``), ``/reopen``, ``/cancel``, ``/reassign`` (``owner``) — each
with the CSRF token and an optional ``next`` (a path of this site) to go back to.  The start page
(``/`` without a query) and each customer page include panels from :func:`reminder_panels` and
:func:`customer_reminders`.

API (CSRF token in ``X-CSRF-Token`` for each change, or a bearer token):
``GET /api/reminders?due_within=&owner=&team=1&status=&customer=&include_overdue=0`` →
``{"today", "items": [...]}``; ``GET /api/reminders/<id>``; ``POST /api/reminders`` (JSON or form:
``title``, ``due``, ``customer``, ``document``, ``owner``, ``note``, ``confidentiality``) → 201;
``POST /api/reminders/<id>/done|reopen|cancel``, ``/snooze`` (``{"days": N}`` or ``{"until": date}``),
``/reassign`` (``{"owner": user}``); ``DELETE /api/reminders/<id>``; ``GET /api/reminders/care``
→ ``{"today", "customers": [...]}``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for

from dossier.app.permissions import MANAGE_ROLES
from foundation.errors import ConfigError, DossierError
from webui.auth import login_required
from webui.core import get_dossier
from webui.i18n import gettext as _
from webui.i18n import say

bp = Blueprint("reminders", __name__)
api_bp = Blueprint("reminders_api", __name__, url_prefix="/api/reminders")

#: Days ahead the start page's panels look.
PANEL_DAYS = 14
#: Lines a start-page panel shows (the reminders page has them all).
PANEL_LINES = 10
#: The actions a reminder's buttons post, with what the page says after each.
CHANGED = {
    "done": lambda: _("reminders.changed.done"),
    "reopen": lambda: _("reminders.changed.reopen"),
    "cancel": lambda: _("reminders.changed.cancel"),
    "snooze": lambda: _("reminders.changed.snooze"),
    "reassign": lambda: _("reminders.changed.reassign"),
}
ACTIONS = tuple(CHANGED)


def _int_or_none(raw: str | None) -> int | None:
    """A whole number from a parameter (None when empty); 400 naming the value otherwise."""
    text = (raw or "").strip()
    if not text:
        return None
    if not text.isdigit():
        abort(400, description=_("app.reminder.bad_days", value=text[:20]))
    return int(text)


def _list_args(args: Any) -> dict[str, Any]:
    include = str(args.get("include_overdue", "1")).strip().lower() not in ("0", "false", "no")
    return {
        "due_within": _int_or_none(args.get("due_within")),
        "owner": (args.get("owner") or "").strip() or None,
        "team": str(args.get("team", "")).strip().lower() in ("1", "true", "yes", "on"),
        "status": (args.get("status") or "open").strip(),
        "customer": (args.get("customer") or "").strip() or None,
        "include_overdue": include,
    }


# -- panels the other pages include ---------------------------------------------------------------


@bp.app_template_global()
def reminder_panels() -> dict[str, Any]:
    """The start page's panels: my reminders, my team's (managers and admins), customers to contact."""
    principal = g.principal
    reminders = get_dossier().reminders
    mine = reminders.list(principal, due_within=PANEL_DAYS) if principal.user_id is not None else []
    team = (
        reminders.list(principal, due_within=PANEL_DAYS, team=True) if principal.role in MANAGE_ROLES else []
    )
    care_error = None
    try:
        care = reminders.stale_customers(principal)
    except ConfigError as exc:  # the page still works; the panel names the setting to fix
        care, care_error = [], say(exc)
    return {
        "care_error": care_error,
        "mine": mine[:PANEL_LINES],
        "mine_more": max(0, len(mine) - PANEL_LINES),
        "team": team[:PANEL_LINES],
        "team_more": max(0, len(team) - PANEL_LINES),
        "care": care[:PANEL_LINES],
        "care_more": max(0, len(care) - PANEL_LINES),
        "days": PANEL_DAYS,
        "show_mine": principal.role != "viewer" or bool(mine),
        "show_team": principal.role in MANAGE_ROLES,
    }


@bp.app_template_global()
def customer_reminders(customer_id: int) -> list[dict[str, Any]]:
    """The open reminders of one customer that the reader sees."""
    return get_dossier().reminders.list(g.principal, team=True, customer=customer_id)


@bp.app_template_global()
def may_add_reminder() -> bool:
    """Whether the reader may add reminders (every role but viewer)."""
    return bool(g.principal and g.principal.role != "viewer")


# -- pages ------------------------------------------------------------------------------------------


def _back(default: str) -> Any:
    target = (request.form.get("next") or "").strip()
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = default
    return redirect(target, code=303)


@bp.route("/reminders")
@login_required
def index() -> Any:
    """The reminders the reader sees, filtered; the add form; the customers to contact."""
    d = get_dossier()
    error = None
    try:
        args = _list_args(request.args)
        if not request.args and g.principal.role in MANAGE_ROLES:
            args["team"] = True  # managers land on the team's list
        items = d.reminders.list(g.principal, **args)
    except DossierError as exc:
        if exc.status not in (400, 404):
            raise
        error, items, args = say(exc), [], _list_args({})
    care_error = None
    try:
        care = d.reminders.stale_customers(g.principal)
    except ConfigError as exc:
        care, care_error = [], say(exc)
    return render_template(
        "reminders/index.html",
        items=items,
        args=args,
        error=error,
        care=care,
        care_error=care_error,
        users=d.reminders.assignable_users(g.principal),
        may_assign=g.principal.role in MANAGE_ROLES,
        today=d.reminders.today().isoformat(),
    ), (400 if error else 200)


def _form_value(name: str) -> str | None:
    return (request.form.get(name) or "").strip() or None


@bp.route("/reminders", methods=("POST",))
@login_required
def add() -> Any:
    """Add a reminder from the form; back to ``next`` (or the reminders page)."""
    try:
        item = get_dossier().reminders.add(
            g.principal,
            request.form.get("title") or "",
            request.form.get("due"),
            customer=_form_value("customer"),
            document=_form_value("document"),
            owner=_form_value("owner"),
            note=_form_value("note"),
        )
    except DossierError as exc:
        if exc.status not in (400, 403, 404):
            raise
        flash(say(exc), "error")
    else:
        flash(_("reminders.added", title=item["title"]), "info")
    return _back(url_for("reminders.index"))


@bp.route("/reminders/<int:reminder_id>/<action>", methods=("POST",))
@login_required
def act(reminder_id: int, action: str) -> Any:
    """Done, reopen, cancel, snooze (``days`` or ``until``) or reassign (``owner``) one reminder."""
    if action not in ACTIONS:
        abort(404)
    service = get_dossier().reminders
    try:
        if action == "snooze":
            service.snooze(
                reminder_id,
                g.principal,
                days=_int_or_none(request.form.get("days")),
                until=_form_value("until"),
            )
        elif action == "reassign":
            service.reassign(reminder_id, g.principal, request.form.get("owner") or "")
        else:
            getattr(service, action)(reminder_id, g.principal)
    except DossierError as exc:
        if exc.status != 400:
            raise
        flash(say(exc), "error")
    else:
        flash(CHANGED[action](), "info")
    return _back(url_for("reminders.index"))


# -- API --------------------------------------------------------------------------------------------


@api_bp.route("", methods=("GET",))
@login_required
def api_list() -> Any:
    """``{"today", "items"}``: the reminders the caller sees, as the filters ask."""
    reminders = get_dossier().reminders
    items = reminders.list(g.principal, **_list_args(request.args))
    return jsonify({"today": reminders.today().isoformat(), "items": items})


def _payload() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else request.form.to_dict()


def _text(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    return None if value in (None, "") else str(value)


@api_bp.route("", methods=("POST",))
@login_required
def api_add() -> Any:
    """Add a reminder; 201 with it."""
    data = _payload()
    item = get_dossier().reminders.add(
        g.principal,
        str(data.get("title") or ""),
        _text(data, "due") or _text(data, "due_on"),
        customer=_text(data, "customer"),
        document=_text(data, "document"),
        owner=_text(data, "owner"),
        note=_text(data, "note"),
        confidentiality=_text(data, "confidentiality"),
    )
    return jsonify(item), 201


@api_bp.route("/care")
@login_required
def api_care() -> Any:
    """``{"today", "customers"}``: the customers the caller looks after that are due a contact."""
    reminders = get_dossier().reminders
    return jsonify(
        {"today": reminders.today().isoformat(), "customers": reminders.stale_customers(g.principal)}
    )


@api_bp.route("/<int:reminder_id>", methods=("GET",))
@login_required
def api_get(reminder_id: int) -> Any:
    """One reminder (404 when unknown or not seen)."""
    return jsonify(get_dossier().reminders.get(reminder_id, g.principal))


@api_bp.route("/<int:reminder_id>", methods=("DELETE",))
@login_required
def api_delete(reminder_id: int) -> Any:
    """Delete a reminder for good."""
    return jsonify(get_dossier().reminders.delete(reminder_id, g.principal))


@api_bp.route("/<int:reminder_id>/<action>", methods=("POST",))
@login_required
def api_act(reminder_id: int, action: str) -> Any:
    """done, reopen, cancel, snooze (``days`` or ``until``), reassign (``owner``); the reminder after."""
    if action not in ACTIONS:
        abort(404)
    data = _payload()
    service = get_dossier().reminders
    if action == "snooze":
        days = data.get("days")
        item = service.snooze(
            reminder_id,
            g.principal,
            days=days if isinstance(days, int) else _int_or_none(_text(data, "days")),
            until=_text(data, "until"),
        )
    elif action == "reassign":
        item = service.reassign(reminder_id, g.principal, _text(data, "owner") or "")
    else:
        item = getattr(service, action)(reminder_id, g.principal)
    return jsonify(item)
