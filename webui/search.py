"""The home page: a query box, ranked hits with highlighted snippets, facets, sort and pages.

Routes: ``GET /`` (``?q=&type=&customer=&tag=&from=&to=&sort=&page=``, the file filters ``file_format=&scan=1``
and the customer filters ``customer_id=&customer_type=&industry=&region=&year=&stage=&importance=&ctag=``; every
filter may repeat;
``all=1`` lists every readable document without a query).  A result set comes with the
export bar (see :mod:`webui.export`), folded into one button, which states its limits before an export starts.

Every facet is the same control: a checkbox per value with its count (the form submits; ``dossier.js`` submits
it on change), full names on hover.  The file format (``file_format=``) and "scans only" (``scan=1``) filters are
``SearchRequest.formats`` / ``scans_only``, their facets ``format`` / ``scan``.
Each document hit shows a thumbnail of its first page (:mod:`webui.thumbnails`), loaded lazily.
"""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, current_app, g, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from dossier.app import folder
from dossier.app.thumbnails import SHOWN_HEIGHT, SHOWN_WIDTH
from foundation.errors import DossierError
from index import QuerySyntaxError
from webui._requests import LINK_FILTERS, QUERY_PARAMS, search_request_from_args
from webui.auth import login_required
from webui.core import get_dossier
from webui.export import export_offer
from webui.i18n import doc_type_label, get_language, gettext, has_message, say
from webui.labels import customer_type_label

bp = Blueprint("search", __name__)


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
    params: dict[str, Any] = args.to_dict(flat=False)
    return url_for(request.endpoint or "search.index", **(request.view_args or {}), **params)


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


#: The checkbox facets, in order: (facet name, URL parameter, SearchRequest field); each is headed
#: ``facet.<name>`` but the file format, ``facet.file_format`` (文件格式, beside 文档类型, the document type).
FACETS = (
    ("doc_type", "type", "doc_types"),
    ("format", "file_format", "formats"),
    ("customer", "customer", "customers"),
    ("tag", "tag", "tags"),
    ("customer_type", "customer_type", "customer_types"),
    ("industry", "industry", "industries"),
    ("region", "region", "regions"),
    ("stage", "stage", "stages"),
    ("importance", "importance", "importance"),
    ("ctag", "ctag", "customer_tags"),
    ("year", "year", "years"),
)


def facet_groups(req: Any, facets: dict[str, Any]) -> list[dict[str, Any]]:
    """The facets to show: name, parameter and each value ``(value, count, checked)`` — the values chosen but
    without hits first (count 0, so that they can be unticked), then the offered ones, most frequent first."""
    groups = []
    for name, param, field in FACETS:
        selected = [str(v) for v in (getattr(req, field, None) or ())]
        offered = facets.get(name) or []
        shown = {str(f["value"]) for f in offered}
        values = [(v, 0, True) for v in selected if v not in shown]
        values += [(str(f["value"]), f["count"], str(f["value"]) in selected) for f in offered]
        if values:
            heading = "facet.file_format" if name == "format" else f"facet.{name}"
            groups.append(
                {"name": name, "param": param, "heading": heading, "values": values, "selected": selected}
            )
    return groups


@bp.app_template_global()
def facet_label(name: str, value: str) -> str:
    """What a facet value reads as: a document type's, format's or customer type's name in the current language,
    else the value as stored."""
    if name == "doc_type":
        return doc_type_label(value)
    if name == "format" and has_message(f"facet.file_format.{value}"):
        return gettext(f"facet.file_format.{value}")
    if name == "customer_type":
        return customer_type_label(value)
    return value


def _search(d: Any, req: Any) -> dict[str, Any]:
    """``d.search`` as the user, display titles in the page's language."""
    return dict(d.search(req, g.principal, lang=get_language()))


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
        req.customers
        or req.doc_types
        or req.tags
        or req.date_from
        or req.date_to
        or any(getattr(req, field) for field in LINK_FILTERS.values())
        or req.scans_only
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
        "facet_groups": facet_groups(req, {}),
        "scans_only": req.scans_only,
        "thumb_size": (SHOWN_WIDTH, SHOWN_HEIGHT),
    }
    status = 200
    browse_all = request.args.get("all") == "1"
    context["browse_all"] = browse_all
    if req.query or filtered or browse_all:
        d = get_dossier()
        try:
            result = _search(d, req)
        except DossierError as exc:
            if exc.status != 400:
                raise
            context["error"] = say(exc)
            context["syntax_error"] = isinstance(
                exc, QuerySyntaxError
            )  # not for "too long", "reversed dates" …
            status = 400
        else:
            d.audit.record_search(g.principal.username, req, result["total"], "web")
            page_count = max(1, math.ceil(result["total"] / req.limit))
            context.update(result=result, page_count=page_count, pages=_pages(page, page_count))
            context["facet_groups"] = facet_groups(req, result.get("facets") or {})
            if result["total"]:
                context["export"] = export_offer(result["total"])
    return render_template("search/index.html", **context), status
