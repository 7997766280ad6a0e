"""Field queries and filter values: what ``phone:``, ``客户类型:``, ``year:`` … mean, in normal form.

Shared by every backend.  Two directions meet here:

* **Documents** hand the index entity values that ``ingest`` already normalised;
  :func:`entity_key` folds them once more into a lookup key (NFKC, case, dashes),
  so a stored value and a query value compare as plain strings.
* **Queries** (``phone:138-1234-5678``) and request filters go through
  :func:`field_value`, which normalises with the functions ``ingest`` exports
  (``normalize_phone``, ``parse_amount``, ``parse_date``) and then applies the
  same :func:`entity_key`.  A query value that cannot be normalised raises
  :class:`QuerySyntaxError` with a bilingual message; request filters (which
  come from facet links, already normal) use :func:`filter_key`, which never raises.

``ingest`` is imported inside the functions: ``index`` must import without it
having finished loading (and the normalisers are only needed for field queries).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from foundation.errors import DossierError
from foundation.messages import msg
from foundation.vocabulary import CUSTOMER_TYPES, customer_type_name, importance_level
from index._analysis import normalize_text
from index._formats import FILE_FORMATS, format_name

__all__ = [
    "CUSTOMER_TYPES",
    "ENTITY_FIELDS",
    "FIELDS",
    "BadDate",
    "FieldValue",
    "NothingToSearch",
    "QuerySyntaxError",
    "QueryTooLong",
    "SearchRefused",
    "check_dates",
    "customer_type_name",
    "date_bound",
    "entity_key",
    "field_value",
    "filter_key",
    "filter_values",
    "fold",
    "phone_number",
    "year_value",
]


class SearchRefused(DossierError):
    """A search request that cannot be run as asked; the message says why (web: 400, CLI: one line)."""

    status = 400


class QuerySyntaxError(SearchRefused):
    """The query cannot be understood."""


class QueryTooLong(SearchRefused):
    """The query has more characters than :data:`index._query.MAX_QUERY_CHARS`."""


class NothingToSearch(SearchRefused):
    """The query has text, but only punctuation or symbols: nothing that could match."""


class BadDate(SearchRefused):
    """A date filter that is not a real date, or a range whose start is after its end."""


#: Field names (and their Chinese aliases) mapped to the filter or entity kind they set.
FIELDS = {
    "customer": "customer",
    "客户": "customer",
    "type": "type",
    "类型": "type",
    "tag": "tag",
    "标签": "tag",
    "phone": "phone",
    "tel": "phone",
    "mobile": "phone",
    "电话": "phone",
    "手机": "phone",
    "email": "email",
    "e-mail": "email",
    "邮箱": "email",
    "电子邮箱": "email",
    "uscc": "uscc",
    "信用代码": "uscc",
    "统一社会信用代码": "uscc",
    "contract": "contract_no",
    "contract_no": "contract_no",
    "合同号": "contract_no",
    "合同编号": "contract_no",
    "quote": "quote_no",
    "quote_no": "quote_no",
    "报价单号": "quote_no",
    "order": "order_no",
    "order_no": "order_no",
    "订单号": "order_no",
    "invoice": "invoice_no",
    "invoice_no": "invoice_no",
    "发票号": "invoice_no",
    "发票号码": "invoice_no",
    "invoice_code": "invoice_code",
    "发票代码": "invoice_code",
    "amount": "amount",
    "金额": "amount",
    "date": "date",
    "日期": "date",
    "year": "year",
    "年份": "year",
    "industry": "industry",
    "行业": "industry",
    "region": "region",
    "地区": "region",
    "省份": "region",
    "customer_type": "customer_type",
    "客户类型": "customer_type",
    "stage": "stage",
    "阶段": "stage",
    "销售阶段": "stage",
    "importance": "importance",
    "重要性": "importance",
    "重要程度": "importance",
    "ctag": "ctag",
    "客户标签": "ctag",
    "company": "company",
    "公司": "company",
    "person": "person",
    "联系人": "person",
    "format": "format",
    "格式": "format",
    "文件格式": "format",
}

#: Field kinds that match the document's entities (``IndexDocument.entities``) exactly.
ENTITY_FIELDS = frozenset(
    {
        "phone",
        "email",
        "uscc",
        "contract_no",
        "quote_no",
        "order_no",
        "invoice_no",
        "invoice_code",
        "amount",
        "date",
        "company",
        "person",
    }
)


_DASHES = str.maketrans({c: "-" for c in "‐‑‒–—―－−"})
_WS = re.compile(r"\s+")
_IDENTIFIER_KINDS = frozenset({"uscc", "contract_no", "quote_no", "order_no", "invoice_no", "invoice_code"})
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_USCC = re.compile(r"[0-9A-Z]{18}")
_YEAR = re.compile(r"((?:19|20)\d\d)年?")
_MONTH = re.compile(r"((?:19|20)\d\d)\s*(?:[-/.]|年)\s*(\d{1,2})\s*月?")
_SHORT_AMOUNT = re.compile(r"(?:¥|RMB|人民币)?(\d+(?:\.\d+)?)(万|亿)?元?", re.IGNORECASE)
_UNITS = {"": Decimal(1), "万": Decimal(10_000), "亿": Decimal(100_000_000)}
_NUMBER_PREFIX = re.compile(r"^(?:NO\.?|№|#)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class FieldValue:
    """A field query's meaning: a filter ``kind`` (``year``, ``customer_type`` …) or entity kind, and its value."""

    kind: str
    value: str


#: The message that a field's value cannot be read, by field kind.
_BAD_VALUE = {
    "phone": "index.field.bad.phone",
    "email": "index.field.bad.email",
    "uscc": "index.field.bad.uscc",
    "contract_no": "index.field.bad.contract_no",
    "quote_no": "index.field.bad.quote_no",
    "order_no": "index.field.bad.order_no",
    "invoice_no": "index.field.bad.invoice_no",
    "invoice_code": "index.field.bad.invoice_code",
    "amount": "index.field.bad.amount",
    "date": "index.field.bad.date",
    "year": "index.field.bad.year",
    "customer_type": "index.field.bad.customer_type",
    "importance": "index.field.bad.importance",
    "company": "index.field.bad.company",
    "person": "index.field.bad.person",
}


def _bad(kind: str, raw: str) -> QuerySyntaxError:
    if kind in _BAD_VALUE:
        return QuerySyntaxError(msg(_BAD_VALUE[kind], raw=raw))
    return QuerySyntaxError(msg("index.field.bad", kind=kind, raw=raw))


def _nfkc(value: str) -> str:
    return _WS.sub("", unicodedata.normalize("NFKC", value)).translate(_DASHES)


def entity_key(kind: str, value: str) -> str:
    """The lookup form of a (normalised) entity value: what the index stores and a filter compares."""
    if kind in ("company", "person", "address"):
        return fold(value)
    key = _nfkc(value)
    if kind in _IDENTIFIER_KINDS:
        return key.upper()
    if kind == "email":
        return key.lower()
    if kind == "amount":
        try:
            return f"{Decimal(key.replace(',', '')):.2f}"
        except InvalidOperation:
            return key
    return key


def fold(text: str) -> str:
    """How customer names, aliases, industries and regions compare: NFKC, lower case, simplified, no whitespace."""
    return _WS.sub("", normalize_text(text))


def year_value(value: str) -> str | None:
    """``2024`` for ``2024`` or ``2024年``; None for anything else."""
    m = _YEAR.fullmatch(_nfkc(value))
    return m.group(1) if m else None


def field_value(kind: str, raw: str) -> FieldValue:
    """What a field query means, its value normalised; raises :class:`QuerySyntaxError` when it cannot be.

    ``kind`` is a value of :data:`FIELDS`.  ``date:`` with only a year becomes a ``year``
    filter; with a year and month a ``date`` prefix (``2024-03``); with a full date the
    ISO date.  Text fields (``customer``, ``tag``, ``industry``, ``region``) keep their value.
    """
    value = raw.strip()
    if kind == "type":
        from ingest import type_code  # the type names live with the typing (ingest loads lazily)

        return FieldValue("type", type_code(value))
    if kind == "customer_type":
        name = customer_type_name(value)
        if name is None:
            raise QuerySyntaxError(msg("index.field.customer_type", raw=raw))
        return FieldValue(kind, name)
    if kind == "year":
        year = year_value(value)
        if year is None:
            raise _bad(kind, raw)
        return FieldValue("year", year)
    if kind == "importance":
        level = importance_level(value)
        if level is None:
            raise _bad(kind, raw)
        return FieldValue(kind, level)
    if kind == "date":
        return _date_value(value, raw)
    if kind == "format":
        name = format_name(value)
        if name is None:
            raise QuerySyntaxError(msg("index.field.bad.format", raw=raw, formats=" ".join(FILE_FORMATS)))
        return FieldValue(kind, name)
    if kind in ENTITY_FIELDS:
        return FieldValue(kind, _entity_value(kind, value, raw))
    return FieldValue(kind, value)


def _date_value(value: str, raw: str) -> FieldValue:
    import ingest

    year = year_value(value)
    if year is not None:
        return FieldValue("year", year)
    folded = _nfkc(value)
    month = _MONTH.fullmatch(folded)
    if month is not None and 1 <= int(month.group(2)) <= 12:
        return FieldValue("date", f"{month.group(1)}-{int(month.group(2)):02d}")
    iso = ingest.parse_date(value)
    if not iso:
        raise _bad("date", raw)
    return FieldValue("date", iso)


def _entity_value(kind: str, value: str, raw: str) -> str:
    import ingest

    folded = _nfkc(value)
    if kind == "phone":
        phone = ingest.normalize_phone(value)
        if not phone:
            raise _bad(kind, raw)
        return entity_key(kind, phone)
    if kind == "amount":
        amount = ingest.parse_amount(value)
        if amount is None:
            amount = _short_amount(folded)
        if amount is None:
            raise _bad(kind, raw)
        return f"{amount:.2f}"
    if kind == "email":
        if not _EMAIL.fullmatch(folded):
            raise _bad(kind, raw)
        return folded.lower()
    if kind == "uscc":
        code = folded.replace("-", "").upper()
        if not _USCC.fullmatch(code):
            raise _bad(kind, raw)
        return code
    if kind in ("invoice_no", "invoice_code"):
        digits = _NUMBER_PREFIX.sub("", folded)
        if not digits.isdigit() or not digits.isascii():
            raise _bad(kind, raw)
        return digits
    key = entity_key(kind, value)
    if not any(ch.isalnum() for ch in key):
        raise _bad(kind, raw)
    return key


def _short_amount(folded: str) -> Decimal | None:
    """What a search box gets typed: ``12万``, ``1.5万元``, ``3亿`` (figures with a unit)."""
    m = _SHORT_AMOUNT.fullmatch(folded.replace(",", ""))
    if m is None:
        return None
    return Decimal(m.group(1)) * _UNITS[m.group(2) or ""]


def filter_values(kind: str, values: Iterable[str]) -> list[str]:
    """Values of a non-entity filter (``customer``, ``region`` …) in the form the backends compare.

    Customer names, industries and regions are :func:`fold`-ed (matched exactly or as
    fragment, fragment, prefix); customer types and years take their short forms;
    importance is ``A``/``B``/``C`` in any case or width; stages and customer tags compare as written.
    """
    out: list[str] = []
    for value in values:
        if kind in ("customer", "industry", "region"):
            v = fold(value)
        elif kind == "customer_type":
            v = customer_type_name(value) or value.strip()
        elif kind == "year":
            v = year_value(value) or value.strip()
        elif kind == "importance":
            v = importance_level(value) or value.strip()
        elif kind == "format":
            v = format_name(value) or value.strip().lower()
        else:
            v = value.strip()
        if v:
            out.append(v)
    return out


def filter_key(kind: str, value: str) -> str:
    """An entity filter value from a request in lookup form; values that do not parse are compared as written."""
    try:
        meant = field_value(kind, value)
    except QuerySyntaxError:
        return entity_key(kind, value)
    return meant.value  # a bare year as a date filter stays a prefix: "2024"


# -- date filters (--from/--to, ?from=&to=) ----------------------------------------------------

_DATE_BOUND = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def date_bound(raw: str | None) -> str | None:
    """A date filter's value in normal form (``2024-03-15``, also ``2024-03`` or ``2024``); None when blank.

    Accepts what ``date.fromisoformat`` accepts (``2024-03-15``, ``20240315``) and the year or
    year-month prefixes the backends compare; raises :class:`BadDate` for anything else,
    impossible dates (``2024-13-45``, ``2023-02-29``) included.
    """
    value = (raw or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        pass
    if _DATE_BOUND.fullmatch(value) and _real_prefix(value):
        return value
    shown = value[:40]
    raise BadDate(msg("index.date.not_a_date", value=shown))


def _real_prefix(value: str) -> bool:
    m = _DATE_BOUND.fullmatch(value)
    if m is None:
        return False
    year, month, day = m.group(1), m.group(2), m.group(3)
    if month is None:
        return int(year) >= 1
    if day is None:
        return 1 <= int(month) <= 12
    try:
        date(int(year), int(month), int(day))
    except ValueError:
        return False
    return True


def check_dates(date_from: str | None, date_to: str | None) -> None:
    """Refuse a date range the backends cannot compare or that is reversed (:class:`BadDate`).

    The bounds must be in normal form (:func:`date_bound`); a year or month bound covers all
    of it (``--from 2024-03 --to 2024-03`` is March).
    """
    for value in (date_from, date_to):
        if value and date_bound(value) != value:
            raise BadDate(msg("index.date.invalid", value=value[:40]))
    if date_from and date_to and date_from[: len(date_to)] > date_to:
        raise BadDate(msg("index.date.reversed", start=date_from, end=date_to))


def phone_number(text: str) -> str | None:
    """The normal form of ``text`` when all of it is one phone number (``021 6149 8137`` → ``021-61498137``), else None."""
    import ingest

    return ingest.normalize_phone(text) if any(ch.isdigit() for ch in text) else None
