"""Intake batches: their progress (live while they run), their failures with reasons, and retry.

Routes: ``GET /jobs`` (every batch the user may see, newest first), ``GET /jobs/<id>?page=N`` (one
batch, its files :data:`ITEMS_PER_PAGE` a page; static/jobs.js polls ``/api/batches/<id>`` while it
runs and keeps to the same page), ``POST /jobs/<id>/retry`` (the whole batch, or the failed files
named by ``document_id`` fields; then back to the batch). Files show by name, their folder muted;
retry is offered only for failures a retry can fix (:mod:`pipeline.failures`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from foundation.errors import DossierError, Forbidden, NotFound
from webui.auth import login_required
from webui.core import get_dossier
from webui.i18n import gettext as _
from webui.i18n import say
from webui.intake import READ_ONLY_ROLES  # they may watch batches but not re-queue anything

bp = Blueprint("jobs", __name__)

#: How many batches the list shows.
LIST_LIMIT = 50

#: How many file rows one page of a batch shows (a 173-file batch is four pages, not one 6,000 px page).
ITEMS_PER_PAGE = 50


def ensure_may_retry() -> None:
    """Refuse a retry by a read-only user (403) before anything else is looked up."""
    if g.principal.role in READ_ONLY_ROLES:
        raise Forbidden(_("jobs.retry_forbidden"))


def document_ids_from(values: list[str]) -> list[int] | None:
    """The ``document_id`` values of a retry request as ints; ``None`` (the whole batch) when there are none."""
    ids: list[int] = []
    for value in values:
        value = str(value).strip()
        if not value:
            continue
        if not value.isdigit():
            abort(400, description=_("jobs.bad_document_id", value=value[:40]))
        ids.append(int(value))
    return ids or None


def batch_view(batch: dict[str, Any]) -> dict[str, Any]:
    """A batch dict plus what the templates show: files settled and pages settled, as numbers."""
    files = batch.get("files") or {}
    pages = batch.get("pages") or {}
    settled = sum(int(files.get(k) or 0) for k in ("done", "duplicate", "failed"))
    pages_settled = int(pages.get("done") or 0) + int(pages.get("failed") or 0)
    return dict(batch, files_settled=settled, pages_settled=pages_settled)


@bp.route("/jobs")
@login_required
def index() -> Any:
    """Every batch the user may see, newest first, with progress, counts, speed and ETA."""
    batches = [batch_view(b) for b in get_dossier().batches(g.principal, limit=LIST_LIMIT)]
    return render_template("jobs/index.html", batches=batches)


@bp.route("/jobs/<int:batch_id>")
@login_required
def show(batch_id: int) -> Any:
    """One batch: progress, its files a page at a time, the failures with their reasons and retry buttons."""
    batch = batch_view(get_dossier().batch_status(batch_id, g.principal))
    items = batch["items"]
    page_count = max(1, -(-len(items) // ITEMS_PER_PAGE))
    page = min(max(1, request.args.get("page", 1, type=int) or 1), page_count)
    batch["items"] = items[(page - 1) * ITEMS_PER_PAGE : page * ITEMS_PER_PAGE]
    return render_template(
        "jobs/show.html",
        batch=batch,
        may_retry=_may_retry(),
        page=page,
        page_count=page_count,
        page_size=ITEMS_PER_PAGE,
        any_retryable=any(f["retryable"] for f in batch["failures"]),
    )


@bp.route("/jobs/<int:batch_id>/retry", methods=("POST",))
@login_required
def retry(batch_id: int) -> Any:
    """Re-queue the batch's failed files (or only the posted ``document_id`` ones), then go back."""
    ensure_may_retry()
    ids = document_ids_from(request.form.getlist("document_id"))
    try:
        count = get_dossier().retry(batch_id, g.principal, ids)
    except (NotFound, Forbidden):
        raise
    except DossierError as exc:  # e.g. the queue is unreachable: say so on the batch page
        flash(_("jobs.retry_failed", msg=say(exc)), "error")
    else:
        if count:
            flash(_("jobs.retried", n=count), "info")
        else:
            flash(_("jobs.nothing_to_retry"), "warning")
    return redirect(url_for("jobs.show", batch_id=batch_id), code=303)


def _may_retry() -> bool:
    return g.principal.role not in READ_ONLY_ROLES


@bp.app_template_filter("duration")
def duration(seconds: float | None) -> str:
    """Seconds as "2 分 5 秒" / "2 min 5 s" (hours and minutes past an hour); "—" when unknown."""
    if seconds is None:
        return _("jobs.unknown")
    total = max(0, round(float(seconds)))
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    if h:
        return _("duration.h", h=h, m=m)
    if m:
        return _("duration.m", m=m, s=s)
    return _("duration.s", s=s)
