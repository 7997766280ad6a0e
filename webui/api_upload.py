"""``POST /api/upload``: files into Dossier from a script, as the upload page takes them from a person.

A ``multipart/form-data`` body: one or more ``files`` parts (at most :data:`webui.intake.MAX_FILES`),
optional ``customer``, ``doc_type`` (one of the document types) and ``tags`` (comma-separated).  The
answer is 202 at once — parsing and OCR go on in the workers — with the batch and what became of each
file: ``{"batch_id", "batch_url", "counts": {"queued", "duplicate", "failed"}, "files": [{"name",
"status", "document_id", "error"}], "customer"}``; ``GET /api/batches/<batch_id>`` follows its progress.
Viewers get 403; no file, too many files or an unknown type 400; a body over ``DOSSIER_MAX_FILE_MB``
413.  With a Bearer token no CSRF token is needed; from a browser session the ``X-CSRF-Token`` header
carries it.  Each call writes one ``upload`` audit event (channel ``api``), as the page does.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, g, jsonify, request, url_for

from webui.auth import login_required
from webui.i18n import localized
from webui.intake import READ_ONLY_ROLES, batch_refusal, form_tags, posted_files, take_batch

bp = Blueprint("api_upload", __name__, url_prefix="/api")


@bp.post("/upload")
@login_required
def upload() -> Any:
    """Store and queue the posted files as one batch: 202 with the batch and each file's outcome."""
    if g.principal.role in READ_ONLY_ROLES:
        abort(403)
    files = posted_files()
    customer = request.form.get("customer", "").strip() or None
    doc_type = request.form.get("doc_type", "").strip() or None
    tags = form_tags(request.form.get("tags", ""))
    refusal = batch_refusal(files, doc_type)
    if refusal is not None:
        abort(400, description=refusal)
    taken = take_batch(files, "api", customer=customer, doc_type=doc_type, tags=tags)
    answer = {
        "batch_id": taken["batch_id"],
        "batch_url": url_for("api.batch", batch_id=taken["batch_id"]),
        "counts": taken["counts"],
        "files": taken["files"],
        "customer": taken["customer"],
    }
    return jsonify(localized(answer)), 202
