"""The linked customers' steering fields: sales stage (销售阶段), importance (A/B/C) and customer tags (客户标签).

Contract tests over every backend: filters from the request and from the query syntax (English and
Chinese field names), facets counted over what the principal may read, and the upgrade of an index
written before these fields existed.
"""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from index import IndexDocument, Principal, QuerySyntaxError, SearchRequest, SqliteBackend, open_backend

ADMIN = Principal.system()
VIEWER = Principal(username="v", role="viewer")
FINANCE = Principal(username="f", role="finance")
REP = Principal(username="rep", role="sales", owned_customer_ids=frozenset({3}))


def _doc(
    doc_id: int, level: str, cid: int, stage: str, importance: str, tags: tuple[str, ...]
) -> IndexDocument:
    return IndexDocument(
        id=doc_id,
        title=f"文档{doc_id}",
        text="年度报价 服务器",
        confidentiality=level,
        customers=(f"客户{cid}",),
        customer_ids=(cid,),
        access_customer_ids=(cid,),
        customer_stages=(stage,) if stage else (),
        customer_importance=(importance,) if importance else (),
        customer_tags=tags,
    )


@pytest.fixture
def steered(backend):
    """Five documents of three customers at mixed confidentiality, one without any steering field."""
    backend.index(
        [
            _doc(1, "public", 1, "商务谈判", "A", ("重点", "华东")),
            _doc(2, "internal", 1, "商务谈判", "A", ("重点", "华东")),
            _doc(3, "confidential", 3, "初步接触", "b", ("华东",)),  # stored as B
            _doc(4, "finance", 2, "已签约", "C", ("续约",)),
            _doc(5, "public", 4, "", "", ()),
        ]
    )
    return backend


def _ids(backend, query: str = "", principal: Principal = ADMIN, **req) -> list[int]:  # type: ignore[no-untyped-def]
    req.setdefault("limit", 100)
    return sorted(h.id for h in backend.search(SearchRequest(query, **req), principal).hits)


def test_request_filters_select_by_stage_importance_and_tag(steered):
    assert _ids(steered, stages=("商务谈判",)) == [1, 2]
    assert _ids(steered, stages=("商务谈判", "已签约")) == [1, 2, 4]
    assert _ids(steered, importance=("b",)) == [3]  # any case
    assert _ids(steered, importance=("Ｃ",)) == [4]  # full width
    assert _ids(steered, customer_tags=("华东",)) == [1, 2, 3]
    assert _ids(steered, customer_tags=("华东",), importance=("A",)) == [1, 2]  # different filters AND
    assert _ids(steered, stages=("商务",)) == []  # a stage is exact, not a fragment


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("stage:商务谈判", [1, 2]),
        ("阶段:初步接触", [3]),
        ("销售阶段:已签约", [4]),
        ("importance:a", [1, 2]),
        ("重要性:Ｂ", [3]),
        ("重要程度:C", [4]),
        ("ctag:续约", [4]),
        ("客户标签:华东", [1, 2, 3]),
        ('客户标签："华东"', [1, 2, 3]),
        ("ctag:华东 -importance:A", [3]),
        ("客户标签：重点 报价", [1, 2]),  # full-width colon, with a term
        ("importance:A OR importance:C", [1, 2, 4]),  # values of one field are alternatives anyway
    ],
)
def test_query_syntax_in_english_and_chinese(steered, query, expected):
    assert _ids(steered, query) == expected


def test_two_values_of_one_field_are_alternatives(steered):
    assert _ids(steered, "importance:A importance:C") == [1, 2, 4]


def test_an_importance_that_is_not_a_b_or_c_is_a_syntax_error(steered):
    with pytest.raises(QuerySyntaxError) as caught:
        steered.search(SearchRequest("importance:D"), ADMIN)
    assert "D" in str(caught.value)


def test_facets_count_stage_importance_and_tags(steered):
    facets = steered.search(SearchRequest(""), ADMIN).facets
    assert dict(facets["stage"]) == {"商务谈判": 2, "初步接触": 1, "已签约": 1}
    assert dict(facets["importance"]) == {"A": 2, "B": 1, "C": 1}
    assert dict(facets["ctag"]) == {"华东": 3, "重点": 2, "续约": 1}


def test_facets_count_only_what_the_principal_may_read(steered):
    """A viewer reads public only, finance also internal and finance; the rep of customer 3 also its confidential one."""
    viewer = steered.search(SearchRequest(""), VIEWER).facets
    assert dict(viewer["stage"]) == {"商务谈判": 1}
    assert dict(viewer["importance"]) == {"A": 1}
    assert dict(viewer["ctag"]) == {"华东": 1, "重点": 1}
    finance = steered.search(SearchRequest(""), FINANCE).facets
    assert dict(finance["stage"]) == {"商务谈判": 2, "已签约": 1}
    assert dict(finance["ctag"]) == {"华东": 2, "重点": 2, "续约": 1}
    rep = steered.search(SearchRequest(""), REP).facets
    assert dict(rep["stage"]) == {"商务谈判": 2, "初步接触": 1}
    assert dict(rep["ctag"]) == {"华东": 3, "重点": 2}
    assert _ids(steered, "importance:C", VIEWER) == []  # a filter never reaches past the permissions
    assert _ids(steered, "ctag:华东", REP) == [1, 2, 3]


def test_a_reindexed_document_follows_its_customer(steered):
    steered.index([_doc(4, "finance", 2, "已流失", "B", ())])
    assert _ids(steered, "stage:已签约") == []
    assert _ids(steered, "stage:已流失 importance:B") == [4]
    assert _ids(steered, "ctag:续约") == []


def _downgrade_to_schema_4(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for column in ("customer_stages", "customer_importance", "customer_tags"):
            conn.exec_driver_sql(f"ALTER TABLE search_doc DROP COLUMN {column}")
        conn.exec_driver_sql("UPDATE search_meta SET value = '4' WHERE key = 'schema'")


def test_an_index_of_schema_4_gets_the_columns_and_asks_for_a_reindex(engine, caplog):
    old = open_backend(engine)
    old.index([_doc(1, "public", 1, "商务谈判", "A", ("重点",))])
    _downgrade_to_schema_4(engine)
    with caplog.at_level(logging.WARNING, logger="index._sqlite"):
        backend = open_backend(engine)
    assert isinstance(backend, SqliteBackend)
    assert backend.needs_reindex()
    assert any("reindex" in r.getMessage() for r in caplog.records)
    assert _ids(backend, "年度报价") == [1]  # still answers
    assert _ids(backend, "stage:商务谈判") == []  # the fields come from the records: `dossier reindex`
    backend.clear()
    backend.index([_doc(1, "public", 1, "商务谈判", "A", ("重点",))])
    assert _ids(backend, "stage:商务谈判 ctag:重点 importance:a") == [1]
    assert not open_backend(engine).needs_reindex()


@pytest.mark.opensearch
def test_an_opensearch_index_of_schema_4_takes_the_new_fields_and_asks_for_a_reindex(engine):
    """The live index of an older mapping gets the keyword fields (its strict mapping would refuse the writes)."""
    import uuid

    import requests

    from index._opensearch import ADDED_KEYWORDS, mappings
    from tests import _opensearch

    url = _opensearch.cluster_url()
    alias = f"dossier-test-{uuid.uuid4().hex[:12]}"
    old = mappings()
    old["_meta"] = {**old["_meta"], "schema": "4"}
    old["properties"] = {k: v for k, v in old["properties"].items() if k not in ADDED_KEYWORDS}
    try:
        made = requests.put(f"{url}/{alias}-v4-0", json={"mappings": old}, timeout=30)
        assert made.ok, made.text
        assert requests.put(f"{url}/{alias}-v4-0/_alias/{alias}", timeout=30).ok
        backend = _opensearch.make_backend(engine, url, index_name=alias)
        assert backend.needs_reindex()
        backend.index([_doc(1, "public", 1, "商务谈判", "A", ("重点",))])
        backend.flush(force=True)
        assert _ids(backend, "stage:商务谈判 ctag:重点") == [1]
        live = requests.get(f"{url}/{alias}/_mapping", timeout=30).json()[f"{alias}-v4-0"]["mappings"]
        assert all(live["properties"][name]["type"] == "keyword" for name in ADDED_KEYWORDS)
    finally:
        _opensearch.drop(url, alias)
