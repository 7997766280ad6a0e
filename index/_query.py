"""Query syntax (BRIEF §4): parse to a small AST, compile to FTS5 MATCH text.

Grammar, tolerant by design (people type into a search box, not a compiler):

* whitespace-separated terms are ANDed;
* ``"exact phrase"`` keeps its words adjacent (an unbalanced quote runs to the end);
* ``-term`` / ``-"phrase"`` excludes documents containing it;
* ``OR`` (upper case) between two terms makes them alternatives;
* ``field:value`` (a value may be quoted) becomes a filter instead of a term; the fields and
  their Chinese aliases are :data:`index._fields.FIELDS`:

  - ``customer:``/``客户:`` (a linked customer's full name or alias matches exactly that
    customer, anything else is a fragment of the names), ``type:``/``类型:``, ``tag:``/``标签:``,
    ``customer_type:``/``客户类型:`` (``潜在``/``现有``/``流失``), ``industry:``/``行业:``,
    ``region:``/``地区:``/``省份:``, ``year:``/``年份:``, and the linked customers' steering
    fields ``stage:``/``阶段:``/``销售阶段:`` (exact), ``importance:``/``重要性:``/``重要程度:``
    (``A``/``B``/``C``, any case or width) and ``ctag:``/``客户标签:`` (exact) — filters of one
    field are ORed, different fields ANDed;
  - entity fields, matched exactly against the document's entities after normalisation:
    ``phone:``/``电话:``/``手机:``, ``email:``/``邮箱:``, ``uscc:``/``信用代码:``,
    ``contract:``/``合同号:``/``合同编号:``, ``quote:``/``报价单号:``, ``order:``/``订单号:``,
    ``invoice:``/``发票号:``/``发票号码:``, ``invoice_code:``/``发票代码:``, ``amount:``/``金额:``,
    ``date:``/``日期:`` (``date:2024`` is a year filter, ``date:2024-03`` any date of that
    month, ``date:2024-03-15`` that day), ``company:``/``公司:``, ``person:``/``联系人:``.
    Each one must match (``phone:A OR phone:B`` makes two alternatives); a value that cannot
    be normalised (``phone:abc``) is a :class:`QuerySyntaxError`;
  - ``-field:value`` excludes the documents the filter would select;
  - ``version:all``/``版本:全部`` also searches the kept text of superseded versions (each
    matching old version is a hit of its own); ``version:current`` is the default;
  - ``is:archived`` (``is:已归档``) finds only archived documents, which a search leaves out
    otherwise (``SearchRequest.archived``); ``-is:archived`` leaves them out again;
  - ``format:``/``格式:``/``文件格式:`` the file format (``pdf``, ``word``, ``excel``, ``powerpoint``,
    ``image``, ``email``, ``archive``, ``text``, ``other``; also ``docx``, ``jpg``, ``图片`` …);
    ``is:scan`` (``is:扫描件``) only scans, ``-is:scan`` no scans;

* full-width quotes, colons and minus signs count as their ASCII forms;
* a bare word typed in lower-case ASCII letters, three or more (``guanghua``, ``ghwl``), also
  matches the pinyin of titles and metadata names (:mod:`index._pinyin`, :func:`pinyin_form`).

A query without positive terms (empty, only filters, only exclusions) matches
every readable document, minus the exclusions.  Every token reaching FTS5 is
double-quoted, so user text can never inject FTS5 operators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from foundation.messages import msg
from index._analysis import QueryToken, analyse_query_term
from index._fields import (
    ENTITY_FIELDS,
    FIELDS,
    NothingToSearch,
    QuerySyntaxError,
    QueryTooLong,
    check_dates,
    field_value,
    filter_key,
    filter_values,
    phone_number,
)
from index._pinyin import query_form
from index._types import SearchRequest

__all__ = [
    "FIELDS",
    "ParsedQuery",
    "QuerySyntaxError",
    "Term",
    "column_filters",
    "compile_match",
    "entity_groups",
    "field_values_of",
    "include_versions",
    "lifecycle_filter",
    "parse_query",
    "parse_request",
    "pinyin_form",
    "scan_filter",
]

#: Longest query (characters, surrounding whitespace not counted) searched, exported or listed anywhere:
#: the web page, the API, `dossier search` and `dossier export` all parse through :func:`parse_query`.
MAX_QUERY_CHARS = 500
MAX_TERMS = 64


@dataclass(frozen=True)
class Term:
    """One positive or negative query term (a word or a quoted phrase)."""

    text: str
    phrase: bool = False
    token: QueryToken = field(default_factory=lambda: QueryToken(grams=()))


@dataclass
class ParsedQuery:
    """AND of OR-groups, exclusions and field filters.

    ``entities`` is an AND of OR-groups of (kind, lookup value) pairs; ``excluded_fields``
    holds the (field kind, value) of each ``-field:value``, for ``entities`` kinds the
    lookup value.
    """

    groups: list[list[Term]] = field(default_factory=list)
    excludes: list[Term] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    doc_types: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    customer_types: list[str] = field(default_factory=list)
    industries: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    years: list[str] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    importance: list[str] = field(default_factory=list)
    customer_tags: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)
    entities: list[list[tuple[str, str]]] = field(default_factory=list)
    excluded_fields: list[tuple[str, str]] = field(default_factory=list)
    versions: str | None = None  # "all" or "current" when the query says (version:all), else None
    #: ``is:archived`` -> ``only``, ``-is:archived`` -> ``exclude``; None: the request says.
    archived: str | None = None
    #: ``is:scan`` -> ``only`` (scans only), ``-is:scan`` -> ``exclude`` (no scans); None: the request says.
    scans: str | None = None

    def filter_values(self, kind: str) -> list[str]:
        """The list a non-entity field kind (``customer``, ``type``, ``year`` …) appends to."""
        return {
            "customer": self.customers,
            "type": self.doc_types,
            "tag": self.tags,
            "customer_type": self.customer_types,
            "industry": self.industries,
            "region": self.regions,
            "year": self.years,
            "stage": self.stages,
            "importance": self.importance,
            "ctag": self.customer_tags,
            "format": self.formats,
        }[kind]

    @property
    def positive_terms(self) -> list[Term]:
        """Every term that must (or may, inside an OR) match: what snippets highlight."""
        return [t for g in self.groups for t in g]


_TRANSLATE = str.maketrans(
    {
        "“": '"',
        "”": '"',
        "„": '"',
        "「": '"',
        "」": '"',
        "『": '"',
        "』": '"',
        "＂": '"',
        "：": ":",
        "－": "-",
        "—": "-",
        "\u3000": " ",
    }
)

# A raw token: optional minus, optional field prefix, then a quoted string or a bare word.
_RAW = re.compile(r'(?P<neg>-)?(?:(?P<field>[^\s:"]+):)?(?:"(?P<q>[^"]*)"?|(?P<w>[^\s"]+))')


def parse_request(request: SearchRequest) -> ParsedQuery:
    """Check a request's date range (:class:`~index._fields.BadDate`) and parse its query: what every backend runs first."""
    check_dates(request.date_from, request.date_to)
    return parse_query(request.query)


def parse_query(query: str) -> ParsedQuery:
    """Parse a user query; raise a :class:`~index._fields.SearchRefused` only for what cannot be searched.

    :class:`QueryTooLong` past :data:`MAX_QUERY_CHARS`; :class:`NothingToSearch` when the
    query has text but only punctuation (it would otherwise list every document);
    :class:`QuerySyntaxError` for a field without a value or a value it cannot read.
    """
    length = len(query.strip())
    if length > MAX_QUERY_CHARS:
        raise QueryTooLong(msg("index.query.too_long", length=length, limit=MAX_QUERY_CHARS))
    text = query.translate(_TRANSLATE)
    parsed = ParsedQuery()
    or_target: str | None = None  # what an OR just typed joins: "term" or "entity" alternatives
    last_entity = False
    pos = 0
    n_terms = 0
    dropped = False  # something was typed that has nothing to search for (punctuation, a lone quote)
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        phone = _phone_run(text, pos)
        if phone is not None:  # "021 6149 8137": one phone number, not three numbers
            pos, term = phone
            n_terms += 1
            if or_target == "term":
                parsed.groups[-1].append(term)
            else:
                parsed.groups.append([term])
            or_target, last_entity = None, False
            continue
        m = _RAW.match(text, pos)
        if m is None or m.end() == pos:  # a lone quote or minus
            pos += 1
            dropped = True
            continue
        pos = m.end()
        neg, fname, quoted, bare = m.group("neg"), m.group("field"), m.group("q"), m.group("w")
        value = quoted if quoted is not None else bare or ""
        if fname is None and quoted is None and value.endswith(":") and value[:-1].lower() in FIELDS:
            raise QuerySyntaxError(msg("index.query.missing_value", field=value))
        if fname is not None and not neg and fname.lower() in _VERSION_FIELDS:
            wanted = _VERSION_VALUES.get(value.strip().lower())
            if wanted is None:
                raise QuerySyntaxError(msg("index.query.bad_version", value=value[:40]))
            parsed.versions = wanted
            or_target, last_entity = None, False
            continue
        if fname is not None and fname.lower() in _IS_FIELDS:
            if value.strip().lower() in _SCAN_VALUES:
                parsed.scans = "exclude" if neg else "only"
            else:
                parsed.archived = _archived_value(fname, value, negative=bool(neg))
            or_target, last_entity = None, False
            continue
        if fname is not None:
            kind = FIELDS.get(fname.lower())
            if kind is None:
                # Not a field we know (a time "10:30", a URL): search the text as written.
                value = f"{fname}:{value}"
            else:
                if not value.strip():
                    raise QuerySyntaxError(msg("index.query.missing_value", field=f"{fname}:"))
                if kind == "phone" and quoted is None and (run := _phone_run(text, m.start("w"), glued=True)):
                    pos, value = run[0], run[1].text  # 电话:021 6149 8137
                meant = field_value(kind, value)
                if neg:
                    parsed.excluded_fields.append((meant.kind, meant.value))
                elif meant.kind in ENTITY_FIELDS:
                    pair = (meant.kind, meant.value)
                    if or_target == "entity":
                        parsed.entities[-1].append(pair)
                    else:
                        parsed.entities.append([pair])
                else:
                    parsed.filter_values(meant.kind).append(meant.value)
                last_entity = meant.kind in ENTITY_FIELDS and not neg
                or_target = None
                continue
        if quoted is None and neg is None and value == "OR":
            or_target = "entity" if last_entity else ("term" if parsed.groups else None)
            continue
        last_entity = False
        token = _phone_token(value) or analyse_query_term(value)
        if token is None:  # punctuation only
            dropped = True
            continue
        n_terms += 1
        if n_terms > MAX_TERMS:
            raise QuerySyntaxError(msg("index.query.too_many_terms", limit=MAX_TERMS))
        term = Term(text=value, phrase=quoted is not None, token=token)
        if neg:
            parsed.excludes.append(term)
        elif or_target == "term":
            parsed.groups[-1].append(term)
        else:
            parsed.groups.append([term])
        or_target = None
    if dropped and not _searches(parsed):
        raise NothingToSearch(msg("index.query.nothing_to_search"))
    return parsed


#: The non-entity filter kinds (:meth:`ParsedQuery.filter_values`).
COLUMN_FILTER_KINDS = (
    "customer",
    "type",
    "tag",
    "customer_type",
    "industry",
    "region",
    "year",
    "stage",
    "importance",
    "ctag",
    "format",
)

#: ``version:all`` (and its Chinese form) in a query: which entries it searches.
_VERSION_FIELDS = ("version", "versions", "版本")
_VERSION_VALUES = {"all": "all", "全部": "all", "current": "current", "当前": "current"}


def include_versions(request: SearchRequest, parsed: ParsedQuery) -> bool:
    """True when superseded versions' entries are searched too (the request or its query asks: ``version:all``)."""
    return (parsed.versions or request.versions) == "all"


def _searches(parsed: ParsedQuery) -> bool:
    """True when the query asks for something: a term, an exclusion or a filter of any kind."""
    return bool(
        parsed.groups
        or parsed.archived
        or parsed.scans
        or parsed.excludes
        or parsed.entities
        or parsed.excluded_fields
        or any(parsed.filter_values(kind) for kind in COLUMN_FILTER_KINDS)
    )


#: ``is:`` (and its Chinese alias) says which lifecycle states a search covers.
_IS_FIELDS = ("is", "状态")
#: ``is:`` values naming archived documents.
_ARCHIVED_VALUES = ("archived", "归档", "已归档")
#: ``is:`` values naming scans (image files, PDFs whose text came from OCR).
_SCAN_VALUES = ("scan", "scans", "scanned", "扫描", "扫描件")
#: What ``SearchRequest.archived`` may say.
ARCHIVED_CHOICES = ("exclude", "include", "only")


def _archived_value(fname: str, value: str, *, negative: bool) -> str:
    """``is:archived`` -> ``only``, ``-is:archived`` -> ``exclude``; any other ``is:`` value is a syntax error."""
    if value.strip().lower() not in _ARCHIVED_VALUES:
        raise QuerySyntaxError(msg("index.query.bad_is", value=f"{fname}:{value}"))
    return "exclude" if negative else "only"


def lifecycle_filter(request: SearchRequest, parsed: ParsedQuery) -> str:
    """Which documents a search covers by their lifecycle: ``exclude`` (active only), ``include`` or ``only`` (archived).

    ``is:archived`` in the query wins over the request's ``archived``; an unknown value reads as the default.
    """
    wanted = parsed.archived or request.archived
    return wanted if wanted in ARCHIVED_CHOICES else "exclude"


def scan_filter(request: SearchRequest, parsed: ParsedQuery) -> str | None:
    """``only`` (scans only: ``SearchRequest.scans_only`` or ``is:scan``), ``exclude`` (``-is:scan``) or None (all)."""
    if parsed.scans:
        return parsed.scans
    return "only" if request.scans_only else None


# Whitespace-separated groups of digits (with + ( ) - . inside) that may together be one phone number.
_PHONE_RUN = re.compile(r"[+(]{0,2}\d[\d().\-]*(?:[ \t]+[+(]{0,2}\d[\d().\-]*)+")
_PHONE_CHUNK = re.compile(r"\S+")
_NON_DIGIT = re.compile(r"\D")


def _phone_run(text: str, pos: int, *, glued: bool = False) -> tuple[int, Term] | None:
    """A phone number typed in groups (``021 6149 8137``, ``+86 138 1234 5678``) starting at ``pos``: (end, term).

    People type phone numbers with spaces; as separate words they would each have to be a
    whole token of the document (``6149`` is not one in ``021-61498137``).  The longest run of
    two or more groups that reads as one phone number (``ingest.normalize_phone``, as ``电话:``
    does) becomes one term; anything else is left to the ordinary words.  ``glued``: ``pos``
    follows a field name (``电话:``) rather than whitespace.
    """
    if pos and not glued and not text[pos - 1].isspace():
        return None
    m = _PHONE_RUN.match(text, pos)
    if m is None:
        return None
    chunks = [(pos + c.start(), pos + c.end()) for c in _PHONE_CHUNK.finditer(m.group())]
    for n in range(len(chunks), 1, -1):
        end = chunks[n - 1][1]
        if end < len(text) and not text[end].isspace():
            continue  # the last group runs on into a word ("8137号"): not a number typed on its own
        typed = text[pos:end]
        token = _phone_token(typed)
        if token is not None:
            return end, Term(text=typed, token=token)
    return None


def _phone_token(typed: str) -> QueryToken | None:
    """The query token of a phone number however it is typed, or None when ``typed`` is not one.

    Besides the digits as typed (a document that writes them the same way) it matches the
    digits joined (``02161498137``: a document's joined phone forms and unseparated numbers),
    with ``86`` in front for landlines, and the normal form's pieces (``021 61498137``:
    ``021-61498137``, ``(021)61498137``, and the phone entities every document's meta holds).
    """
    if not any(ch.isdigit() for ch in typed) or any(ch.isalpha() for ch in typed):
        return None
    normal = phone_number(typed)
    if normal is None:
        return None
    base = analyse_query_term(typed)
    shape = analyse_query_term(normal)
    if base is None or shape is None:
        return None
    digits = _NON_DIGIT.sub("", normal)
    joined = [digits]
    if digits.startswith("0"):
        joined.append("86" + digits[1:])
    variants = [v for v in (*base.variants, shape.grams) if v != base.grams]
    return QueryToken(
        grams=base.grams,
        word=base.word,
        alternatives=tuple(dict.fromkeys([*base.alternatives, *joined])),
        variants=tuple(dict.fromkeys(variants)),
    )


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def _phrase(grams: tuple[str, ...], prefix: bool) -> str:
    phrase = '"' + " ".join(t.replace('"', '""') for t in grams) + '"'
    return phrase + " *" if prefix else phrase


_GRAM_COLUMNS = "{title meta grams} : "


def _term_match(term: Term) -> str:
    """One term as FTS5: its phrase OR each other form the analysis gave it (see ``QueryToken``)."""
    tok = term.token
    parts = [_GRAM_COLUMNS + _phrase(tok.grams, tok.prefix)]
    parts.extend(_GRAM_COLUMNS + _phrase(v, tok.prefix) for v in tok.variants)
    if tok.word is not None:
        parts.append("words : " + _quote(tok.word))
    for alt in tok.alternatives:
        parts.append("{title meta words grams} : " + _quote(alt))
    parts.extend(_GRAM_COLUMNS + _quote(j) for j in tok.joined)
    if tok.relaxed is not None:
        groups = [
            "(" + " OR ".join(_GRAM_COLUMNS + _phrase(g, prefix) for g, prefix in group) + ")"
            for group in tok.relaxed.groups
        ]
        parts.append("(" + " AND ".join(groups) + ")")
    pinyin = pinyin_form(term)
    if pinyin is not None:
        parts.append("words : " + _quote(pinyin))
    return "(" + " OR ".join(parts) + ")"


def pinyin_form(term: Term) -> str | None:
    """The marked pinyin token a term also matches in the words column (:func:`index._pinyin.query_form`), or None.

    Only a bare word: a quoted phrase means its text exactly.
    """
    return None if term.phrase else query_form(term.text)


def compile_match(parsed: ParsedQuery) -> tuple[str | None, str | None]:
    """FTS5 MATCH texts for the positive part and for the exclusions (None where empty)."""
    positive = None
    if parsed.groups:
        positive = " AND ".join(
            "(" + " OR ".join(_term_match(t) for t in group) + ")" for group in parsed.groups
        )
    negative = None
    if parsed.excludes:
        negative = " OR ".join(_term_match(t) for t in parsed.excludes)
    return positive, negative


def column_filters(request: SearchRequest, parsed: ParsedQuery) -> dict[str, list[str]]:
    """Every non-entity filter of a request and its query, by field kind, normalised (see ``filter_values``).

    Values of one kind are alternatives; every kind with values must hold.
    """
    return {
        "customer": filter_values("customer", (*request.customers, *parsed.customers)),
        "type": filter_values("type", (*request.doc_types, *parsed.doc_types)),
        "tag": filter_values("tag", (*request.tags, *parsed.tags)),
        "customer_type": filter_values("customer_type", (*request.customer_types, *parsed.customer_types)),
        "industry": filter_values("industry", (*request.industries, *parsed.industries)),
        "region": filter_values("region", (*request.regions, *parsed.regions)),
        "year": filter_values("year", (*request.years, *parsed.years)),
        "stage": filter_values("stage", (*request.stages, *parsed.stages)),
        "importance": filter_values("importance", (*request.importance, *parsed.importance)),
        "ctag": filter_values("ctag", (*request.customer_tags, *parsed.customer_tags)),
        "format": filter_values("format", (*request.formats, *parsed.formats)),
    }


def entity_groups(request: SearchRequest, parsed: ParsedQuery) -> list[list[tuple[str, str]]]:
    """The entity filters of a request and its query: each group must match, any pair of a group will do."""
    groups = [[(kind, filter_key(kind, value))] for kind, value in request.entities if kind and value.strip()]
    return [*groups, *parsed.entities]


def field_values_of(request: SearchRequest, parsed: ParsedQuery) -> list[tuple[str, str]]:
    """Every (kind, lookup value) a request's entity filters ask for: what a snippet shows the passage of."""
    return list(dict.fromkeys(pair for group in entity_groups(request, parsed) for pair in group))
