"""Upload files through the browser (parsed synchronously for now; a queue comes later).

Routes: ``GET/POST /upload``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, render_template, request

from dossier.services import DOC_TYPES
from webui.auth import login_required
from webui.core import get_dossier
from webui.i18n import gettext as _

bp = Blueprint("intake", __name__)

#: Roles that only read.
READ_ONLY_ROLES = ("viewer",)
MAX_FILES = 100


@bp.route("/upload", methods=("GET", "POST"))
@login_required
def upload() -> Any:
    """A multi-file upload form; each file's outcome (new, duplicate, failed) is listed."""
    if g.principal.role in READ_ONLY_ROLES:
        abort(403)
    results: list[dict[str, Any]] = []
    error = None
    status = 200
    if request.method == "POST":
        files = [f for f in request.files.getlist("files") if f and f.filename]
        customer = request.form.get("customer", "").strip() or None
        doc_type = request.form.get("doc_type", "").strip() or None
        tags = tuple(
            dict.fromkeys(
                t.strip() for t in request.form.get("tags", "").replace("，", ",").split(",") if t.strip()
            )
        )
        if doc_type is not None and doc_type not in DOC_TYPES:
            abort(400)
        if not files:
            error, status = _("upload.none"), 400
        elif len(files) > MAX_FILES:
            error, status = _("upload.too_many", n=MAX_FILES), 400
        else:
            d = get_dossier()
            for f in files:
                outcome = d.ingest_upload(
                    f.filename or "upload",
                    f.read(),
                    principal=g.principal,
                    customer=customer,
                    doc_type=doc_type,
                    tags=tags,
                )
                results.append({"filename": f.filename, **outcome})
    return render_template("intake/upload.html", results=results, error=error, doc_types=DOC_TYPES), status
