"""The JSON API for scripts and the future front end; the browser session is the credential.

Routes: ``GET /api/search?q=&type=&customer=&tag=&from=&to=&sort=&page=&limit=``,
``GET /api/documents/<id>``, ``GET /api/status``.  Errors are ``{"error": message}``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, request

from dossier.errors import Forbidden
from webui.auth import login_required
from webui.core import get_dossier
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


@bp.route("/status")
@login_required
def status() -> Any:
    """Document counts by status and pages awaiting OCR (admins and managers: it names the data folder)."""
    if g.principal.role not in ("admin", "manager"):
        raise Forbidden("只有管理员可以查看系统状态 / only administrators may see the system status")
    return jsonify(get_dossier().status())
