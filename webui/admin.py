"""Administration pages: the audit trail (审计日志), for admins only.

Routes: ``GET /admin/audit`` (``?user=&action=&target_type=&target_id=&from=&to=&q=&page=``;
``user`` and ``action`` may repeat; ``from``/``to`` are UTC dates, both days included) and
``GET /admin/audit.csv`` (every event the same filters select, streamed as CSV).  Anyone but an
admin gets 404, exactly as for a page that does not exist.
"""

from __future__ import annotations

import json
import math
from typing import Any

from flask import Blueprint, Response, abort, g, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from dossier.app.audit import (
    ACTION_LABELS,
    AUDIT_ROLES,
    DEFAULT_PAGE_SIZE,
    AuditFilter,
    AuditQueryError,
    parse_time,
    summarise,
)
from records import utcnow
from webui.auth import login_required
from webui.core import get_dossier
from webui.documents import content_disposition
from webui.i18n import get_language
from webui.i18n import gettext as _

bp = Blueprint("admin", __name__, url_prefix="/admin")

#: The query parameters of the audit page (and of its CSV link and the API).
FILTER_PARAMS = ("user", "action", "target_type", "target_id", "from", "to", "q")
#: Target types the filter offers (what the code writes).
TARGET_TYPES = (
    "document",
    "batch",
    "user",
    "search",
    "export_job",
    "api_token",
    "audit",
    "customer",
    "registry",
    "retention_rule",
    "mail",
)
#: Deepest page number the pager goes to (narrow the filters instead).
MAX_PAGE = 10_000


#: Most values one repeatable filter takes, and their longest length (user names and actions are short).
MAX_VALUES, MAX_VALUE_CHARS = 50, 64


def _values(args: MultiDict[str, str], name: str) -> tuple[str, ...]:
    """Every non-empty value of a repeatable parameter (commas separate values too), in order, once;
    more than :data:`MAX_VALUES` is a 400."""
    found = (part.strip()[:MAX_VALUE_CHARS] for v in args.getlist(name) for part in v.split(","))
    values = tuple(dict.fromkeys(v for v in found if v))
    if len(values) > MAX_VALUES:
        raise AuditQueryError(_("web.audit.too_many_values", name=name, max=MAX_VALUES))
    return values


def audit_filter_from_args(args: MultiDict[str, str]) -> AuditFilter:
    """The :class:`AuditFilter` of the page's (or the API's) query string; 400 for a bad date or id."""
    raw_id = (args.get("target_id") or "").strip()
    if raw_id and not raw_id.isdigit():
        raise AuditQueryError(_("web.audit.bad_target_id", value=raw_id[:20]))
    return AuditFilter(
        users=_values(args, "user"),
        actions=_values(args, "action"),
        target_type=(args.get("target_type") or "").strip() or None,
        target_id=int(raw_id) if raw_id else None,
        since=parse_time(args.get("from")),
        until=parse_time(args.get("to"), end=True),
        text=(args.get("q") or "").strip()[:200],
    )


def require_auditor() -> None:
    """404 for anyone who may not read the audit trail (the trail does not exist for them)."""
    if g.principal.role not in AUDIT_ROLES:
        abort(404)


def _filter_args() -> list[tuple[str, str]]:
    return [(k, v) for k, v in request.args.items(multi=True) if k in FILTER_PARAMS and v.strip()]


def _params(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Repeated query parameters as ``url_for`` takes them (``name=[values]``)."""
    return MultiDict(pairs).to_dict(flat=False)


def _page_url(page: int) -> str:
    return url_for("admin.audit", **_params([*_filter_args(), ("page", str(page))]))


def _int_arg(name: str, default: int, hi: int) -> int:
    raw = request.args.get(name, "")
    return max(1, min(hi, int(raw))) if raw.isdigit() and int(raw) > 0 else default


@bp.route("/audit")
@login_required
def audit() -> Any:
    """The trail, newest first: a filter form, one page of events, pages, and the CSV link."""
    require_auditor()
    filters = audit_filter_from_args(request.args)
    page = _int_arg("page", 1, MAX_PAGE)
    result = get_dossier().audit.events(
        g.principal, filters, limit=DEFAULT_PAGE_SIZE, offset=(page - 1) * DEFAULT_PAGE_SIZE
    )
    lang = get_language()
    for event in result["events"]:
        event["summary"] = summarise(event["action"], event["detail"], lang)
        event["detail_json"] = json.dumps(event["detail"], ensure_ascii=False, indent=2, sort_keys=True)
    page_count = max(1, math.ceil(result["total"] / DEFAULT_PAGE_SIZE))
    filter_args = _filter_args()
    return render_template(
        "admin/audit.html",
        result=result,
        page=page,
        page_count=page_count,
        prev_url=_page_url(page - 1) if page > 1 else None,
        next_url=_page_url(page + 1) if page < page_count else None,
        csv_url=url_for("admin.audit_csv", **_params(filter_args)),
        args=request.args,
        chosen_users=", ".join(filters.users),
        chosen_actions=filters.actions,
        actions=list(ACTION_LABELS),
        target_types=TARGET_TYPES,
        filtered=bool(filter_args),
    )


@bp.route("/audit.csv")
@login_required
def audit_csv() -> Response:
    """Every event the filters select as a CSV download (UTF-8 with BOM; formula-like cells neutralised)."""
    require_auditor()
    filters = audit_filter_from_args(request.args)
    chunks = get_dossier().audit.csv(g.principal, filters)
    response = Response(chunks, mimetype="text/csv")
    name = f"dossier-audit-{utcnow().strftime('%Y%m%d-%H%M%S')}.csv"
    response.headers["Content-Disposition"] = content_disposition(name, "dossier-audit")
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Accel-Buffering"] = "no"
    return response
