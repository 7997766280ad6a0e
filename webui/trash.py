"""The trash page (回收站) and the archive buttons of a document page.

Routes: ``GET /trash`` (what waits in the trash that the user could read), ``POST /trash/<id>/restore``
and ``POST /trash/purge`` (managers and admins; the purge needs its confirmation box ticked),
``POST /documents/<id>/archive`` and ``/unarchive``, ``POST /archive-search`` (every hit of the search its
hidden fields describe, ``action`` archive or unarchive; the confirmation box must be ticked) — managers
and admins.  Every POST carries
the CSRF token; the rules are :mod:`dossier.app._trash` and :mod:`dossier.app._archive`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from dossier.app import permissions as rights
from webui._requests import search_request_from_args
from webui.auth import login_required
from webui.core import get_dossier
from webui.export import search_params
from webui.i18n import gettext as _

bp = Blueprint("trash", __name__)


@bp.route("/trash")
@login_required
def index() -> Any:
    """The trash: title, type, who trashed it, when, when it will be purged; restore and purge buttons."""
    d = get_dossier()
    return render_template(
        "trash/index.html",
        entries=d.trash.entries(g.principal),
        days=d.trash.days,
        may_manage=rights.may_manage_trash(g.principal),
    )


@bp.route("/trash/<int:doc_id>/restore", methods=("POST",))
@login_required
def restore(doc_id: int) -> Any:
    """Restore one line of the trash; back to the trash page."""
    result = get_dossier().trash.restore(doc_id, g.principal)
    flash(_("trash.restored", n=len(result["restored"])), "info")
    return redirect(url_for("trash.index"))


@bp.route("/trash/purge", methods=("POST",))
@login_required
def purge() -> Any:
    """Erase the trash (or the ticked lines) for good; the confirmation box must be ticked."""
    ids = [int(v) for v in request.form.getlist("id") if v.isdigit()] or None
    result = get_dossier().trash.purge(g.principal, confirm=request.form.get("confirm") == "1", ids=ids)
    flash(_("trash.purged", n=len(result["purged"])), "info")
    return redirect(url_for("trash.index"))


@bp.route("/documents/<int:doc_id>/archive", methods=("POST",))
@login_required
def archive(doc_id: int) -> Any:
    """Archive a document (with its family); back to its page."""
    get_dossier().archive.archive([doc_id], g.principal)
    flash(_("archive.done"), "info")
    return redirect(url_for("documents.show", doc_id=doc_id))


@bp.route("/documents/<int:doc_id>/unarchive", methods=("POST",))
@login_required
def unarchive(doc_id: int) -> Any:
    """Unarchive a document (with its family); back to its page."""
    get_dossier().archive.unarchive([doc_id], g.principal)
    flash(_("archive.undone"), "info")
    return redirect(url_for("documents.show", doc_id=doc_id))


@bp.route("/archive-search", methods=("POST",))
@login_required
def archive_search() -> Any:
    """Archive (or, ``action=unarchive``, unarchive) every hit of a search; back to that search."""
    req, _page = search_request_from_args(request.form, page_size=1, max_limit=1)
    back = f"{url_for('search.index')}?{urlencode(search_params(request.form))}"
    if request.form.get("confirm") != "1":
        flash(_("archive.search_confirm_needed"), "error")
        return redirect(back)
    d = get_dossier()
    if request.form.get("action") == "unarchive":
        done = d.archive.unarchive_search(req, g.principal)["unarchived"]
        flash(_("archive.search_undone", n=len(done)), "info")
    else:
        done = d.archive.archive_search(req, g.principal)["archived"]
        flash(_("archive.search_done", n=len(done)), "info")
    return redirect(back)
