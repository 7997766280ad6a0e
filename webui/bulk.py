"""Bulk edit (批量编辑): many documents at once — the hits ticked on the search page, or every hit of the search.

Routes: ``GET /bulk`` (the search page's bulk bar sends ``scope=selected`` with ``ids``, or
``scope=all`` with the search's parameters: the form of what to set), ``POST /bulk/preview`` (the
confirmation: how many documents change, how many are already so, how many are skipped and why),
``POST /bulk/apply`` (the change, then a summary).  API: ``POST /api/bulk`` (JSON ``{"ids": [...]}``
or ``{"search": "q=…&type=…"}``, ``"changes": {"doc_type", "add_tags", "remove_tags", "customer"
| "customer_id", "confidentiality", "archive"}``, ``"dry_run": true`` for the plan only; CSRF token
in ``X-CSRF-Token``).  The rules are :mod:`dossier.app.bulk`'s: viewers cannot, sales reps change
the documents they may edit, level and archive take a manager or admin.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from dossier.app import folder
from dossier.app import permissions as rights
from dossier.app.bulk import BulkError, skip_messages
from dossier.app.search_request import PARAMS
from foundation.errors import DossierError, Forbidden
from foundation.messages import msg
from index import CONFIDENTIALITY_LEVELS
from ingest import DOC_TYPES
from webui._requests import search_request_from_args
from webui.auth import login_required
from webui.core import get_dossier
from webui.i18n import gettext as _
from webui.i18n import localized, say

bp = Blueprint("bulk", __name__, url_prefix="/bulk")
api = Blueprint("bulk_api", __name__, url_prefix="/api/bulk")

#: The fields of a change, as the forms name them.
CHANGE_FIELDS = ("doc_type", "add_tags", "remove_tags", "customer", "confidentiality", "archive")


@bp.app_template_global()
def may_bulk_edit() -> bool:
    """Whether the signed-in user may bulk-edit at all (everyone but viewers)."""
    principal = g.get("principal")
    return principal is not None and rights.may_upload(principal)


def _search_pairs(args: MultiDict[str, str]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in args.items(multi=True) if k in PARAMS and v.strip()]


def _selection(args: MultiDict[str, str]) -> dict[str, Any]:
    """What the request selects: ``scope``, the ``ids`` (resolved: every hit for ``all``), the search's fields."""
    scope = "all" if args.get("scope") == "all" else "selected"
    d = get_dossier()
    if scope == "all":
        req, _page = search_request_from_args(args, page_size=1, max_limit=1)
        ids = d.bulk.select(g.principal, request=req)
    else:
        ids = d.bulk.select(g.principal, ids=[int(i) for i in args.getlist("ids") if i.strip().isdigit()])
    return {"scope": scope, "ids": ids, "params": _search_pairs(args)}


def _back_to_search(pairs: list[tuple[str, str]]) -> Any:
    return redirect(url_for("search.index") + (f"?{urlencode(pairs)}" if pairs else ""))


def _page(template: str, selection: dict[str, Any], **context: Any) -> str:
    return render_template(
        template,
        selection=selection,
        doc_types=list(DOC_TYPES),
        levels=CONFIDENTIALITY_LEVELS,
        may_level=rights.may_change_confidentiality(g.principal),
        may_archive=rights.may_archive(g.principal),
        form={k: request.values.get(k, "") for k in CHANGE_FIELDS},
        **context,
    )


@bp.route("", methods=("GET",))
@login_required
def edit() -> Any:
    """What to set on the selected documents (nothing changes yet)."""
    if not may_bulk_edit():
        raise Forbidden(_("bulk.forbidden"))
    try:
        selection = _selection(request.args)
    except DossierError as exc:
        if exc.status != 400:
            raise
        flash(say(exc), "error")
        return _back_to_search(_search_pairs(request.args))
    return _page("bulk/edit.html", selection)


@bp.route("/preview", methods=("POST",))
@login_required
def preview() -> Any:
    """The confirmation: how many documents change, how many are skipped and why."""
    d = get_dossier()
    try:
        selection = _selection(request.form)
    except DossierError as exc:
        if exc.status != 400:
            raise
        flash(say(exc), "error")
        return _back_to_search(_search_pairs(request.form))
    try:
        change = d.bulk.change(request.form)
        plan = d.bulk.plan(selection["ids"], change, g.principal)
    except DossierError as exc:
        if exc.status != 400:
            raise
        return _page("bulk/edit.html", selection, error=say(exc)), 400  # the form again, saying what to fix
    return _page(
        "bulk/confirm.html",
        selection,
        plan=plan,
        change=change,
        reasons=_reasons(plan),
        customer=_customer(change),
    )


@bp.route("/apply", methods=("POST",))
@login_required
def apply() -> Any:
    """Make the change, then say what happened."""
    d = get_dossier()
    try:
        selection = _selection(request.form)
        change = d.bulk.change(request.form)
    except DossierError as exc:
        if exc.status != 400:
            raise
        flash(say(exc), "error")
        return _back_to_search(_search_pairs(request.form))
    result = d.bulk.apply(selection["ids"], change, g.principal)
    return _page(
        "bulk/result.html",
        selection,
        result=result,
        change=change,
        reasons=_reasons(result),
        customer=_customer(change),
    )


def _reasons(outcome: dict[str, Any]) -> list[tuple[str, int]]:
    texts = skip_messages()
    return [(say(texts[reason]), n) for reason, n in sorted(outcome["counts"].items())]


def _customer(change: Any) -> str | None:
    if not change.customer_id:
        return None
    with get_dossier().sessions() as session:
        return folder.customer_names(session, (change.customer_id,)).get(change.customer_id)


# -- API --------------------------------------------------------------------------------------------


@api.route("", methods=("POST",))
@login_required
def api_bulk() -> Any:
    """Plan (``dry_run``) or make one change to many documents: the plan's or the result's JSON."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise BulkError(msg("app.bulk.bad_body"))
    d = get_dossier()
    search = data.get("search")
    if search is not None:
        pairs = (
            parse_qsl(search) if isinstance(search, str) else [(k, str(v)) for k, v in dict(search).items()]
        )
        req, _page = search_request_from_args(MultiDict(pairs), page_size=1, max_limit=1)
        ids = d.bulk.select(g.principal, request=req)
    else:
        raw = data.get("ids") or []
        ids = d.bulk.select(g.principal, ids=[int(i) for i in raw if str(i).isdigit()])
    raw_changes = data.get("changes")
    changes: dict[str, Any] = raw_changes if isinstance(raw_changes, dict) else {}
    change = d.bulk.change(changes)
    outcome = (
        d.bulk.plan(ids, change, g.principal)
        if data.get("dry_run")
        else d.bulk.apply(ids, change, g.principal)
    )
    texts = skip_messages()
    for entry in outcome["skipped"]:
        entry["why"] = texts[entry["reason"]]
    outcome["change_asked"] = change.as_json()
    outcome["dry_run"] = bool(data.get("dry_run"))
    return jsonify(localized(outcome))
