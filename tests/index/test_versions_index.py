"""Superseded versions' entries (issue 15): negative ids, found only by ``version:all``, saying which version.

A contract test: it runs against every backend available (see ``conftest.backend``).
"""

from __future__ import annotations

import pytest

from index import IndexDocument, Principal, QuerySyntaxError, SearchBackend, SearchRequest

ADMIN = Principal(username="admin", role="admin")
VIEWER = Principal(username="viewer1", role="viewer")


def _docs() -> list[IndexDocument]:
    current = IndexDocument(
        id=7, title="供货合同", text="第二版：珊瑚项目补充协议", filename="v2.txt", confidentiality="public"
    )
    old = IndexDocument(
        id=-3,
        title="供货合同",
        text="第一版：翡翠湖项目原始条款",
        filename="v1.txt",
        confidentiality="public",
        version=1,
        document_id=7,
    )
    secret = IndexDocument(
        id=-4,
        title="财务合同",
        text="翡翠湖项目的付款计划",
        filename="pay-v1.txt",
        confidentiality="finance",
        version=1,
        document_id=8,
    )
    other = IndexDocument(id=8, title="财务合同", text="新付款计划", confidentiality="finance")
    return [current, old, other, secret]


def test_old_text_is_found_only_with_version_all(backend: SearchBackend) -> None:
    """GIVEN a document's current entry and its old version's entry, WHEN searching old text, THEN only
    ``version:all`` (or versions="all") finds it, as a hit naming the document and the version."""
    backend.index(_docs())
    backend.settle()
    assert backend.search(SearchRequest("翡翠湖"), ADMIN).total == 0
    for request in (SearchRequest("翡翠湖 version:all"), SearchRequest("翡翠湖", versions="all")):
        result = backend.search(request, ADMIN)
        found = {(h.id, h.document, h.version) for h in result.hits}
        assert found == {(-3, 7, 1), (-4, 8, 1)}, request
        assert result.total == 2
        assert sum(n for _v, n in result.facets["doc_type"]) == 2  # an old version is a hit of its own
    current = backend.search(SearchRequest("珊瑚项目 version:all"), ADMIN).hits
    assert [(h.id, h.version, h.document) for h in current] == [(7, 0, 7)]
    assert backend.count() == 2  # documents, not entries
    ids = list(backend.iter_ids(SearchRequest("项目", versions="all"), ADMIN))
    assert sorted(ids) == [-4, -3, 7]
    plain = list(backend.iter_hits(SearchRequest("项目", versions="all"), ADMIN, snippets=False))
    assert {(h.document, h.version) for h in plain} == {(7, 1), (8, 1), (7, 0)}


def test_old_versions_keep_the_documents_permissions(backend: SearchBackend) -> None:
    """A viewer finds a public document's old version but never a finance one's, nor counts it."""
    backend.index(_docs())
    backend.settle()
    result = backend.search(SearchRequest("翡翠湖 版本:全部"), VIEWER)
    assert [(h.document, h.version) for h in result.hits] == [(7, 1)] and result.total == 1


def test_deleting_an_old_versions_entry(backend: SearchBackend) -> None:
    """Deleting a document's entries (its id and its versions' negative ids) leaves nothing findable."""
    backend.index(_docs())
    backend.settle()
    backend.delete([7, -3])
    backend.settle()
    found = backend.search(SearchRequest("项目", versions="all"), ADMIN)
    assert {h.document for h in found.hits} == {8}


def test_a_bad_version_value_is_refused() -> None:
    """``version:`` takes all or current; anything else is a syntax error that says so."""
    from index import parse_query

    assert parse_query("合同 version:all").versions == "all"
    assert parse_query("合同").versions is None
    with pytest.raises(QuerySyntaxError):
        parse_query("合同 version:old")
