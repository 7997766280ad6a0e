"""Upload files through the browser: each submission becomes one batch whose files are queued.

Routes: ``GET/POST /upload``.  A POST stores every original, queues it and answers at once with a
redirect to the batch's page (``/jobs/<id>``), where the parsing and OCR progress shows live.
Each submission writes one ``upload`` audit event (the batch, its file names and what became of them).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from dossier.app.audit import upload_detail
from dossier.app.services import DOC_TYPES
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
    """A multi-file upload form (drag and drop with static/upload.js); a POST queues one batch."""
    if g.principal.role in READ_ONLY_ROLES:
        abort(403)
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
            batch_id = d.new_batch("upload", g.principal.username)
            counts = {"queued": 0, "duplicate": 0, "failed": 0}
            for f in files:
                outcome = d.ingest_upload(
                    f.filename or "upload",
                    f.read(),
                    principal=g.principal,
                    customer=customer,
                    doc_type=doc_type,
                    tags=tags,
                    batch_id=batch_id,
                )
                state = outcome.get("status") or ("failed" if outcome.get("error") else "queued")
                counts[state if state in counts else "queued"] += 1
            d.close_batch(batch_id)
            _flash_customer(d.customers.intake_customer(customer))
            d.audit.record(
                g.principal.username,
                "upload",
                target_type="batch",
                target_id=batch_id,
                detail=upload_detail(
                    "web",
                    batch_id,
                    [f.filename or "upload" for f in files],
                    customer=customer,
                    doc_type=doc_type,
                    tags=tags,
                    outcome=counts,
                ),
            )
            flash(_("upload.accepted", n=len(files), **counts), "info")
            return redirect(url_for("jobs.show", batch_id=batch_id), code=303)
    return (
        render_template(
            "intake/upload.html",
            error=error,
            doc_types=DOC_TYPES,
            max_files=MAX_FILES,
            max_bytes=current_app.config.get("MAX_CONTENT_LENGTH") or 0,
            customer_names=get_dossier().customers.registered_names(),
        ),
        status,
    )


#: How an intake customer outcome is told: (message id, flash category).
_CUSTOMER_NOTES = {
    "registered": ("upload.customer.registered", "info"),
    "suggested": ("upload.customer.pending", "info"),
    "new": ("upload.customer.pending", "info"),
    "rejected": ("upload.customer.rejected", "warning"),
    "self": ("upload.customer.self", "warning"),
    "ambiguous": ("upload.customer.ambiguous", "warning"),
}


def _flash_customer(named: dict[str, Any] | None) -> None:
    """Say what the customer field became when it is not simply a registered customer's name."""
    if named is None or named["message"] is None or named["outcome"] not in _CUSTOMER_NOTES:
        return
    message_id, category = _CUSTOMER_NOTES[named["outcome"]]
    flash(
        _(
            message_id,
            name=named["name"],
            customer=named["customer"] or "",
            candidates="、".join(named["candidates"]),
        ),
        category,
    )
