"""The JSON API for scripts and the future front end; the browser session is the credential.

Routes: ``GET /api/search?q=&type=&customer=&tag=&from=&to=&sort=&page=&limit=``,
``GET /api/documents/<id>``, ``GET /api/documents/<id>/versions`` (every version: number, file, size,
sha256, uploader, time, ``restored_from``, ``current``), ``GET /api/documents/<id>/versions/<n>`` (its text),
``GET /api/documents/<id>/versions/<n>/original`` (its file), ``POST /api/documents/<id>/versions/<n>/restore``
(make it current again; CSRF token in ``X-CSRF-Token``), ``GET /api/status``, ``GET /api/batches?limit=``,
``GET /api/batches/<id>``, ``GET /api/customers?type=&industry=&region=&owner=&stage=&importance=&tag=&q=&status=
&sort=name|last_activity|open_reminders|contract_amount&offset=&limit=`` (``{"total", "offset", "limit", "sort",
"customers"}``), ``GET /api/customers/<id>``, ``PATCH /api/customers/<id>`` (JSON fields; CSRF token in
``X-CSRF-Token``; a sales rep changes contacts, stage, tags and notes of their own customers), ``POST /api/batches/<id>/retry`` (JSON ``{"document_ids": [...]}`` or
form fields ``document_id``; the CSRF token in ``X-CSRF-Token``).  Errors are ``{"error": message}``.

``GET /api/audit?user=&action=&target_type=&target_id=&from=&to=&q=&limit=&page=&before=`` — the audit
trail for admins (404 for everyone else): ``{"total", "limit", "offset", "events", "next_before"}``,
newest first; ``before=<next_before>`` reads on from there (``limit`` at most 500).

Exports take the filters of ``/api/search`` plus ``format=csv|xlsx|jsonl|zip`` (and ``limit=N`` for
only the first N hits): ``GET /api/export/plan`` (hits and limits, nothing written),
``GET /api/export`` (the file, streamed whatever its size), ``POST /api/exports`` (a background
export: 202 with its state; CSRF token in ``X-CSRF-Token``; 503 while no worker serves the queue —
then use ``GET /api/export``),
``GET /api/exports`` (the caller's) and ``GET /api/exports/<id>`` (state, progress, ``download_url``).

The trash (回收站) and the archive (归档), CSRF token in ``X-CSRF-Token`` for each POST:
``GET /api/trash`` (``{"days", "documents": [...]}``: what the caller could read),
``POST /api/trash/<id>/restore``, ``POST /api/trash/purge`` (JSON ``{"confirm": true, "ids": [...]}``,
no ``ids``: everything; managers and admins), ``POST /api/documents/<id>/archive`` and
``/unarchive``, ``POST /api/archive`` and ``/api/unarchive`` with the filters of ``/api/search``
(every hit of that search).  ``/api/search`` takes ``archived=exclude|include|only``.

Retention (managers and admins; 404 for everyone else): ``GET /api/retention?status=`` (``{"queue",
"rules", "holds"}``), ``POST /api/retention/propose`` (``{"document_id", "reason"}``),
``POST /api/retention/<id>/approve`` (403 for its proposer: two people), ``POST /api/retention/<id>/reject``,
``POST /api/retention/hold`` (``{"document_id"}`` or ``{"customer"}``, ``"reason"``, ``"release": true``),
``POST /api/retention/rules`` and ``DELETE /api/retention/rules/<id>``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from flask import Blueprint, abort, current_app, g, jsonify, request, url_for

from dossier.app import folder
from dossier.app.audit import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from dossier.app.customer_list import MAX_LIMIT as CUSTOMER_LIST_MAX
from dossier.app.customer_list import customer_list
from dossier.app.export import check_format
from dossier.app.permissions import MANAGE_ROLES
from foundation.errors import Forbidden
from pipeline.queue import QueueUnavailable
from webui._requests import search_request_from_args
from webui.admin import audit_filter_from_args, require_auditor
from webui.auth import login_required
from webui.core import get_dossier
from webui.customers import FILTERS as CUSTOMER_FILTERS
from webui.documents import send_original
from webui.export import attachment, base_url
from webui.i18n import get_language, localized, say
from webui.i18n import gettext as _
from webui.jobs import LIST_LIMIT, document_ids_from, ensure_may_retry

bp = Blueprint("api", __name__, url_prefix="/api")


def _answer(data: Any) -> Any:
    """A JSON answer with the messages in it (stored reasons, jobs' errors) in the request's language."""
    return jsonify(localized(data))


@bp.route("/search")
@login_required
def search() -> Any:
    """Search; the answer is :meth:`Dossier.search`'s dict (total, took_ms, hits, facets)."""
    req, _page = search_request_from_args(
        request.args,
        page_size=current_app.config["SEARCH_PAGE_SIZE"],
        max_limit=current_app.config["API_MAX_LIMIT"],
    )
    d = get_dossier()
    result = d.search(req, g.principal, lang=get_language())  # display titles in the request's language
    d.audit.record_search(g.principal.username, req, result["total"], "api")
    return _answer(result)


@bp.route("/audit")
@login_required
def audit() -> Any:
    """The audit trail (admins; 404 otherwise), filtered as the audit page is; by ``page`` or ``before`` cursor."""
    require_auditor()
    filters = audit_filter_from_args(request.args)
    before = (request.args.get("before") or "").strip()
    if before and not before.isdigit():
        abort(400, description=_("web.api.bad_before", value=before[:20]))
    if before:
        filters = dataclasses.replace(filters, before=int(before))
    limit = _positive(request.args.get("limit"), DEFAULT_PAGE_SIZE)
    limit = min(limit, MAX_PAGE_SIZE)
    page = _positive(request.args.get("page"), 1)
    return _answer(get_dossier().audit.events(g.principal, filters, limit=limit, offset=(page - 1) * limit))


def _positive(raw: str | None, default: int) -> int:
    value = (raw or "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else default


@bp.route("/documents/<int:doc_id>")
@login_required
def document(doc_id: int) -> Any:
    """One document as :meth:`Dossier.show` describes it; 404 when unknown or not readable."""
    return _answer(get_dossier().show(doc_id, g.principal))


@bp.route("/documents/<int:doc_id>/versions")
@login_required
def versions(doc_id: int) -> Any:
    """``{"id", "versions": [...]}``: every version of a readable document, oldest first."""
    return _answer({"id": doc_id, "versions": get_dossier().reading.versions(doc_id, g.principal)})


@bp.route("/documents/<int:doc_id>/versions/<int:number>")
@login_required
def version(doc_id: int, number: int) -> Any:
    """Version ``number`` with its text (``text_kept`` False: a superseded version whose text was not kept)."""
    d = get_dossier()
    found = d.reading.version(doc_id, number, g.principal)
    d.audit.record(
        g.principal.username,
        "view",
        target_type="document",
        target_id=doc_id,
        detail={"title": found["title"], "version": number, "channel": "api"},
    )
    return _answer(found)


@bp.route("/documents/<int:doc_id>/versions/<int:number>/original")
@login_required
def version_original(doc_id: int, number: int) -> Any:
    """The original file of version ``number`` (as ``/documents/<id>/versions/<n>/download``)."""
    return send_original(doc_id, number)


@bp.route("/documents/<int:doc_id>/versions/<int:number>/restore", methods=("POST",))
@login_required
def restore_version(doc_id: int, number: int) -> Any:
    """Make version ``number`` current again: 202 ``{"id", "version", "restored_from", "status"}``."""
    response = _answer(get_dossier().documents.restore_version(doc_id, number, g.principal))
    response.status_code = 202
    return response


@bp.route("/customers")
@login_required
def customers() -> Any:
    """Registry customers with readable document counts and the steering figures, sorted and paged.

    ``status=suggested`` (admins and managers) lists the suggestions instead, unpaged.
    """
    status = (request.args.get("status") or "confirmed").strip()
    if status not in ("confirmed", "suggested"):
        abort(400, description=_("web.api.bad_customer_status"))
    if status == "suggested" and g.principal.role not in folder.READ_ALL_ROLES:
        raise Forbidden(_("web.api.suggestions_forbidden"))
    filters = {
        key: (request.args.get(param) or "").strip() or None for param, key in CUSTOMER_FILTERS.items()
    }
    with get_dossier().sessions() as session:
        if status == "suggested":
            plain = {
                k: v for k, v in filters.items() if k in ("customer_type", "industry", "region", "owner")
            }
            rows = folder.list_customers(
                session, g.principal, status=status, text=request.args.get("q"), **plain
            )
            return _answer({"total": len(rows), "customers": rows})
        limit = request.args.get("limit", "")
        offset = request.args.get("offset", "")
        page = customer_list(
            session,
            g.principal,
            text=request.args.get("q"),
            sort=(request.args.get("sort") or "name").strip(),
            offset=int(offset) if offset.isdigit() else 0,
            limit=int(limit) if limit.isdigit() and int(limit) > 0 else CUSTOMER_LIST_MAX,
            **filters,
        )
    return _answer(page)


@bp.route("/customers/<int:customer_id>", methods=("PATCH",))
@login_required
def edit_customer(customer_id: int) -> Any:
    """Change a customer's fields (JSON, the import's names plus ``tags``): ``{"id", "name", "changed", "reanalysed", "warnings"}``.

    A sales rep sends only ``contacts``, ``stage``, ``tags`` and ``notes`` of a customer they
    own; anything else is a 403 that says what they may change.
    """
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict) or not body:
        abort(400, description=_("web.api.customer_fields_needed"))
    result = get_dossier().customers.update(customer_id, body, g.principal)
    result["warnings"] = [say(w) for w in result["warnings"]]
    return _answer(result)


@bp.route("/customers/<int:customer_id>")
@login_required
def customer(customer_id: int) -> Any:
    """One customer's folder: details, contacts, readable documents by type and year, key amounts and dates."""
    with get_dossier().sessions() as session:
        return _answer(folder.customer_page(session, customer_id, g.principal))


@bp.route("/status")
@login_required
def status() -> Any:
    """Document counts by status and pages awaiting OCR (admins and managers: it names the data folder)."""
    if g.principal.role not in ("admin", "manager"):
        raise Forbidden(_("web.api.status_forbidden"))
    return _answer(get_dossier().status())


@bp.route("/batches")
@login_required
def batches() -> Any:
    """``{"batches": [...]}``: the batches the user may see, newest first (``limit``, at most 100)."""
    limit = request.args.get("limit", "")
    n = int(limit) if limit.isdigit() and int(limit) > 0 else LIST_LIMIT
    n = min(n, current_app.config["API_MAX_LIMIT"])
    return _answer({"batches": get_dossier().batches(g.principal, limit=n)})


@bp.route("/batches/<int:batch_id>")
@login_required
def batch(batch_id: int) -> Any:
    """One batch with its items and failures (:meth:`Dossier.batch_status`); 404 when not visible."""
    return _answer(get_dossier().batch_status(batch_id, g.principal))


@bp.route("/batches/<int:batch_id>/retry", methods=("POST",))
@login_required
def retry_batch(batch_id: int) -> Any:
    """Re-queue failed files of a batch: ``{"requeued": n, "batch": {...}}``; viewers get 403.

    Without ``document_ids`` (or with an empty list) every failure of the batch is retried.
    """
    ensure_may_retry()
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict) and body.get("document_ids") is not None:
        raw = body["document_ids"]
        if not isinstance(raw, list):
            raw = [raw]
        values = [str(v) for v in raw]
    else:
        values = request.form.getlist("document_id")
    d = get_dossier()
    count = d.retry(batch_id, g.principal, document_ids_from(values))
    return _answer({"requeued": count, "batch": d.batch_status(batch_id, g.principal)})


# -- exports ------------------------------------------------------------------------------------


def _export_args() -> tuple[Any, str, int | None]:
    """(search request, format, explicit hit limit) from the query string (and a POST's form)."""
    values = request.values
    fmt = check_format(values.get("format") or "csv")
    raw = (values.get("limit") or "").strip()
    if raw and not (raw.isdigit() and int(raw) > 0):
        abort(400, description=_("web.api.bad_limit", value=raw[:20]))
    req, _page = search_request_from_args(values, page_size=1, max_limit=1)
    return req, fmt, int(raw) if raw else None


def _job_json(job: dict[str, Any]) -> dict[str, Any]:
    out = dict(job)
    out["url"] = url_for("export.job", job_id=job["id"])
    out["status_url"] = url_for("api.export_status", job_id=job["id"])
    out["download_url"] = url_for("export.download", job_id=job["id"]) if job["ready"] else None
    return out


@bp.route("/export/plan")
@login_required
def export_plan() -> Any:
    """What an export would hold (``count`` of ``total`` hits) and every limit, before it starts."""
    req, fmt, limit = _export_args()
    return _answer(get_dossier().exports.plan(req, g.principal, fmt, limit=limit).as_json())


@bp.route("/export")
@login_required
def export_file() -> Any:
    """The export file itself, streamed (422 with the reason when a limit forbids it)."""
    req, fmt, limit = _export_args()
    plan, chunks = get_dossier().exports.stream(
        req, g.principal, fmt, base_url=base_url(), limit=limit, via="api"
    )
    response = attachment(chunks, fmt)
    response.headers["X-Dossier-Hits"] = str(plan.count)
    response.headers["X-Dossier-Total"] = str(plan.total)
    return response


@bp.route("/exports", methods=("POST",))
@login_required
def start_export() -> Any:
    """Start a background export: 202 ``{"id", "status", "url", "status_url", …}``."""
    req, fmt, limit = _export_args()
    try:
        job = get_dossier().exports.start_job(req, g.principal, fmt, base_url=base_url(), limit=limit)
    except QueueUnavailable as exc:
        response = jsonify({"error": say(exc)})
        response.status_code = 503
        return response
    response = _answer(_job_json(job))
    response.status_code = 202
    response.headers["Location"] = url_for("api.export_status", job_id=job["id"])
    return response


@bp.route("/exports")
@login_required
def exports() -> Any:
    """``{"exports": [...]}``: the caller's newest background exports."""
    return _answer({"exports": [_job_json(j) for j in get_dossier().exports.jobs(g.principal)]})


@bp.route("/exports/<int:job_id>")
@login_required
def export_status(job_id: int) -> Any:
    """One background export of the caller: status, ``done``/``total``, ``percent``, ``expires_at``, ``download_url``."""
    return _answer(_job_json(get_dossier().exports.job(job_id, g.principal)))


# -- retention and destruction, the trash and the archive -----------------------------------------


def _body() -> dict[str, Any]:
    """The JSON object posted, else the form's fields (one value each)."""
    body = request.get_json(silent=True) if request.is_json else None
    return body if isinstance(body, dict) else request.form.to_dict()


def _manager_only() -> None:
    """The retention endpoints exist for managers and admins only (404 for everyone else, as the page)."""
    if g.principal.role not in MANAGE_ROLES:
        abort(404)


@bp.route("/retention")
@login_required
def retention() -> Any:
    """The destruction queue, the rules and the holds: ``{"queue", "rules", "holds"}`` (managers and admins)."""
    _manager_only()
    r = get_dossier().retention
    return _answer(
        {"queue": r.queue(status=request.args.get("status") or None), "rules": r.rules(), "holds": r.holds()}
    )


@bp.route("/retention/<int:destruction_id>/approve", methods=("POST",))
@login_required
def retention_approve(destruction_id: int) -> Any:
    """Approve (and carry out) a destruction; 403 for its proposer (two people) and for a held document."""
    _manager_only()
    return _answer(get_dossier().retention.approve(destruction_id, g.principal))


@bp.route("/retention/<int:destruction_id>/reject", methods=("POST",))
@login_required
def retention_reject(destruction_id: int) -> Any:
    """Reject (or, its proposer, cancel) a proposal; ``{"reason"}`` optional."""
    _manager_only()
    reason = str(_body().get("reason") or "") or None
    return _answer(get_dossier().retention.reject(destruction_id, g.principal, reason=reason))


@bp.route("/retention/propose", methods=("POST",))
@login_required
def retention_propose() -> Any:
    """Propose ``{"document_id", "reason"}`` for destruction."""
    _manager_only()
    body = _body()
    raw = str(body.get("document_id") or "")
    if not raw.isdigit():
        abort(400, description=_("retention.bad_document", value=raw[:20]))
    row = get_dossier().retention.propose(int(raw), g.principal, reason=str(body.get("reason") or "") or None)
    return _answer(row), 201


@bp.route("/retention/hold", methods=("POST",))
@login_required
def retention_hold() -> Any:
    """Set or (``"release": true``) release a legal hold: ``{"document_id"}`` or ``{"customer"}``, ``{"reason"}``."""
    _manager_only()
    body = _body()
    document, customer = body.get("document_id"), body.get("customer")
    if (document is None) == (customer is None) or (document is not None and not str(document).isdigit()):
        abort(400, description=_("retention.hold_target"))
    return _answer(
        get_dossier().retention.set_hold(
            g.principal,
            document_id=int(document) if document is not None else None,
            customer=customer,
            reason=str(body.get("reason") or "") or None,
            hold=body.get("release") not in (True, "1", "true"),
        )
    )


@bp.route("/retention/rules", methods=("POST",))
@login_required
def retention_add_rule() -> Any:
    """Add a rule: ``{"name", "doc_type", "customer_type", "basis", "archive_after", "destroy_after"}``."""
    _manager_only()
    body = _body()
    text = {k: (str(body[k]) if body.get(k) not in (None, "") else None) for k in body}
    rule = get_dossier().retention.add_rule(
        g.principal,
        name=text.get("name") or "",
        doc_type=text.get("doc_type"),
        customer_type=text.get("customer_type"),
        basis=text.get("basis") or "doc_date",
        archive_after=text.get("archive_after"),
        destroy_after=text.get("destroy_after"),
    )
    return _answer(rule), 201


@bp.route("/retention/rules/<int:rule_id>", methods=("DELETE",))
@login_required
def retention_remove_rule(rule_id: int) -> Any:
    """Remove a rule."""
    _manager_only()
    return _answer(get_dossier().retention.remove_rule(rule_id, g.principal))


@bp.route("/trash")
@login_required
def trash() -> Any:
    """What waits in the trash that the caller could read: ``{"days", "documents"}``."""
    d = get_dossier()
    return _answer({"days": d.trash.days, "documents": d.trash.entries(g.principal)})


@bp.route("/trash/<int:doc_id>/restore", methods=("POST",))
@login_required
def trash_restore(doc_id: int) -> Any:
    """Restore a document (and what was trashed with it): ``{"restored": [ids]}``; managers and admins."""
    return _answer(get_dossier().trash.restore(doc_id, g.principal))


@bp.route("/trash/purge", methods=("POST",))
@login_required
def trash_purge() -> Any:
    """Erase the trash for good (``ids``: only those): ``{"purged", "held"}``; needs ``confirm``."""
    body = _body()
    confirm = body.get("confirm") is True or request.form.get("confirm") in ("1", "true", "yes")
    raw = body.get("ids") if request.is_json else request.form.getlist("id") or None
    ids = document_ids_from([str(v) for v in raw]) if raw else None
    return _answer(get_dossier().trash.purge(g.principal, confirm=confirm, ids=ids))


@bp.route("/documents/<int:doc_id>/archive", methods=("POST",))
@login_required
def archive_document(doc_id: int) -> Any:
    """Archive a document with its family: ``{"archived": [ids]}``; managers and admins."""
    return _answer(get_dossier().archive.archive([doc_id], g.principal))


@bp.route("/documents/<int:doc_id>/unarchive", methods=("POST",))
@login_required
def unarchive_document(doc_id: int) -> Any:
    """Unarchive a document with its family: ``{"unarchived": [ids]}``; managers and admins."""
    return _answer(get_dossier().archive.unarchive([doc_id], g.principal))


@bp.route("/archive", methods=("POST",))
@login_required
def archive_search() -> Any:
    """Archive every active hit of the search the query string describes: ``{"archived": [ids]}``."""
    req, _page = search_request_from_args(request.args, page_size=1, max_limit=1)
    return _answer(get_dossier().archive.archive_search(req, g.principal))


@bp.route("/unarchive", methods=("POST",))
@login_required
def unarchive_search() -> Any:
    """Unarchive every archived hit of the search the query string describes: ``{"unarchived": [ids]}``."""
    req, _page = search_request_from_args(request.args, page_size=1, max_limit=1)
    return _answer(get_dossier().archive.unarchive_search(req, g.principal))
