"""Entries of activities and comments (issue 16): ids at or below minus 10**12, their own doc_type, and
``SearchRequest.activities`` (include | exclude | only); hits say which activity (and commented document).

A contract test: it runs against every backend available (see ``conftest.backend``).
"""

from __future__ import annotations

import pytest

from index import (
    IndexDocument,
    Principal,
    SearchBackend,
    SearchRequest,
    activity_entry_id,
    entry_activity,
)

ADMIN = Principal(username="admin", role="admin")
SALES1 = Principal(username="sales1", role="sales", owned_customer_ids=frozenset({1}))
SALES2 = Principal(username="sales2", role="sales", owned_customer_ids=frozenset({2}))
FINANCE = Principal(username="finance1", role="finance")
VIEWER = Principal(username="viewer1", role="viewer")


def _entries() -> list[IndexDocument]:
    doc = IndexDocument(
        id=5,
        title="维保合同",
        text="青松项目维保条款",
        confidentiality="internal",
        customers=("明远",),
        customer_ids=(1,),
    )
    old = IndexDocument(
        id=-9, title="维保合同", text="青松项目旧条款", confidentiality="internal", version=1, document_id=5
    )
    call = IndexDocument(
        id=activity_entry_id(1),
        title="续约电话",
        text="青松项目客户要求降价",
        doc_type="activity",
        customers=("明远",),
        customer_ids=(1,),
        access_customer_ids=(1,),
        confidentiality="confidential",
        date="2026-12-01",
        activity=1,
    )
    comment = IndexDocument(
        id=activity_entry_id(2),
        title="评论",
        text="青松项目报价偏高",
        doc_type="comment",
        customers=("明远",),
        customer_ids=(1,),
        access_customer_ids=(1,),
        confidentiality="internal",
        document_id=5,
        activity=2,
    )
    money = IndexDocument(
        id=activity_entry_id(3),
        title="回款",
        text="青松项目回款延迟",
        doc_type="activity",
        customers=("澄明",),
        customer_ids=(2,),
        access_customer_ids=(2,),
        confidentiality="finance",
        activity=3,
    )
    return [doc, old, call, comment, money]


def test_entry_ids_round_trip() -> None:
    assert entry_activity(activity_entry_id(42)) == 42
    assert entry_activity(-9) == 0 and entry_activity(5) == 0


def test_activities_are_searched_with_documents(backend: SearchBackend) -> None:
    """GIVEN a document, an old version, two activities and a comment, WHEN searching, THEN activities come
    with documents (not the old version), each hit naming its activity and the commented document."""
    backend.index(_entries())
    backend.settle()
    result = backend.search(SearchRequest("青松", limit=50), ADMIN)
    assert result.total == 4
    by_id = {h.id: h for h in result.hits}
    assert set(by_id) == {5, activity_entry_id(1), activity_entry_id(2), activity_entry_id(3)}
    assert by_id[5].activity == 0 and by_id[5].document == 5
    assert by_id[activity_entry_id(1)].activity == 1 and by_id[activity_entry_id(1)].document == 0
    assert by_id[activity_entry_id(2)].activity == 2 and by_id[activity_entry_id(2)].document == 5
    facets = dict(result.facets["doc_type"])
    assert facets == {"other": 1, "activity": 2, "comment": 1}
    # With every version: the old version too, activities still.
    assert backend.search(SearchRequest("青松", versions="all"), ADMIN).total == 5


@pytest.mark.parametrize(
    ("activities", "versions", "expected"),
    [
        ("exclude", "current", {5}),
        ("only", "current", {activity_entry_id(1), activity_entry_id(2), activity_entry_id(3)}),
        ("exclude", "all", {5, -9}),
        ("only", "all", {activity_entry_id(1), activity_entry_id(2), activity_entry_id(3)}),
    ],
)
def test_activities_filter(
    backend: SearchBackend, activities: str, versions: str, expected: set[int]
) -> None:
    backend.index(_entries())
    backend.settle()
    request = SearchRequest("青松", activities=activities, versions=versions, limit=50)
    assert {h.id for h in backend.search(request, ADMIN).hits} == expected
    assert set(backend.iter_ids(request, ADMIN)) == expected
    hits = list(backend.iter_hits(request, ADMIN, snippets=False))
    assert {h.activity for h in hits if h.id < -(10**12)} == {
        entry_activity(i) for i in expected if i < -(10**12)
    }
    assert {h.document for h in hits if h.activity == 2} <= {5}


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        (ADMIN, {1, 2, 3}),
        (SALES1, {1, 2}),  # confidential of a customer sales1 owns
        (SALES2, {2}),
        (FINANCE, {2, 3}),
        (VIEWER, set()),
    ],
)
def test_activities_obey_the_reading_rule(
    backend: SearchBackend, principal: Principal, expected: set[int]
) -> None:
    backend.index(_entries())
    backend.settle()
    result = backend.search(SearchRequest("青松", activities="only", limit=50), principal)
    assert {h.activity for h in result.hits} == expected
    assert result.total == len(expected)
    counted = sum(c for v, c in result.facets.get("doc_type", []) if v in ("activity", "comment"))
    assert counted == len(expected)


def test_activity_entries_are_deleted_and_listed(backend: SearchBackend) -> None:
    backend.index(_entries())
    backend.settle()
    assert activity_entry_id(2) in set(backend.entry_ids())
    backend.delete([activity_entry_id(2)])
    backend.settle()
    assert activity_entry_id(2) not in set(backend.entry_ids())
    assert backend.search(SearchRequest("报价偏高"), ADMIN).total == 0
    assert backend.count() == 1  # documents only
