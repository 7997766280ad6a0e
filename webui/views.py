"""Saved views (保存的视图): named searches in the navigation, the search page's save form, their page, their API.

Routes: ``GET /views`` (mine and the team's shared ones: open, rename, share, delete),
``POST /views`` (save the search page's parameters under a name; form ``name``, ``shared``, the
search's fields), ``GET /views/<id>`` (open it: the search page with its parameters),
``POST /views/<id>/rename``, ``/share`` (``shared=1|0``) and ``/delete`` (its owner or an admin).
API: ``GET /api/views``, ``POST /api/views`` (JSON ``{"name", "params", "shared"}``; ``params`` a
query string like ``q=合同&type=contract`` or an object), ``PATCH /api/views/<id>`` (any of
``name``, ``params``, ``shared``), ``DELETE /api/views/<id>``; CSRF token in ``X-CSRF-Token``.
A view is only a query: who opens it searches with their own rights (:mod:`dossier.app.saved_views`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for

from dossier.app.search_request import PARAMS
from foundation.errors import DossierError
from webui.auth import login_required
from webui.core import get_dossier
from webui.i18n import gettext as _
from webui.i18n import say

bp = Blueprint("views", __name__, url_prefix="/views")
api = Blueprint("views_api", __name__, url_prefix="/api/views")


def _form_params() -> str:
    """The search parameters a form carries (its hidden fields), as a query string."""
    return urlencode([(k, v) for k, v in request.form.items(multi=True) if k in PARAMS and v.strip()])


@bp.app_template_global()
def nav_views() -> list[dict[str, Any]]:
    """The views the navigation lists for the signed-in user (theirs, then the shared ones)."""
    principal = g.get("principal")
    if principal is None or principal.user_id is None:
        return []
    return get_dossier().views.list(principal)


@bp.app_template_global()
def search_page_params() -> list[tuple[str, str]]:
    """The current search page's parameters (repeats kept, no paging), for the save form's hidden fields."""
    return [(k, v) for k, v in request.args.items(multi=True) if k in PARAMS and v.strip()]


@bp.route("", methods=("GET",))
@login_required
def index() -> Any:
    """The saved views page: mine and the shared ones."""
    views = get_dossier().views.list(g.principal)
    return render_template(
        "views/index.html",
        mine=[v for v in views if v["mine"]],
        shared=[v for v in views if not v["mine"]],
    )


@bp.route("", methods=("POST",))
@login_required
def save() -> Any:
    """Save the search the form carries; back to that search, saying so (or why not)."""
    params = _form_params()
    back = url_for("search.index") + (f"?{params}" if params else "")
    try:
        view = get_dossier().views.save(
            g.principal, request.form.get("name"), params, shared=request.form.get("shared") == "1"
        )
    except DossierError as exc:
        if exc.status >= 500:
            raise
        flash(say(exc), "error")
    else:
        flash(_("views.saved", name=view["name"]), "info")
    return redirect(back)


@bp.route("/<int:view_id>")
@login_required
def open_view(view_id: int) -> Any:
    """Open a view: the search page with its parameters (searched with the caller's own rights)."""
    view = get_dossier().views.get(view_id, g.principal)
    return redirect(url_for("search.index") + (f"?{view['params']}" if view["params"] else "?all=1"))


def _change(view_id: int, done: str, **fields: Any) -> Any:
    try:
        view = get_dossier().views.update(view_id, g.principal, **fields)
    except DossierError as exc:
        if exc.status >= 500 or exc.status in (403, 404):
            raise
        flash(say(exc), "error")
    else:
        flash(_(done, name=view["name"]), "info")
    return redirect(url_for("views.index"))


@bp.route("/<int:view_id>/rename", methods=("POST",))
@login_required
def rename(view_id: int) -> Any:
    """Rename a view (its owner or an admin)."""
    return _change(view_id, "views.renamed", name=request.form.get("name") or "")


@bp.route("/<int:view_id>/share", methods=("POST",))
@login_required
def share(view_id: int) -> Any:
    """Share a view with the team (``shared=1``) or stop sharing it (``shared=0``)."""
    shared = request.form.get("shared") == "1"
    return _change(view_id, "views.shared_on" if shared else "views.shared_off", shared=shared)


@bp.route("/<int:view_id>/delete", methods=("POST",))
@login_required
def delete(view_id: int) -> Any:
    """Delete a view (its owner or an admin)."""
    d = get_dossier()
    view = d.views.get(view_id, g.principal)
    d.views.delete(view_id, g.principal)
    flash(_("views.deleted", name=view["name"]), "info")
    return redirect(url_for("views.index"))


# -- API --------------------------------------------------------------------------------------------


def _payload() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else request.form.to_dict()


def _flag(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


@api.route("", methods=("GET",))
@login_required
def api_list() -> Any:
    """``{"views": [...]}``: the caller's views and the shared ones."""
    return jsonify({"views": get_dossier().views.list(g.principal)})


@api.route("", methods=("POST",))
@login_required
def api_save() -> Any:
    """Save a view; 201 with it."""
    data = _payload()
    view = get_dossier().views.save(
        g.principal, data.get("name"), data.get("params") or "", shared=bool(_flag(data.get("shared")))
    )
    return jsonify(view), 201


@api.route("/<int:view_id>", methods=("GET",))
@login_required
def api_get(view_id: int) -> Any:
    """One view the caller sees."""
    return jsonify(get_dossier().views.get(view_id, g.principal))


@api.route("/<int:view_id>", methods=("PATCH",))
@login_required
def api_update(view_id: int) -> Any:
    """Rename, re-share or change a view's search (its owner or an admin)."""
    data = _payload()
    return jsonify(
        get_dossier().views.update(
            view_id,
            g.principal,
            name=data.get("name"),
            params=data.get("params"),
            shared=_flag(data.get("shared")),
        )
    )


@api.route("/<int:view_id>", methods=("DELETE",))
@login_required
def api_delete(view_id: int) -> Any:
    """Delete a view (its owner or an admin)."""
    return jsonify(get_dossier().views.delete(view_id, g.principal))
