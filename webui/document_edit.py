"""Changing a document: its details and confidentiality, a new version of its file, deleting it.

Routes: ``GET/POST /documents/<id>/edit``, ``POST /documents/<id>/version``,
``POST /documents/<id>/versions/<n>/restore`` (make an older version current again),
``GET/POST /documents/<id>/delete`` (a confirmation page, then the delete).  Who may do what
is :mod:`dossier.app.permissions`; a document the user may not read is 404 here as everywhere.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from foundation.errors import DossierError, Forbidden, NotFound
from index import CONFIDENTIALITY_LEVELS
from ingest import DOC_TYPES
from webui.auth import login_required
from webui.core import get_dossier
from webui.i18n import gettext as _
from webui.i18n import say

bp = Blueprint("document_edit", __name__, url_prefix="/documents")


def _tags(raw: str) -> list[str]:
    return [t.strip() for t in raw.replace("，", ",").replace("、", ",").split(",") if t.strip()]


@bp.route("/<int:doc_id>/edit", methods=("GET", "POST"))
@login_required
def edit(doc_id: int) -> Any:
    """The edit form (prefilled); POST saves what changed and goes back to the document page."""
    d = get_dossier()
    doc = d.show(doc_id, g.principal)  # 404 for what the user may not read
    allowed = d.documents.permissions(doc_id, g.principal)
    if not (allowed["edit"] or allowed["confidentiality"]):
        raise Forbidden(_("docedit.forbidden"))
    error = None
    status = 200
    form: dict[str, Any] = {
        "title": doc["title"],
        "doc_type": doc["doc_type"],
        "date": doc.get("date") or "",
        "tags": "，".join(doc.get("tags") or []),
        "confidentiality": doc["confidentiality"],
    }
    if request.method == "POST":
        form.update({k: request.form.get(k, form[k]) for k in form})
        if form["doc_type"] not in DOC_TYPES or form["confidentiality"] not in CONFIDENTIALITY_LEVELS:
            abort(400)
        if not allowed["confidentiality"] and form["confidentiality"] != doc["confidentiality"]:
            raise Forbidden(_("docedit.level_forbidden"))  # said, not silently ignored
        try:
            result = d.documents.update(
                doc_id,
                g.principal,
                title=form["title"] if allowed["edit"] else None,
                doc_type=form["doc_type"] if allowed["edit"] else None,
                date=form["date"] if allowed["edit"] else None,
                tags=_tags(form["tags"]) if allowed["edit"] else None,
                confidentiality=form["confidentiality"] if allowed["confidentiality"] else None,
            )
        except Forbidden:
            raise
        except DossierError as exc:
            error, status = say(exc), 400
        else:
            flash(
                _("docedit.saved", n=len(result["changed"])) if result["changed"] else _("docedit.unchanged"),
                "info",
            )
            return redirect(url_for("documents.show", doc_id=doc_id))
    return render_template(
        "document_edit/edit.html",
        doc=doc,
        form=form,
        allowed=allowed,
        error=error,
        doc_types=list(DOC_TYPES),
        levels=CONFIDENTIALITY_LEVELS,
    ), status


@bp.route("/<int:doc_id>/version", methods=("POST",))
@login_required
def version(doc_id: int) -> Any:
    """Upload a new version of the document's file; it is processed like an upload."""
    file = request.files.get("file")
    if file is None or not file.filename:
        flash(_("upload.none"), "error")
        return redirect(url_for("document_edit.edit", doc_id=doc_id))
    outcome = get_dossier().documents.add_version(doc_id, file.filename, file.read(), g.principal)
    if outcome["status"] == "queued":
        flash(_("docedit.version_queued"), "info")
    elif (
        outcome["status"] == "duplicate" and outcome["id"] is not None
    ):  # named only to who may read everything
        flash(_("docedit.version_duplicate", id=outcome["id"]), "error")
    elif outcome["status"] == "duplicate":
        flash(_("docedit.version_already_stored"), "error")
    else:
        flash(say(outcome.get("error")) or _("error.500"), "error")
    return redirect(url_for("documents.show", doc_id=doc_id))


@bp.route("/<int:doc_id>/versions/<int:number>/restore", methods=("POST",))
@login_required
def restore_version(doc_id: int, number: int) -> Any:
    """Make version ``number`` the current one again (a new version with its file, processed like an upload)."""
    try:
        outcome = get_dossier().documents.restore_version(doc_id, number, g.principal)
    except (Forbidden, NotFound):
        raise
    except DossierError as exc:
        flash(say(exc), "error")
    else:
        flash(_("version.restored", n=number, v=outcome["version"]), "info")
    return redirect(url_for("documents.show", doc_id=doc_id))


@bp.route("/<int:doc_id>/delete", methods=("GET", "POST"))
@login_required
def delete(doc_id: int) -> Any:
    """A confirmation page; its POST deletes the document (managers and admins)."""
    d = get_dossier()
    doc = d.show(doc_id, g.principal)
    if not d.documents.permissions(doc_id, g.principal)["delete"]:
        raise Forbidden(_("docedit.delete_forbidden"))
    if request.method == "POST":
        result = d.documents.delete(doc_id, g.principal)
        flash(_("docedit.deleted", title=doc["title"] or doc["filename"], n=len(result["deleted"])), "info")
        return redirect(url_for("search.index"))
    return render_template("document_edit/delete.html", doc=doc)
