"""Archived entries (``IndexDocument.lifecycle``): left out of a default search, found with ``is:archived``.

One contract suite for every backend (see ``conftest.backend``).
"""

from __future__ import annotations

import pytest

from index import Principal, QuerySyntaxError, SearchRequest

VIEWER = Principal(username="v", role="viewer")


@pytest.fixture
def archive_docs(add):  # type: ignore[no-untyped-def]
    """1 and 2 active, 3 archived (public), 4 archived (finance: viewers may not read it)."""
    add(1, "年度合同 明远科技", confidentiality="public")
    add(2, "年度合同 光华", confidentiality="public")
    add(3, "年度合同 旧档", confidentiality="public", lifecycle="archived")
    add(4, "年度合同 财务旧档", confidentiality="finance", lifecycle="archived")


def test_default_search_leaves_archived_documents_out(archive_docs, find):  # type: ignore[no-untyped-def]
    """An archived document is not a hit of a default search, also when its words match."""
    assert sorted(find("年度合同")) == [1, 2]
    assert find("旧档") == []


def test_is_archived_finds_only_archived_documents(archive_docs, find):  # type: ignore[no-untyped-def]
    """``is:archived`` (and its Chinese form) searches the archive only; alone it lists the archive."""
    assert sorted(find("年度合同 is:archived")) == [3, 4]
    assert sorted(find("is:已归档")) == [3, 4]
    assert sorted(find("旧档 is:archived")) == [3, 4]


def test_request_archived_include_and_only(archive_docs, find):  # type: ignore[no-untyped-def]
    """``SearchRequest.archived``: include shows all, only the archive, exclude (default) the active ones."""
    assert sorted(find("年度合同", archived="include")) == [1, 2, 3, 4]
    assert sorted(find("年度合同", archived="only")) == [3, 4]
    assert sorted(find("年度合同 -is:archived", archived="include")) == [1, 2]


def test_lifecycle_facet_counts_what_the_filter_leaves_out(archive_docs, search):  # type: ignore[no-untyped-def]
    """The lifecycle facet counts active and archived matches, whichever the request shows."""
    result = search("年度合同")
    assert result.total == 2
    assert dict(result.facets["lifecycle"]) == {"active": 2, "archived": 2}
    only = search("年度合同 is:archived")
    assert only.total == 2
    assert dict(only.facets["lifecycle"]) == {"active": 2, "archived": 2}


def test_lifecycle_facet_respects_permissions(archive_docs, search):  # type: ignore[no-untyped-def]
    """A viewer's lifecycle facet never counts an archived document it may not read."""
    result = search("年度合同", VIEWER)
    assert dict(result.facets["lifecycle"]) == {"active": 2, "archived": 1}
    assert [h.id for h in search("is:archived", VIEWER).hits] == [3]


def test_unarchiving_reindexes_as_active(archive_docs, add, find):  # type: ignore[no-untyped-def]
    """An entry written again as active is found by a default search at once."""
    add(3, "年度合同 旧档", confidentiality="public")
    assert sorted(find("年度合同")) == [1, 2, 3]
    assert sorted(find("is:archived")) == [4]


def test_iter_ids_honours_the_lifecycle_filter(archive_docs, backend):  # type: ignore[no-untyped-def]
    """Exports and bulk actions walk the same set a search shows."""
    admin = Principal(username="admin", role="admin")
    assert sorted(backend.iter_ids(SearchRequest("年度合同"), admin)) == [1, 2]
    assert sorted(backend.iter_ids(SearchRequest("年度合同", archived="only"), admin)) == [3, 4]
    assert sorted(backend.iter_ids(SearchRequest("年度合同 is:archived"), admin)) == [3, 4]


def test_unknown_is_value_is_a_syntax_error(archive_docs, find):  # type: ignore[no-untyped-def]
    """``is:`` takes ``archived`` only; anything else says so instead of matching nothing."""
    with pytest.raises(QuerySyntaxError):
        find("is:deleted")
