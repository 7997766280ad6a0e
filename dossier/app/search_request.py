"""One way from what people type to a :class:`~index.SearchRequest`: the search page, the API, exports and the CLI.

Values come as ``{parameter: [values]}`` — a query string's repeated parameters, or the CLI's
repeated options put under the same names (:data:`PARAMS`):

- ``q`` the query (BRIEF §4 syntax); ``customer``, ``type``, ``tag``; ``from`` and ``to`` dates;
  ``sort``; ``archived`` (``exclude``, the default: active documents only; ``include``: archived
  ones too; ``only``: the archive — ``is:archived`` in the query says the same); and the facet filters of :data:`LINK_FILTERS` (``customer_id``, ``customer_type``,
  ``industry``, ``region``, ``year``, and the linked customers' ``stage`` (销售阶段), ``importance``
  (A/B/C, any case or width) and ``ctag`` (客户标签), and ``format`` (the file format: ``pdf``, ``word``,
  ``excel``, ``powerpoint``, ``image``, ``email``, ``archive``, ``text``, ``other``; repeatable, ORed));
  ``scan`` (``1``: scans only — image files and PDFs whose text came from OCR); ``activities`` (``include``, the default: activities and
  comments come with documents; ``exclude``: documents only; ``only``: activities and comments).
  ``type`` also takes ``activity`` (沟通记录) and ``comment`` (评论), the types of their entries.
- A document type may be a code or its Chinese or English label (``合同`` = ``contract``); a
  customer type its full, short or English form (``潜在`` = ``潜在客户``).
- ``versions=all`` also searches the kept text of superseded versions (as ``version:all`` in the
  query does); anything else searches current text only.

A value that cannot mean anything — an unknown document type, a date that does not exist, an
id that is not a number, a year that is not four digits — raises a
:class:`~index.SearchRefused` (400) that says which, in Chinese and English, wherever it was typed.
(Reversed dates and queries with nothing to search are the search's to refuse: :mod:`index`.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from foundation.errors import DossierError
from foundation.messages import msg, texts
from foundation.vocabulary import importance_level
from index import FILE_FORMATS, SearchRefused, SearchRequest, customer_type_name, date_bound, format_name
from ingest import DOC_TYPES, type_code

__all__ = ["ARCHIVED", "LINK_FILTERS", "PARAMS", "SORTS", "BadSearchValue", "doc_type_code", "search_request"]

SORTS = ("relevance", "date_desc", "date_asc")
#: Filters shown as links (facets) and chips rather than form fields: parameter -> SearchRequest field.
LINK_FILTERS = {
    "customer_id": "customer_ids",
    "customer_type": "customer_types",
    "industry": "industries",
    "region": "regions",
    "year": "years",
    "stage": "stages",
    "importance": "importance",
    "ctag": "customer_tags",
    "file_format": "formats",
}
#: Every parameter :func:`search_request` reads.
PARAMS = (
    "q",
    "type",
    "customer",
    "tag",
    "from",
    "to",
    "sort",
    "versions",
    "archived",
    "activities",
    "scan",
    *LINK_FILTERS,
)
#: What ``archived`` may say (anything else reads as the default, ``exclude``).
ARCHIVED = ("exclude", "include", "only")

Values = Mapping[str, Sequence[str]]


class BadSearchValue(SearchRefused):
    """A search parameter that cannot mean anything (an unknown type, an id that is not a number …)."""

    status = 400


def doc_type_code(value: str) -> str:
    """A document type code for a code or its Chinese or English label; DossierError naming the known ones."""
    code = type_code(value)
    if code in DOC_TYPES:
        return code
    known = texts(
        "、".join(f"{c}（{zh}）" for c, (zh, _en) in DOC_TYPES.items()),
        ", ".join(f"{c} ({en})" for c, (_zh, en) in DOC_TYPES.items()),
    )
    raise DossierError(msg("app.search.unknown_type", value=repr(value), known=known))


def _multi(values: Values, name: str) -> tuple[str, ...]:
    """All non-empty values of a repeated parameter, in order, without duplicates."""
    found = (v.strip() for v in values.get(name, ()))
    return tuple(dict.fromkeys(v for v in found if v))


def _one(values: Values, name: str) -> str | None:
    found = _multi(values, name)
    return found[0] if found else None


#: The types of the entries of activities and comments, by code and label (they are no document type).
ACTIVITY_TYPES = {"activity": "activity", "沟通记录": "activity", "comment": "comment", "评论": "comment"}


def _doc_types(values: Values) -> tuple[str, ...]:
    out = []
    for v in _multi(values, "type"):
        if v.lower() in ACTIVITY_TYPES:
            out.append(ACTIVITY_TYPES[v.lower()])
            continue
        try:
            out.append(doc_type_code(v))
        except DossierError as exc:
            raise BadSearchValue(exc.message) from None
    return tuple(dict.fromkeys(out))


def _customer_types(values: Values) -> tuple[str, ...]:
    return tuple(dict.fromkeys(customer_type_name(v) or v for v in _multi(values, "customer_type")))


def _importance(values: Values) -> tuple[str, ...]:
    found = _multi(values, "importance")
    for v in found:
        if importance_level(v) is None:
            raise BadSearchValue(msg("app.search.bad_importance", value=v[:40]))
    return tuple(dict.fromkeys(importance_level(v) or v for v in found))


def _ids(values: Values, name: str) -> tuple[int, ...]:
    found = _multi(values, name)
    for v in found:
        if not v.isdigit():
            raise BadSearchValue(msg("app.search.bad_id", value=v[:40]))
    return tuple(int(v) for v in found)


def _years(values: Values) -> tuple[str, ...]:
    found = _multi(values, "year")
    for v in found:
        if not (len(v) == 4 and v.isdigit()):
            raise BadSearchValue(msg("app.search.bad_year", value=v[:40]))
    return found


def _formats(values: Values) -> tuple[str, ...]:
    out = []
    for v in _multi(values, "file_format"):
        name = format_name(v)
        if name is None:
            raise BadSearchValue(msg("app.search.bad_format", value=v[:40], known=" ".join(FILE_FORMATS)))
        out.append(name)
    return tuple(dict.fromkeys(out))


def _flag(values: Values, name: str) -> bool:
    return (_one(values, name) or "").lower() in ("1", "on", "true", "yes", name)


def _date(values: Values, name: str) -> str | None:
    return date_bound(_one(values, name))  # BadDate (400) for a date that does not exist


def search_request(values: Values, *, limit: int, offset: int = 0) -> SearchRequest:
    """The :class:`SearchRequest` ``values`` ask for, with ``limit`` hits from ``offset``; see the module docstring."""
    sort = _one(values, "sort") or "relevance"
    archived = _one(values, "archived") or "exclude"
    activities = (_one(values, "activities") or "include").lower()
    date_from, date_to = _date(values, "from"), _date(values, "to")  # reversed ones: the search says so
    return SearchRequest(
        query=" ".join(values.get("q", ())).strip(),
        customers=_multi(values, "customer"),
        doc_types=_doc_types(values),
        tags=_multi(values, "tag"),
        customer_ids=_ids(values, "customer_id"),
        customer_types=_customer_types(values),
        industries=_multi(values, "industry"),
        regions=_multi(values, "region"),
        years=_years(values),
        stages=_multi(values, "stage"),
        importance=_importance(values),
        customer_tags=_multi(values, "ctag"),
        formats=_formats(values),
        scans_only=_flag(values, "scan"),
        date_from=date_from,
        date_to=date_to,
        sort=sort if sort in SORTS else "relevance",
        versions="all"
        if (_one(values, "versions") or "").lower() in ("all", "1", "on", "true")
        else "current",
        archived=archived if archived in ARCHIVED else "exclude",
        activities=activities if activities in ("include", "exclude", "only") else "include",
        offset=offset,
        limit=limit,
    )
