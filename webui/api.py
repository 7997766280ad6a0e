"""The JSON API for scripts and the future front end; the browser session is the credential.

Routes: ``GET /api/search?q=&type=&customer=&tag=&from=&to=&sort=&page=&limit=``,
``GET /api/documents/<id>``, ``GET /api/status``, ``GET /api/batches?limit=``,
``GET /api/batches/<id>``, ``GET /api/customers?type=&industry=&region=&owner=&q=&status=``,
``GET /api/customers/<id>``, ``POST /api/batches/<id>/retry`` (JSON ``{"document_ids": [...]}`` or
form fields ``document_id``; the CSRF token in ``X-CSRF-Token``).  Errors are ``{"error": message}``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, g, jsonify, request

from dossier import folder
from dossier.errors import Forbidden
from webui.auth import login_required
from webui.core import get_dossier
from webui.customers import FILTERS as CUSTOMER_FILTERS
from webui.jobs import LIST_LIMIT, document_ids_from, ensure_may_retry
from webui.search import search_request_from_args

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.route("/search")
@login_required
def search() -> Any:
    """Search; the answer is :meth:`Dossier.search`'s dict (total, took_ms, hits, facets)."""
    req, _page = search_request_from_args(
        request.args,
        page_size=current_app.config["SEARCH_PAGE_SIZE"],
        max_limit=current_app.config["API_MAX_LIMIT"],
    )
    return jsonify(get_dossier().search(req, g.principal))


@bp.route("/documents/<int:doc_id>")
@login_required
def document(doc_id: int) -> Any:
    """One document as :meth:`Dossier.show` describes it; 404 when unknown or not readable."""
    return jsonify(get_dossier().show(doc_id, g.principal))


@bp.route("/customers")
@login_required
def customers() -> Any:
    """Registry customers with readable document counts; ``status=suggested`` for admins and managers."""
    status = (request.args.get("status") or "confirmed").strip()
    if status not in ("confirmed", "suggested"):
        abort(400, description="status 只能是 confirmed 或 suggested / status must be confirmed or suggested")
    if status == "suggested" and g.principal.role not in folder.READ_ALL_ROLES:
        raise Forbidden("只有管理员或经理可以查看待确认的客户 / only admins and managers see suggestions")
    filters = {key: (request.args.get(param) or "").strip() or None for param, key in CUSTOMER_FILTERS.items()}
    with get_dossier().sessions() as session:
        rows = folder.list_customers(session, g.principal, status=status, text=request.args.get("q"), **filters)
    return jsonify({"total": len(rows), "customers": rows})


@bp.route("/customers/<int:customer_id>")
@login_required
def customer(customer_id: int) -> Any:
    """One customer's folder: details, contacts, readable documents by type and year, key amounts and dates."""
    with get_dossier().sessions() as session:
        return jsonify(folder.customer_page(session, customer_id, g.principal))


@bp.route("/status")
@login_required
def status() -> Any:
    """Document counts by status and pages awaiting OCR (admins and managers: it names the data folder)."""
    if g.principal.role not in ("admin", "manager"):
        raise Forbidden("只有管理员可以查看系统状态 / only administrators may see the system status")
    return jsonify(get_dossier().status())


@bp.route("/batches")
@login_required
def batches() -> Any:
    """``{"batches": [...]}``: the batches the user may see, newest first (``limit``, at most 100)."""
    limit = request.args.get("limit", "")
    n = int(limit) if limit.isdigit() and int(limit) > 0 else LIST_LIMIT
    n = min(n, current_app.config["API_MAX_LIMIT"])
    return jsonify({"batches": get_dossier().batches(g.principal, limit=n)})


@bp.route("/batches/<int:batch_id>")
@login_required
def batch(batch_id: int) -> Any:
    """One batch with its items and failures (:meth:`Dossier.batch_status`); 404 when not visible."""
    return jsonify(get_dossier().batch_status(batch_id, g.principal))


@bp.route("/batches/<int:batch_id>/retry", methods=("POST",))
@login_required
def retry_batch(batch_id: int) -> Any:
    """Re-queue failed files of a batch: ``{"requeued": n, "batch": {...}}``; viewers get 403.

    Without ``document_ids`` (or with an empty list) every failure of the batch is retried.
    """
    ensure_may_retry()
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict) and body.get("document_ids") is not None:
        raw = body["document_ids"]
        if not isinstance(raw, list):
            raw = [raw]
        values = [str(v) for v in raw]
    else:
        values = request.form.getlist("document_id")
    d = get_dossier()
    count = d.retry(batch_id, g.principal, document_ids_from(values))
    return jsonify({"requeued": count, "batch": d.batch_status(batch_id, g.principal)})
