"""The home page: a query box, ranked hits with highlighted snippets, facets, sort and pages.

Routes: ``GET /`` (``?q=&type=&customer=&tag=&from=&to=&sort=&page=``, and the customer
filters ``customer_id=&customer_type=&industry=&region=&year=``; every filter may repeat;
``all=1`` lists every readable document without a query).  A result set comes with the
export bar (see :mod:`webui.export`), which states its limits before an export starts.
"""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, abort, current_app, g, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from dossier import folder
from dossier.errors import DossierError
from index import BadDate, QuerySyntaxError, SearchRequest, date_bound
from webui.auth import login_required
from webui.core import get_dossier

bp = Blueprint("search", __name__)

SORTS = ("relevance", "date_desc", "date_asc")
#: Filters shown as links (facets) and chips rather than form fields: parameter -> SearchRequest field.
LINK_FILTERS = {
    "customer_id": "customer_ids",
    "customer_type": "customer_types",
    "industry": "industries",
    "region": "regions",
    "year": "years",
}
QUERY_PARAMS = ("q", "type", "customer", "tag", "from", "to", "sort", "page", "limit", "all", *LINK_FILTERS)
MAX_PAGE = 1000  # deep pages are better reached with filters than by paging


def _date_arg(args: MultiDict[str, str], name: str) -> str | None:
    """A ``from``/``to`` date in normal form; 400 for one that is not a real date (as the CLI refuses it)."""
    try:
        return date_bound(args.get(name))
    except BadDate as exc:
        abort(400, description=exc.message)


def _int_arg(args: MultiDict[str, str], name: str, default: int, lo: int, hi: int) -> int:
    try:
        value = int(args.get(name, default))
    except (TypeError, ValueError):
        value = default
    return max(lo, min(hi, value))


def _multi(args: MultiDict[str, str], name: str) -> tuple[str, ...]:
    """All non-empty values of a repeated parameter, in order, without duplicates."""
    values = (v.strip() for v in args.getlist(name))
    return tuple(dict.fromkeys(v for v in values if v))


def _ids(args: MultiDict[str, str], name: str) -> tuple[int, ...]:
    """A repeated parameter of record ids (a customer id); 400 for anything but digits."""
    values = _multi(args, name)
    for v in values:
        if not v.isdigit():
            abort(400, description=f"编号无效：{v[:40]} / not an id: {v[:40]}")
    return tuple(int(v) for v in values)


def _years(args: MultiDict[str, str], name: str) -> tuple[str, ...]:
    values = _multi(args, name)
    for v in values:
        if not (len(v) == 4 and v.isdigit()):
            abort(400, description=f"年份应为四位数字：{v[:40]} / a year has four digits")
    return values


def search_request_from_args(
    args: MultiDict[str, str], *, page_size: int, max_limit: int
) -> tuple[SearchRequest, int]:
    """Build a :class:`SearchRequest` (and the 1-based page) from query-string parameters."""
    limit = _int_arg(args, "limit", page_size, 1, max_limit)
    page = _int_arg(args, "page", 1, 1, MAX_PAGE)
    sort = args.get("sort", "relevance")
    req = SearchRequest(
        query=(args.get("q") or "").strip(),
        customers=_multi(args, "customer"),
        doc_types=_multi(args, "type"),
        tags=_multi(args, "tag"),
        customer_ids=_ids(args, "customer_id"),
        customer_types=_multi(args, "customer_type"),
        industries=_multi(args, "industry"),
        regions=_multi(args, "region"),
        years=_years(args, "year"),
        date_from=_date_arg(args, "from"),
        date_to=_date_arg(args, "to"),
        sort=sort if sort in SORTS else "relevance",
        offset=(page - 1) * limit,
        limit=limit,
    )
    return req, page


def url_with(**changes: Any) -> str:
    """The current page's URL with some query parameters replaced (``None`` removes one).

    ``toggle=(name, value)`` adds a value of a repeated parameter, or removes it if present.
    Any change other than ``page`` goes back to page 1.
    """
    args = MultiDict([(k, v) for k, v in request.args.items(multi=True) if k in QUERY_PARAMS])
    toggle = changes.pop("toggle", None)
    if toggle is not None:
        name, value = toggle
        values = args.getlist(name)
        args.setlist(name, [v for v in values if v != value] if value in values else [*values, value])
    for name, value in changes.items():
        if value is None:
            args.pop(name, None)
        else:
            args.setlist(name, value if isinstance(value, list | tuple) else [value])
    if "page" not in changes:
        args.pop("page", None)
    return url_for(
        request.endpoint or "search.index", **(request.view_args or {}), **args.to_dict(flat=False)
    )


def _pages(page: int, pages: int, width: int = 2) -> list[int | None]:
    """Page numbers to link, with ``None`` for a gap: 1 … 4 5 [6] 7 8 … 20."""
    shown = sorted({1, pages, *range(max(1, page - width), min(pages, page + width) + 1)})
    out: list[int | None] = []
    for n in shown:
        if out and n - (out[-1] or 0) > 1:
            out.append(None)
        out.append(n)
    return out


@bp.app_template_global()
def current_url_with(**changes: Any) -> str:
    """Template access to :func:`url_with`."""
    return url_with(**changes)


def _customer_names(ids: tuple[int, ...]) -> dict[int, str]:
    """Names for the customer-id chips (an unknown id shows as #id)."""
    if not ids:
        return {}
    with get_dossier().sessions() as session:
        return folder.customer_names(session, ids)


@bp.route("/")
@login_required
def index() -> Any:
    """Search, or show the start page when there is nothing to search for yet."""
    req, page = search_request_from_args(
        request.args,
        page_size=current_app.config["SEARCH_PAGE_SIZE"],
        max_limit=current_app.config["API_MAX_LIMIT"],
    )
    filtered = bool(
        req.customers or req.doc_types or req.tags or req.date_from or req.date_to
        or any(getattr(req, field) for field in LINK_FILTERS.values())
    )
    context: dict[str, Any] = {
        "req": req,
        "q": req.query,
        "page": page,
        "filtered": filtered,
        "result": None,
        "error": None,
        "pages": [],
        "page_count": 0,
        "customer_names": _customer_names(req.customer_ids),
    }
    status = 200
    browse_all = request.args.get("all") == "1"
    context["browse_all"] = browse_all
    if req.query or filtered or browse_all:
        d = get_dossier()
        try:
            result = d.search(req, g.principal)
        except DossierError as exc:
            if exc.status != 400:
                raise
            context["error"] = exc.message
            context["syntax_error"] = isinstance(exc, QuerySyntaxError)  # not for "too long", "reversed dates" …
            status = 400
        else:
            d.audit_search(g.principal.username, req, result["total"], "web")
            page_count = max(1, math.ceil(result["total"] / req.limit))
            context.update(result=result, page_count=page_count, pages=_pages(page, page_count))
            if result["total"]:
                from webui.export import export_offer  # webui.export builds on this module

                context["export"] = export_offer(result["total"])
    return render_template("search/index.html", **context), status
