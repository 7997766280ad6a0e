"""The Tantivy backend's schema and documents (:mod:`index._tantivy`): what an entry is written as.

* ``title``/``meta``/``grams``/``words``: the embedded index's own token streams
  (:func:`index._sqlite_entry.entry_of`), split by Tantivy's ``simple`` tokenizer (``dossier_tokens``) with
  positions;
* keyword fields (raw, fast) for every filter and facet, integer fields for the ids, the customers, the
  date range and the sort orders (``recent``, ``date_desc``, ``date_asc``: date and intake in one 64-bit key);
* stored: the original title, metadata text and body (snippets), and ``source``, the rest of the
  :class:`~index.IndexDocument` (zlib JSON), from which :meth:`TantivyBackend.expunge` rewrites the index.
"""

from __future__ import annotations

import os
import zlib
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
from index._sqlite_entry import Entry
from index._titles import NUMBER_KINDS
from index._tv_query import TEXT_FIELDS, date_number, entity_term
from index._types import IndexDocument

__all__ = ["build_schema", "index_directory", "stored_document", "tv_document"]

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
_STORED = ("title_text", "meta_text", "body")


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
    for name in _STORED:
        sb.add_text_field(name, stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_bytes_field("source", stored=True)  # the rest of the IndexDocument (expunge rebuilds from it)
    return sb.build()


def _values(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def tv_document(doc: IndexDocument, entry: Entry) -> Any:
    """The Tantivy document of an entry."""
    d = tantivy.Document()
    d.add_integer("id", doc.id)
    for cid in dict.fromkeys(c for c in doc.customer_ids if c is not None):
        d.add_integer("customer_id", int(cid))
    for cid in dict.fromkeys(doc.access_customer_ids):
        d.add_integer("access", int(cid))
    day = date_number(doc.date) if doc.date else 0
    created = _epoch_s(doc.created_at)
    if day:
        d.add_integer("date_num", day)
    d.add_integer("recent", created)
    d.add_integer("date_desc", day * 10**10 + created)
    d.add_integer("date_asc", (day or 99_999_999) * 10**10 + created)
    d.add_integer("version", doc.version)
    d.add_integer("document_id", doc.document if (doc.version or doc.activity) else 0)
    d.add_text("title", entry.title)
    d.add_text("meta", entry.meta)
    d.add_text("grams", entry.grams)
    d.add_text("words", entry.words_column)
    d.add_text("title_text", doc.title)
    d.add_text("meta_text", entry.meta_text)
    d.add_text("body", doc.text)
    d.add_bytes("source", zlib.compress(document_to_json(replace(doc, title="", text="")).encode("utf-8")))
    customer_keys = (fold(n) for n in (*doc.customers, *doc.customer_aliases))
    entities = _values(
        entity_term(k, entity_key(k, v)) for k, v in doc.entities if k and v and entity_key(k, v)
    )
    keywords: dict[str, Iterable[str]] = {
        "doc_type": (doc.doc_type,),
        "doc_type_key": (doc.doc_type.lower(),),
        "confidentiality": (doc.confidentiality,),
        "lifecycle": ("archived" if doc.lifecycle == "archived" else "active",),
        "customers": doc.customers,
        "customer_keys": customer_keys,
        "tags": doc.tags,
        "customer_types": (customer_type_name(c) or c.strip() for c in doc.customer_types),
        "industries": (i.strip() for i in doc.industries),
        "industry_keys": (fold(i.strip()) for i in doc.industries),
        "regions": (r.strip() for r in doc.regions),
        "region_keys": (fold(r.strip()) for r in doc.regions),
        "customer_stages": (s.strip() for s in doc.customer_stages),
        "customer_importance": (importance_level(i) or i.strip() for i in doc.customer_importance),
        "customer_tags": (t.strip() for t in doc.customer_tags),
        "file_format": (doc.file_format,),
        "scan": (SCAN,) if doc.scan else (),
        "year": (doc.date[:4],) if doc.date else (),
        "date": (doc.date,) if doc.date else (),
        "entity": entities[:5000],
        "number": (e for e in entities if e.split("\x1f", 1)[0] in NUMBER_KINDS),
    }
    for name, values in keywords.items():
        for value in _values(values):
            d.add_text(name, value)
    return d


def stored_document(stored: dict[str, Any]) -> IndexDocument:
    """The index document an entry was written from (its stored source, title and body)."""
    doc = document_from_json(zlib.decompress(bytes(stored["source"][0])).decode("utf-8"))
    return replace(
        doc, title=str((stored.get("title_text") or [""])[0]), text=str((stored.get("body") or [""])[0])
    )
