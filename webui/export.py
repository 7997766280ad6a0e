"""Exports of the search result set: the search page's export buttons, background exports' pages and files.

Routes: ``POST /export`` (form: ``format`` plus the search parameters of the page, CSRF token) —
an export of at most DOSSIER_EXPORT_STREAM_MAX hits downloads at once, and so does a larger
one while no worker serves the queue (the search page says so beforehand); otherwise it
starts a background job and goes to its page.  ``GET /export/jobs`` (the user's exports),
``GET /export/jobs/<id>`` (progress; static/export.js polls ``/api/exports/<id>``),
``GET /export/jobs/<id>/download`` (the file, for its owner, until it expires).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from werkzeug.datastructures import MultiDict

from dossier.app.export import FORMATS, ExportFormatError, check_format, default_base_url, export_filename
from foundation.errors import DossierError
from pipeline.queue import QueueUnavailable
from webui._requests import QUERY_PARAMS, search_request_from_args
from webui.auth import login_required
from webui.core import get_dossier
from webui.documents import content_disposition
from webui.i18n import gettext as _
from webui.i18n import say

bp = Blueprint("export", __name__, url_prefix="/export")

#: The search page's parameters an export carries (paging does not apply).
SEARCH_PARAMS = tuple(p for p in QUERY_PARAMS if p not in ("page", "limit"))


def base_url() -> str:
    """Where the document links in an export (and a background job's file) point; never an unchecked Host header.

    DOSSIER_PUBLIC_URL when set; else, while the app checks Host against DOSSIER_ALLOWED_HOSTS
    (``TRUSTED_HOSTS``: other hosts got 400 before this runs), the address this request came to;
    else the address Dossier listens on (:func:`dossier.app.export.default_base_url`).
    """
    settings = get_dossier().settings
    if settings.public_url or current_app.config.get("TRUSTED_HOSTS") is None:
        return default_base_url(settings)
    return request.url_root.rstrip("/")


def search_params(args: MultiDict[str, str]) -> list[tuple[str, str]]:
    """The search parameters of ``args`` (repeats kept), for the export form's hidden fields."""
    return [(k, v) for k, v in args.items(multi=True) if k in SEARCH_PARAMS and v.strip()]


def export_offer(total: int) -> dict[str, Any]:
    """What the search page's export bar shows before anything starts: the hits, the limits, how it will run."""
    d = get_dossier()
    limits = d.exports.limits
    background = total > limits.stream_max
    return {
        "total": total,
        "limits": limits,
        "over_limit": bool(limits.max_hits and total > limits.max_hits),
        "zip_over": bool(limits.zip_max_files and total > limits.zip_max_files),
        "background": background,
        "queue_ready": d.exports.worker_queue() is not None if background else True,
        "formats": tuple(FORMATS),
        "params": search_params(request.args),
    }


def attachment(chunks: Iterator[bytes], fmt: str) -> Response:
    """A streamed download of an export's bytes."""
    response = Response(chunks, mimetype=FORMATS[fmt].mime)
    response.headers["Content-Disposition"] = content_disposition(export_filename(fmt), "dossier-export")
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Accel-Buffering"] = "no"  # a proxy in front passes the stream on as it comes
    return response


@bp.route("", methods=("POST",))
@login_required
def start() -> Any:
    """Export the search the form describes: a download now, or a background job and its page."""
    try:
        fmt = check_format(request.form.get("format"))
    except ExportFormatError as exc:
        abort(400, description=say(exc))
    back = url_for("search.index") + "?" + urlencode(search_params(request.form))
    req, _page = search_request_from_args(
        request.form,
        page_size=current_app.config["SEARCH_PAGE_SIZE"],
        max_limit=current_app.config["API_MAX_LIMIT"],
    )
    d = get_dossier()
    try:
        plan = d.exports.plan(req, g.principal, fmt)
    except DossierError as exc:
        if exc.status != 400:
            raise
        flash(_("export.failed", msg=say(exc)), "error")
        return redirect(back, code=303)
    if not plan.allowed:
        flash(_("export.refused", msg=say(plan.reason)), "error")
        return redirect(back, code=303)
    if plan.background:
        try:
            job = d.exports.start_job(req, g.principal, fmt, base_url=base_url(), plan=plan)
        except QueueUnavailable:
            pass  # no worker: the export streams from here instead, as the search page announced
        else:
            flash(_("export.started", n=plan.count), "info")
            return redirect(url_for("export.job", job_id=job["id"]), code=303)
    _plan, chunks = d.exports.stream(req, g.principal, fmt, base_url=base_url(), via="web", plan=plan)
    return attachment(chunks, fmt)


@bp.route("/jobs")
@login_required
def jobs() -> Any:
    """The user's background exports, newest first."""
    d = get_dossier()
    return render_template(
        "export/jobs.html", jobs=d.exports.jobs(g.principal), ttl_hours=d.exports.limits.ttl_hours
    )


@bp.route("/jobs/<int:job_id>")
@login_required
def job(job_id: int) -> Any:
    """One background export: progress while it runs, then the download link and when it expires."""
    return render_template("export/job.html", job=get_dossier().exports.job(job_id, g.principal))


@bp.route("/jobs/<int:job_id>/download")
@login_required
def download(job_id: int) -> Any:
    """The finished file of the user's export (410 once it has expired)."""
    path, name, mime = get_dossier().exports.job_file(job_id, g.principal)
    response = send_file(
        path, mimetype=mime, as_attachment=True, download_name=name, max_age=0, conditional=True
    )
    response.headers["Content-Disposition"] = content_disposition(name, "dossier-export")
    response.headers["Cache-Control"] = "private, no-store"
    return response
