"""A search request from a query string (search page, API, export), with the web's own page and limit.

What the parameters mean is :mod:`dossier.app.search_request`'s, shared with the CLI; here only
``page`` and ``limit`` are added (clamped), and the parameters a link may carry are listed.
"""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from dossier.app.search_request import LINK_FILTERS, PARAMS, search_request
from index import SearchRequest

__all__ = ["LINK_FILTERS", "MAX_PAGE", "QUERY_PARAMS", "search_request_from_args"]

#: Every parameter a search page link may carry.
QUERY_PARAMS = (*PARAMS, "page", "limit", "all")
MAX_PAGE = 1000  # deep pages are better reached with filters than by paging


def _int_arg(args: MultiDict[str, str], name: str, default: int, lo: int, hi: int) -> int:
    try:
        value = int(args.get(name, default))
    except (TypeError, ValueError):
        value = default
    return max(lo, min(hi, value))


def search_request_from_args(
    args: MultiDict[str, str], *, page_size: int, max_limit: int
) -> tuple[SearchRequest, int]:
    """The :class:`SearchRequest` (and the 1-based page) a query string asks for; 400 for a value that means nothing."""
    limit = _int_arg(args, "limit", page_size, 1, max_limit)
    page = _int_arg(args, "page", 1, 1, MAX_PAGE)
    values = {name: args.getlist(name) for name in PARAMS}
    values["q"] = values["q"][:1]  # the first q, as a form sends it
    return search_request(values, limit=limit, offset=(page - 1) * limit), page
