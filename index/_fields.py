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
from decimal import Decimal, InvalidOperation

from dossier.errors import DossierError
from index._analysis import normalize_text

__all__ = [
    "CUSTOMER_TYPES",
    "ENTITY_FIELDS",
    "FIELDS",
    "FieldValue",
    "QuerySyntaxError",
    "customer_type_name",
    "entity_key",
    "field_value",
    "filter_key",
    "filter_values",
    "fold",
    "year_value",
]


class QuerySyntaxError(DossierError):
    """The query cannot be understood."""

    status = 400


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
    "company": "company",
    "公司": "company",
    "person": "person",
    "联系人": "person",
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

#: Registry customer types, with the short and English forms a query may use.
CUSTOMER_TYPES = {
    "潜在客户": ("潜在", "prospect", "potential", "lead"),
    "现有客户": ("现有", "existing", "current", "active"),
    "流失客户": ("流失", "lost", "churned", "former", "inactive"),
}

_LABELS = {
    "phone": ("电话号码", "phone number"),
    "email": ("邮箱地址", "e-mail address"),
    "uscc": ("统一社会信用代码", "credit code (USCC)"),
    "contract_no": ("合同编号", "contract number"),
    "quote_no": ("报价单号", "quote number"),
    "order_no": ("订单号", "order number"),
    "invoice_no": ("发票号码", "invoice number"),
    "invoice_code": ("发票代码", "invoice code"),
    "amount": ("金额", "amount"),
    "date": ("日期", "date"),
    "year": ("年份", "year"),
    "customer_type": ("客户类型", "customer type"),
    "company": ("公司名称", "company name"),
    "person": ("人名", "person name"),
}

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


def _bad(kind: str, raw: str) -> QuerySyntaxError:
    zh, en = _LABELS.get(kind, (kind, kind))
    article = "an" if en[0] in "aeiou" else "a"
    return QuerySyntaxError(f"无法识别的{zh}：“{raw}” / Not {article} {en}: “{raw}”")


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
    """How customer names, aliases, industries and regions compare: NFKC, lower case, no whitespace."""
    return _WS.sub("", normalize_text(text))


def customer_type_name(value: str) -> str | None:
    """``潜在客户``/``现有客户``/``流失客户`` for a full, short or English form; None when it is none of them."""
    v = fold(value)
    for name, forms in CUSTOMER_TYPES.items():
        if v == name or v in forms:
            return name
    return None


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
        return FieldValue("type", type_code(value))
    if kind == "customer_type":
        name = customer_type_name(value)
        if name is None:
            raise QuerySyntaxError(
                f"未知的客户类型：“{raw}”（可用：潜在、现有、流失）"
                f" / Unknown customer type: “{raw}” (use 潜在, 现有 or 流失)"
            )
        return FieldValue(kind, name)
    if kind == "year":
        year = year_value(value)
        if year is None:
            raise _bad(kind, raw)
        return FieldValue("year", year)
    if kind == "date":
        return _date_value(value, raw)
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
    fragment, fragment, prefix); customer types and years take their short forms.
    """
    out: list[str] = []
    for value in values:
        if kind in ("customer", "industry", "region"):
            v = fold(value)
        elif kind == "customer_type":
            v = customer_type_name(value) or value.strip()
        elif kind == "year":
            v = year_value(value) or value.strip()
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


def type_code(value: str) -> str:
    """A document type code for a code or its Chinese/English label (``合同`` → ``contract``); else the value."""
    from ingest import DOC_TYPES

    lowered = value.strip().lower()
    for code, (zh, en) in DOC_TYPES.items():
        if lowered in (code, zh, en.lower()):
            return code
    return value
