"""Fixtures for the index tests: a real SQLite file per test and a small helper API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from index import IndexDocument, Principal, SearchRequest, SearchResult, SqliteBackend, open_backend


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    """A SQLite file in WAL mode, as the records layer configures it."""
    eng = sa.create_engine(f"sqlite:///{tmp_path / 'dossier.db'}")

    @event.listens_for(eng, "connect")
    def _wal(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        dbapi_conn.execute("PRAGMA journal_mode=WAL")

    yield eng
    eng.dispose()


@pytest.fixture
def backend(engine: sa.Engine) -> SqliteBackend:
    """The embedded backend on a fresh database."""
    b = open_backend(engine)
    assert isinstance(b, SqliteBackend)
    return b


ADMIN = Principal(username="admin", role="admin")


@pytest.fixture
def add(backend: SqliteBackend) -> Callable[..., IndexDocument]:
    """Index one document: add(id, text, **fields)."""

    def _add(doc_id: int, text: str, **fields) -> IndexDocument:  # type: ignore[no-untyped-def]
        fields.setdefault("title", f"文档{doc_id}")
        doc = IndexDocument(id=doc_id, text=text, **fields)
        backend.index([doc])
        return doc

    return _add


@pytest.fixture
def find(backend: SqliteBackend) -> Callable[..., list[int]]:
    """Ids a query finds (admin, limit 1000)."""

    def _find(query: str, principal: Principal = ADMIN, **req) -> list[int]:  # type: ignore[no-untyped-def]
        req.setdefault("limit", 1000)
        return [h.id for h in backend.search(SearchRequest(query, **req), principal).hits]

    return _find


@pytest.fixture
def search(backend: SqliteBackend) -> Callable[..., SearchResult]:
    """The full result of a query (admin unless told)."""

    def _search(query: str, principal: Principal = ADMIN, **req) -> SearchResult:  # type: ignore[no-untyped-def]
        return backend.search(SearchRequest(query, **req), principal)

    return _search
