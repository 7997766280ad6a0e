"""The Tantivy backend's schema and documents (:mod:`index._tantivy`): what an entry is written as.

* ``title``/``meta``/``grams``/``words``: the embedded index's own token streams
  (:func:`index._sqlite_entry.streams_of`), split by Tantivy's ``simple`` tokenizer (``dossier_tokens``) with
  positions;
* keyword fields (raw, fast) for every filter and facet, integer fields for the ids, the customers, the
  date range and the sort orders (``recent``, ``date_desc``, ``date_asc``: date and intake in one 64-bit key);
* stored only (bytes fields, not indexed): ``texts``, the original title, metadata text and body (snippets;
  :func:`pack_texts`), and ``source``, the rest of the :class:`~index.IndexDocument` (JSON), from which
  :meth:`TantivyBackend.expunge` rewrites the index.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import tantivy
from sqlalchemy import Engine

from foundation.errors import DossierError
from foundation.messages import msg
from foundation.vocabulary import importance_level
from index._fields import customer_type_name, entity_key, fold
from index._formats import SCAN
from index._outbox import document_from_json, document_to_json
from index._sqlite_entry import Streams, streams_of
from index._titles import NUMBER_KINDS
from index._tv_query import TEXT_FIELDS, date_number, entity_term
from index._types import IndexDocument

__all__ = [
    "SCHEMA",
    "build_schema",
    "document_of",
    "fields_of",
    "index_directory",
    "pack_texts",
    "stored_document",
    "stored_texts",
    "tv_document",
    "tv_fields",
]

_KEYWORDS = (
    "doc_type",
    "doc_type_key",
    "confidentiality",
    "lifecycle",
    "customers",
    "customer_keys",
    "tags",
    "customer_types",
    "industries",
    "industry_keys",
    "regions",
    "region_keys",
    "customer_stages",
    "customer_importance",
    "customer_tags",
    "file_format",
    "scan",
    "year",
    "date",
    "entity",
    "number",
)


def index_directory(engine: Engine, directory: str | os.PathLike[str] | None = None) -> Path:
    """Where the index of ``engine``'s records lives: ``directory``, else beside the SQLite file."""
    if directory:
        return Path(directory)
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database)
        return path.with_name(path.stem + ".tantivy")
    raise DossierError(msg("index.tantivy.no_directory"))


def _epoch_s(stamp: str) -> int:
    if not stamp:
        return 0
    try:
        return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return 0


def build_schema() -> Any:
    sb = tantivy.SchemaBuilder()
    sb.add_integer_field("id", stored=True, indexed=True, fast=True)
    sb.add_integer_field("customer_id", indexed=True)
    sb.add_integer_field("access", indexed=True)
    sb.add_integer_field("date_num", indexed=True, fast=True)
    for name in ("recent", "date_desc", "date_asc"):
        sb.add_integer_field(name, fast=True)
    sb.add_integer_field("version", stored=True)
    sb.add_integer_field("document_id", stored=True)
    for name in TEXT_FIELDS:
        sb.add_text_field(name, tokenizer_name="dossier_tokens")
    for name in _KEYWORDS:
        sb.add_text_field(
            name, stored=name in ("doc_type", "customers", "date", "number"), fast=True, tokenizer_name="raw"
        )
    # Stored only (a text field would also index each whole text as one term: 60% of the indexing time).
    sb.add_bytes_field("texts", stored=True)  # the original title, metadata text and body (pack_texts)
    sb.add_bytes_field("source", stored=True)  # the rest of the IndexDocument (expunge rebuilds from it)
    return sb.build()


#: The schema (one object: its fields are what :func:`document_of` types values by).
SCHEMA = build_schema()


def _values(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def tv_fields(doc: IndexDocument, entry: Streams) -> dict[str, list[Any]]:
    """The fields of an entry's Tantivy document (plain values: a rebuild's workers compute them, and
    :func:`tv_document` makes the document in the writing process).

    Integer fields keep 0 (a value); text fields leave out empty strings and repeated values, and a field
    with no value is left out.
    """
    day = date_number(doc.date) if doc.date else 0
    created = _epoch_s(doc.created_at)
    out: dict[str, list[Any]] = {
        "id": [doc.id],
        "recent": [created],
        "date_desc": [day * 10**10 + created],
        "date_asc": [(day or 99_999_999) * 10**10 + created],
        "version": [doc.version],
        "document_id": [doc.document if (doc.version or doc.activity) else 0],
        "texts": [pack_texts(doc.title, entry.meta_text, doc.text)],
        # Stored as it is: the document store compresses it.
        "source": [document_to_json(doc, title="", text="").encode("utf-8")],
    }
    customer_ids = list(dict.fromkeys(int(c) for c in doc.customer_ids if c is not None))
    if customer_ids:
        out["customer_id"] = customer_ids
    if doc.access_customer_ids:
        out["access"] = list(dict.fromkeys(int(c) for c in doc.access_customer_ids))
    if day:
        out["date_num"] = [day]
    single = (
        ("title", entry.title),
        ("meta", entry.meta),
        ("grams", entry.grams),
        ("words", entry.words_column),
        ("doc_type", doc.doc_type),
        ("doc_type_key", doc.doc_type.lower()),
        ("confidentiality", doc.confidentiality),
        ("lifecycle", "archived" if doc.lifecycle == "archived" else "active"),
        ("file_format", doc.file_format),
        ("scan", SCAN if doc.scan else ""),
        ("year", doc.date[:4] if doc.date else ""),
        ("date", doc.date or ""),
    )
    out.update((name, [value]) for name, value in single if value)
    many: list[tuple[str, Iterable[str]]] = []  # the fields of a document's customers (most have none)
    if doc.customers or doc.customer_aliases:
        many += [
            ("customers", doc.customers),
            ("customer_keys", (fold(n) for n in (*doc.customers, *doc.customer_aliases))),
        ]
    if doc.tags:
        many.append(("tags", doc.tags))
    if doc.customer_types:
        many.append(("customer_types", (customer_type_name(c) or c.strip() for c in doc.customer_types)))
    if doc.industries:
        many += [
            ("industries", (i.strip() for i in doc.industries)),
            ("industry_keys", (fold(i.strip()) for i in doc.industries)),
        ]
    if doc.regions:
        many += [
            ("regions", (r.strip() for r in doc.regions)),
            ("region_keys", (fold(r.strip()) for r in doc.regions)),
        ]
    if doc.customer_stages:
        many.append(("customer_stages", (s.strip() for s in doc.customer_stages)))
    if doc.customer_importance:
        many.append(
            ("customer_importance", (importance_level(i) or i.strip() for i in doc.customer_importance))
        )
    if doc.customer_tags:
        many.append(("customer_tags", (t.strip() for t in doc.customer_tags)))
    if doc.entities:
        keys = ((k, entity_key(k, v)) for k, v in doc.entities if k and v)
        entities = _values(entity_term(k, key) for k, key in keys if key)
        many += [
            ("entity", entities[:5000]),
            ("number", (e for e in entities if e.split("\x1f", 1)[0] in NUMBER_KINDS)),
        ]
    for name, values in many:
        kept = _values(values)
        if kept:
            out[name] = kept
    return out


def fields_of(doc: IndexDocument) -> dict[str, list[Any]]:
    """:func:`tv_fields` of a document analysed here (what a rebuild's workers run; raises
    :class:`~index.InvalidDocument` for a document the index refuses)."""
    return tv_fields(doc, streams_of(doc))


def tv_document(doc: IndexDocument, entry: Streams) -> Any:
    """The Tantivy document of an entry."""
    return document_of(tv_fields(doc, entry))


def document_of(fields: dict[str, list[Any]]) -> Any:
    """The Tantivy document of :func:`tv_fields`' fields."""
    return tantivy.Document.from_dict(fields, SCHEMA)


def stored_document(stored: dict[str, Any]) -> IndexDocument:
    """The index document an entry was written from (its stored source, title and body)."""
    doc = document_from_json(bytes(stored["source"][0]).decode("utf-8"))
    title, _, body = stored_texts(stored)
    return replace(doc, title=title, text=body)


def pack_texts(title: str, meta: str, body: str) -> bytes:
    """The ``texts`` field: ``<len title>:<len meta>:`` (in characters), then the three texts, UTF-8."""
    return f"{len(title)}:{len(meta)}:{title}{meta}{body}".encode()


def stored_texts(stored: dict[str, Any]) -> tuple[str, str, str]:
    """(title, metadata text, body) of a stored entry (:func:`pack_texts`)."""
    found = stored.get("texts") or [b"0:0:"]
    raw = bytes(found[0]).decode("utf-8")
    first, _, rest = raw.partition(":")
    second, _, texts = rest.partition(":")
    a = int(first)
    b = a + int(second)
    return texts[:a], texts[a:b], texts[b:]
