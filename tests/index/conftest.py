"""Fixtures for the index tests: a real SQLite file per test, each backend, and a small helper API.

``backend`` is parametrized over every backend available: the embedded one always, OpenSearch
whenever ``DOSSIER_OPENSEARCH_URL`` names a node (CI always).  So every test written against
``backend``/``add``/``find``/``search`` is one contract test run against each.  Tests of the
embedded index's own tables use ``sqlite_backend``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from index import (
    IndexDocument,
    Principal,
    SearchBackend,
    SearchRequest,
    SearchResult,
    SqliteBackend,
    open_backend,
)
from tests import _opensearch
from tests.conftest import TANTIVY


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
def sqlite_backend(engine: sa.Engine) -> SqliteBackend:
    """The embedded backend on a fresh database."""
    b = open_backend(engine)
    assert isinstance(b, SqliteBackend)
    return b


@pytest.fixture(params=["sqlite", *TANTIVY, pytest.param("opensearch", marks=pytest.mark.opensearch)])
def backend(request: pytest.FixtureRequest, engine: sa.Engine) -> Iterator[SearchBackend]:
    """Each backend on a fresh index: the embedded one, the Tantivy one (unless DOSSIER_TEST_TANTIVY=0), and
    OpenSearch when a node is configured."""
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_backend")
        return
    if request.param == "tantivy":
        tv = open_backend(engine, "tantivy")
        tv.clear()
        yield tv
        return
    url = _opensearch.cluster_url()
    b = _opensearch.make_backend(engine, url)
    try:
        yield b
    finally:
        _opensearch.drop(url, b.alias)


ADMIN = Principal(username="admin", role="admin")


@pytest.fixture
def add(backend: SearchBackend) -> Callable[..., IndexDocument]:
    """Index one document: add(id, text, **fields)."""

    def _add(doc_id: int, text: str, **fields) -> IndexDocument:  # type: ignore[no-untyped-def]
        fields.setdefault("title", f"文档{doc_id}")
        doc = IndexDocument(id=doc_id, text=text, **fields)
        backend.index([doc])
        return doc

    return _add


@pytest.fixture
def find(backend: SearchBackend) -> Callable[..., list[int]]:
    """Ids a query finds (admin, limit 1000)."""

    def _find(query: str, principal: Principal = ADMIN, **req) -> list[int]:  # type: ignore[no-untyped-def]
        req.setdefault("limit", 1000)
        return [h.id for h in backend.search(SearchRequest(query, **req), principal).hits]

    return _find


@pytest.fixture
def search(backend: SearchBackend) -> Callable[..., SearchResult]:
    """The full result of a query (admin unless told)."""

    def _search(query: str, principal: Principal = ADMIN, **req) -> SearchResult:  # type: ignore[no-untyped-def]
        return backend.search(SearchRequest(query, **req), principal)

    return _search
