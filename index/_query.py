"""Query syntax (BRIEF §4): parse to a small AST, compile to FTS5 MATCH text.

Grammar, tolerant by design (people type into a search box, not a compiler):

* whitespace-separated terms are ANDed;
* ``"exact phrase"`` keeps its words adjacent (an unbalanced quote runs to the end);
* ``-term`` / ``-"phrase"`` excludes documents containing it;
* ``OR`` (upper case) between two terms makes them alternatives;
* ``customer:明远``, ``type:contract``, ``tag:重要`` (also ``客户:``, ``类型:``, ``标签:``)
  become filters; a value may be quoted;
* full-width quotes, colons and minus signs count as their ASCII forms.

A query without positive terms (empty, only filters, only exclusions) matches
every readable document, minus the exclusions.  Every token reaching FTS5 is
double-quoted, so user text can never inject FTS5 operators.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dossier.errors import DossierError
from index._analysis import QueryToken, analyse_query_term

__all__ = ["FIELDS", "ParsedQuery", "QuerySyntaxError", "Term", "compile_match", "parse_query"]

MAX_QUERY_CHARS = 1000
MAX_TERMS = 64

#: Field names (and their Chinese aliases) mapped to the filter they set.
FIELDS = {
    "customer": "customer",
    "客户": "customer",
    "type": "type",
    "类型": "type",
    "tag": "tag",
    "标签": "tag",
}


class QuerySyntaxError(DossierError):
    """The query cannot be understood."""

    status = 400


@dataclass(frozen=True)
class Term:
    """One positive or negative query term (a word or a quoted phrase)."""

    text: str
    phrase: bool = False
    token: QueryToken = field(default_factory=lambda: QueryToken(grams=()))


@dataclass
class ParsedQuery:
    """AND of OR-groups, exclusions and field filters."""

    groups: list[list[Term]] = field(default_factory=list)
    excludes: list[Term] = field(default_factory=list)
    customers: list[str] = field(default_factory=list)
    doc_types: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

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


def parse_query(query: str) -> ParsedQuery:
    """Parse a user query; raise :class:`QuerySyntaxError` only for what cannot be searched."""
    if len(query) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(
            f"查询过长（最多 {MAX_QUERY_CHARS} 个字符）/ Query too long (at most {MAX_QUERY_CHARS} characters)"
        )
    text = query.translate(_TRANSLATE)
    parsed = ParsedQuery()
    pending_or = False
    pos = 0
    n_terms = 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        m = _RAW.match(text, pos)
        if m is None or m.end() == pos:  # a lone quote or minus
            pos += 1
            continue
        pos = m.end()
        neg, fname, quoted, bare = m.group("neg"), m.group("field"), m.group("q"), m.group("w")
        value = quoted if quoted is not None else bare or ""
        if fname is None and quoted is None and value.endswith(":") and value[:-1].lower() in FIELDS:
            raise QuerySyntaxError(f"“{value}” 后缺少值 / Missing value after “{value}”")
        if fname is not None:
            kind = FIELDS.get(fname.lower())
            if kind is None:
                # Not a field we know (a time "10:30", a URL): search the text as written.
                value = f"{fname}:{value}"
            else:
                value = value.strip()
                if not value:
                    raise QuerySyntaxError(f"“{fname}:” 后缺少值 / Missing value after “{fname}:”")
                target = {"customer": parsed.customers, "type": parsed.doc_types, "tag": parsed.tags}[kind]
                target.append(type_code(value) if kind == "type" else value)
                pending_or = False
                continue
        if quoted is None and neg is None and value == "OR":
            pending_or = bool(parsed.groups)
            continue
        token = analyse_query_term(value)
        if token is None:  # punctuation only
            continue
        n_terms += 1
        if n_terms > MAX_TERMS:
            raise QuerySyntaxError(
                f"查询词过多（最多 {MAX_TERMS} 个）/ Too many query terms (at most {MAX_TERMS})"
            )
        term = Term(text=value, phrase=quoted is not None, token=token)
        if neg:
            parsed.excludes.append(term)
            pending_or = False
        elif pending_or:
            parsed.groups[-1].append(term)
            pending_or = False
        else:
            parsed.groups.append([term])
    return parsed


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
    return "(" + " OR ".join(parts) + ")"


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


def type_code(value: str) -> str:
    """A document type code for a code or its Chinese/English label (``合同`` → ``contract``); else the value."""
    from ingest import DOC_TYPES

    lowered = value.strip().lower()
    for code, (zh, en) in DOC_TYPES.items():
        if lowered in (code, zh, en.lower()):
            return code
    return value
