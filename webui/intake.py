"""Upload files through the browser: each submission becomes one batch whose files are queued.

Routes: ``GET/POST /upload``.  A POST stores every original, queues it and answers at once with a
redirect to the batch's page (``/jobs/<id>``), where the parsing and OCR progress shows live.
Each submission writes one ``upload`` audit event (the batch, its file names and what became of them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from werkzeug.datastructures import FileStorage

from dossier.app.audit import upload_detail
from dossier.app.services import DOC_TYPES
from webui.auth import login_required
from webui.core import get_dossier
from webui.i18n import gettext as _

bp = Blueprint("intake", __name__)

#: Roles that only read.
READ_ONLY_ROLES = ("viewer",)
MAX_FILES = 100


def posted_files() -> list[FileStorage]:
    """The request's ``files`` parts that carry a file."""
    return [f for f in request.files.getlist("files") if f and f.filename]


def form_tags(raw: str) -> tuple[str, ...]:
    """Comma-separated tags (ASCII or full-width commas), trimmed, each once."""
    return tuple(dict.fromkeys(t.strip() for t in raw.replace("，", ",").split(",") if t.strip()))


def batch_refusal(files: Sequence[FileStorage], doc_type: str | None) -> str | None:
    """Why a posted batch cannot be taken (an unknown type, no file, too many files), in the reader's language."""
    if doc_type is not None and doc_type not in DOC_TYPES:
        return str(_("web.api.bad_doc_type", value=doc_type[:40]))
    if not files:
        return str(_("upload.none"))
    if len(files) > MAX_FILES:
        return str(_("upload.too_many", n=MAX_FILES))
    return None


def take_batch(
    files: Sequence[FileStorage],
    channel: str,
    *,
    customer: str | None,
    doc_type: str | None,
    tags: tuple[str, ...],
) -> dict[str, Any]:
    """Store and queue ``files`` as one batch of the signed-in user, with one ``upload`` audit event.

    ``channel``: ``web`` (the upload page) or ``api``.  Returns ``{"batch_id", "counts": {"queued",
    "duplicate", "failed"}, "files": [{"name", "status", "document_id", "error"}], "customer"}``
    (``customer``: what the customer field became, :meth:`customers.intake_customer`).
    """
    d = get_dossier()
    batch_id = d.new_batch("upload", g.principal.username)
    counts = {"queued": 0, "duplicate": 0, "failed": 0}
    outcomes: list[dict[str, Any]] = []
    for f in files:
        name = f.filename or "upload"
        outcome = d.ingest_upload(
            name,
            f.read(),
            principal=g.principal,
            customer=customer,
            doc_type=doc_type,
            tags=tags,
            batch_id=batch_id,
        )
        state = outcome.get("status") or ("failed" if outcome.get("error") else "queued")
        state = state if state in counts else "queued"
        counts[state] += 1
        outcomes.append(
            {"name": name, "status": state, "document_id": outcome.get("id"), "error": outcome.get("error")}
        )
    d.close_batch(batch_id)
    named = d.customers.intake_customer(customer)
    d.audit.record(
        g.principal.username,
        "upload",
        target_type="batch",
        target_id=batch_id,
        detail=upload_detail(
            channel,
            batch_id,
            [o["name"] for o in outcomes],
            customer=customer,
            doc_type=doc_type,
            tags=tags,
            outcome=counts,
        ),
    )
    return {"batch_id": batch_id, "counts": counts, "files": outcomes, "customer": named}


@bp.route("/upload", methods=("GET", "POST"))
@login_required
def upload() -> Any:
    """A multi-file upload form (drag and drop with static/upload.js); a POST queues one batch."""
    if g.principal.role in READ_ONLY_ROLES:
        abort(403)
    error = None
    status = 200
    if request.method == "POST":
        files = posted_files()
        customer = request.form.get("customer", "").strip() or None
        doc_type = request.form.get("doc_type", "").strip() or None
        tags = form_tags(request.form.get("tags", ""))
        error = batch_refusal(files, doc_type)
        if error is not None:
            status = 400
        else:
            taken = take_batch(files, "web", customer=customer, doc_type=doc_type, tags=tags)
            batch_id, counts = taken["batch_id"], taken["counts"]
            _flash_customer(taken["customer"])
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
