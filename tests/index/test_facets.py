"""Customer, customer-type, industry, region and year filters and facets; entity storage and upgrades."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from index import IndexDocument, Principal, SearchRequest, SqliteBackend, open_backend

VIEWER = Principal(username="v", role="viewer")
FINANCE = Principal(username="f", role="finance")
ADMIN = Principal.system()

MINGYUAN = "上海明远科技有限公司"
MINGYUAN_BJ = "北京明远科技发展有限公司"
YUNFAN = "杭州云帆信息技术有限公司"
ACME = "Acme Trading Co., Ltd."

#: (name, id, aliases, customer type, industry, region) of four registry customers.
CUSTOMERS = {
    MINGYUAN: (1, ("明远科技",), "现有客户", "信息技术服务业", "上海市"),
    MINGYUAN_BJ: (2, ("北明远",), "潜在客户", "制造业", "北京市"),
    YUNFAN: (3, ("云帆信息", "云帆"), "流失客户", "批发和零售业", "浙江省"),
    ACME: (4, ("Acme",), "现有客户", "金融业", "江苏省"),
}


def _doc(doc_id: int, *names: str, **fields) -> IndexDocument:  # type: ignore[no-untyped-def]
    """A document linked to registry customers, with everything intake derives from them."""
    linked = [CUSTOMERS[n] for n in names]
    fields.setdefault("title", f"文档{doc_id}")
    fields.setdefault("text", "年度报价 服务器")
    return IndexDocument(
        id=doc_id,
        customers=names,
        customer_ids=tuple(c[0] for c in linked),
        # as the application's container rule gives a document of its own: its customers' owners read it
        access_customer_ids=tuple(c[0] for c in linked),
        customer_aliases=tuple(a for n, c in zip(names, linked, strict=True) for a in (n, *c[1])),
        customer_types=tuple(c[2] for c in linked),
        industries=tuple(c[3] for c in linked),
        regions=tuple(c[4] for c in linked),
        **fields,
    )


@pytest.fixture
def registry_docs(backend):
    """Six documents: one per customer, one with two customers, one with none (mixed confidentiality)."""
    backend.index(
        [
            _doc(1, MINGYUAN, date="2024-03-15", confidentiality="public", doc_type="contract"),
            _doc(2, MINGYUAN_BJ, date="2023-11-02", confidentiality="public", doc_type="quote"),
            _doc(3, YUNFAN, date="2024-06-01", confidentiality="confidential", doc_type="contract"),
            _doc(4, ACME, date="2022-01-20", confidentiality="internal", doc_type="invoice"),
            _doc(5, MINGYUAN, YUNFAN, date="2024-09-09", confidentiality="public", doc_type="meeting"),
            _doc(6, date="2024-01-01", confidentiality="public", doc_type="other"),
        ]
    )
    return backend


def _ids(backend: SqliteBackend, query: str = "", principal: Principal = ADMIN, **req) -> list[int]:  # type: ignore[no-untyped-def]
    return sorted(h.id for h in backend.search(SearchRequest(query, limit=1000, **req), principal).hits)


# -- customer filter: exact names and aliases, else fragments ------------------------------------


def test_customer_full_name_or_alias_selects_exactly_that_customer(registry_docs):
    """明远科技 is 上海明远's alias, so it does not also pick 北京明远科技发展 (which merely contains it)."""
    assert _ids(registry_docs, "customer:明远科技") == [1, 5]
    assert _ids(registry_docs, f"客户:{MINGYUAN}") == [1, 5]
    assert _ids(registry_docs, customers=("明远科技",)) == [1, 5]
    assert _ids(registry_docs, customers=(MINGYUAN_BJ,)) == [2]
    assert _ids(registry_docs, "customer:云帆") == [3, 5]  # an alias that is also a fragment of others


def test_customer_fragment_matches_names_and_aliases(registry_docs):
    """A value that is no customer's name or alias is a fragment of the names and aliases."""
    assert _ids(registry_docs, "customer:明远") == [1, 2, 5]
    assert _ids(registry_docs, "customer:北明") == [2]  # a fragment of an alias only
    assert _ids(registry_docs, "customer:明远集团") == []


def test_customer_names_compare_after_normalisation(registry_docs):
    """Case, full-width letters and spaces do not matter for exact names."""
    assert _ids(registry_docs, 'customer:"ACME TRADING CO., LTD."') == [4]
    assert _ids(registry_docs, "customer:ａｃｍｅ") == [4]
    assert _ids(registry_docs, customers=("上海 明远 科技 有限公司",)) == [1, 5]


def test_customer_ids_filter_is_exact(registry_docs):
    """customer_ids (the customer page) selects the documents linked to those registry ids, ORed."""
    assert _ids(registry_docs, customer_ids=(1,)) == [1, 5]
    assert _ids(registry_docs, customer_ids=(2, 4)) == [2, 4]
    assert _ids(registry_docs, customer_ids=(99,)) == []
    assert _ids(registry_docs, "会议", customer_ids=(3,)) == []
    assert _ids(registry_docs, "报价", customer_ids=(3,)) == [3, 5]


def test_customer_ids_filter_still_applies_permissions(registry_docs):
    """A viewer on a customer's page sees only what it may read."""
    assert _ids(registry_docs, principal=VIEWER, customer_ids=(3,)) == [5]


# -- customer type, industry, region, year ---------------------------------------------------


def test_customer_type_filter_accepts_short_forms(registry_docs):
    """潜在/现有/流失 mean 潜在客户/现有客户/流失客户, in the query and in the request."""
    assert _ids(registry_docs, "客户类型:现有") == [1, 4, 5]
    assert _ids(registry_docs, customer_types=("流失",)) == [3, 5]
    assert _ids(registry_docs, customer_types=("潜在客户",)) == [2]


def test_industry_and_region_filters(registry_docs):
    """Industry matches a fragment, region a prefix (浙江 → 浙江省)."""
    assert _ids(registry_docs, "行业:制造") == [2]
    assert _ids(registry_docs, industries=("信息技术服务业",)) == [1, 5]
    assert _ids(registry_docs, "地区:浙江") == [3, 5]
    assert _ids(registry_docs, "省份:上海市") == [1, 5]
    assert _ids(registry_docs, regions=("江苏",)) == [4]
    assert _ids(registry_docs, regions=("苏",)) == []  # a prefix, not any fragment


def test_year_filter(registry_docs):
    """years selects by the document date's year."""
    assert _ids(registry_docs, years=("2024",)) == [1, 3, 5, 6]
    assert _ids(registry_docs, years=("2022", "2023")) == [2, 4]
    assert _ids(registry_docs, "年份:2023年") == [2]


def test_values_of_one_filter_are_ored_and_filters_anded(registry_docs):
    """Two regions: either; a region and a type: both; request and query filters combine the same way."""
    assert _ids(registry_docs, regions=("浙江", "北京")) == [2, 3, 5]
    assert _ids(registry_docs, regions=("浙江", "北京"), customer_types=("潜在",)) == [2]
    assert _ids(registry_docs, "地区:浙江 OR 地区:北京 type:contract") == [3]
    assert _ids(registry_docs, "地区:上海", years=("2024",), doc_types=("meeting",)) == [5]
    assert _ids(registry_docs, "客户类型:现有 客户类型:流失", industries=("金融",)) == [4]


def test_excluded_filters(registry_docs):
    """-地区:浙江 drops documents of customers in 浙江; documents without customers stay."""
    assert _ids(registry_docs, "-地区:浙江") == [1, 2, 4, 6]
    assert _ids(registry_docs, "-customer:明远科技 -year:2022") == [2, 3, 6]


# -- facets ------------------------------------------------------------------------------------


def test_facets_count_customer_type_industry_and_region(registry_docs):
    """Every match counts once per distinct value; documents with two customers count for both."""
    r = registry_docs.search(SearchRequest("报价", limit=1), ADMIN)
    assert r.total == 6 and len(r.hits) == 1
    assert dict(r.facets["customer_type"]) == {"现有客户": 3, "流失客户": 2, "潜在客户": 1}
    assert dict(r.facets["industry"]) == {"信息技术服务业": 2, "制造业": 1, "批发和零售业": 2, "金融业": 1}
    assert dict(r.facets["region"]) == {"上海市": 2, "北京市": 1, "浙江省": 2, "江苏省": 1}
    assert dict(r.facets["customer"]) == {MINGYUAN: 2, MINGYUAN_BJ: 1, YUNFAN: 2, ACME: 1}
    assert dict(r.facets["year"]) == {"2024": 4, "2023": 1, "2022": 1}
    assert r.facets["customer_type"][0] == ("现有客户", 3)  # most frequent first


def test_facets_follow_the_filters(registry_docs):
    """Facets count what the filters leave: a region filter narrows the type facet."""
    r = registry_docs.search(SearchRequest("", regions=("浙江",)), ADMIN)
    assert dict(r.facets["region"]) == {"浙江省": 2, "上海市": 1}
    assert dict(r.facets["customer_type"]) == {"流失客户": 2, "现有客户": 1}


def test_facet_counts_never_include_unreadable_documents(registry_docs):
    """A viewer's facets count only public documents; finance's never the confidential one."""
    r = registry_docs.search(SearchRequest(""), VIEWER)
    assert r.total == 4  # 1, 2, 5, 6
    assert dict(r.facets["customer_type"]) == {"现有客户": 2, "潜在客户": 1, "流失客户": 1}
    assert dict(r.facets["region"]) == {"上海市": 2, "北京市": 1, "浙江省": 1}
    assert dict(r.facets["industry"]) == {"信息技术服务业": 2, "制造业": 1, "批发和零售业": 1}
    assert "金融业" not in dict(r.facets["industry"])  # the internal Acme invoice
    r = registry_docs.search(SearchRequest("", regions=("浙江",)), FINANCE)
    assert r.total == 1 and dict(r.facets["region"]) == {"浙江省": 1, "上海市": 1}


def test_sales_owner_sees_facets_of_own_confidential_documents(registry_docs):
    """Sales owning 云帆 count its confidential contract; other sales do not."""
    owner = Principal(username="s", role="sales", owned_customer_ids=frozenset({3}))
    other = Principal(username="t", role="sales", owned_customer_ids=frozenset({1}))
    assert dict(registry_docs.search(SearchRequest(""), owner).facets["customer_type"])["流失客户"] == 2
    assert dict(registry_docs.search(SearchRequest(""), other).facets["customer_type"])["流失客户"] == 1


# -- storage -----------------------------------------------------------------------------------


def _entity_rows(engine: sa.Engine) -> list[tuple[str, str, int]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.exec_driver_sql(
                "SELECT kind, value, doc_id FROM search_doc_entity ORDER BY 3, 1, 2"
            )
        ]  # type: ignore[misc]


def test_entity_rows_are_replaced_deleted_and_cleared(engine, sqlite_backend):
    """Embedded: re-indexing replaces a document's entities; delete and clear remove them."""
    backend = sqlite_backend
    backend.index(
        [
            IndexDocument(
                id=1, title="t", text="x", entities=(("phone", "13812345678"), ("phone", "13812345678"))
            ),
            IndexDocument(id=2, title="t", text="y", entities=(("email", "A@B.CN"), ("contract_no", "ht-1"))),
        ]
    )
    assert _entity_rows(engine) == [
        ("phone", "13812345678", 1),
        ("contract_no", "HT-1", 2),
        ("email", "a@b.cn", 2),
    ]
    backend.index([IndexDocument(id=1, title="t", text="x", entities=(("amount", "10500"),))])
    assert [r for r in _entity_rows(engine) if r[2] == 1] == [("amount", "10500.00", 1)]
    assert _ids(backend, "phone:13812345678") == []
    assert _ids(backend, "金额:10500") == [1]
    backend.delete([1])
    assert [r[2] for r in _entity_rows(engine)] == [2, 2]
    assert _ids(backend, "金额:10500") == []
    backend.clear()
    assert _entity_rows(engine) == []
    assert _ids(backend, "email:a@b.cn") == []


def test_a_second_process_sees_new_customer_fields(engine):
    """Filter columns of another backend on the same database follow writes (through search_log)."""
    web, cli = open_backend(engine), open_backend(engine)
    assert _ids(web, regions=("浙江",)) == []
    cli.index([_doc(1, YUNFAN), _doc(2, MINGYUAN)])
    assert _ids(web, regions=("浙江",)) == [1]
    cli.index([_doc(1, ACME)])
    assert _ids(web, regions=("浙江",)) == []
    assert dict(web.search(SearchRequest(""), ADMIN).facets["region"]) == {"江苏省": 1, "上海市": 1}


def _downgrade_to_first_schema(engine: sa.Engine) -> None:
    """Make the database look like one written before customer fields and entities were indexed."""
    with engine.begin() as conn:
        for column in ("customer_keys", "customer_types", "industries", "regions"):
            conn.exec_driver_sql(f"ALTER TABLE search_doc DROP COLUMN {column}")
        conn.exec_driver_sql("DROP TABLE search_doc_entity")
        conn.exec_driver_sql("DELETE FROM search_meta WHERE key = 'schema'")


def test_an_index_from_the_previous_version_is_upgraded_and_flagged_for_reindex(engine, caplog):
    """GIVEN an index written by the previous version (no customer fields, no entity table)
    WHEN a backend opens it
    THEN it still answers (customer names filter as before), asks for a reindex until it is
    cleared, and a reindex brings entities, customer types and regions.
    """
    old = open_backend(engine)
    old.index(
        [
            IndexDocument(
                id=1, title="合同", text="销售合同 电话 13812345678", customers=(ACME,), customer_ids=(4,)
            )
        ]
    )
    _downgrade_to_first_schema(engine)

    with caplog.at_level(logging.WARNING, logger="index._sqlite"):
        backend = open_backend(engine)
    assert isinstance(backend, SqliteBackend)
    assert backend.needs_reindex()
    assert any("reindex" in r.getMessage() for r in caplog.records)
    assert _ids(backend, "销售合同") == [1]
    assert _ids(backend, 'customer:"acme trading co., ltd."') == [1]  # old rows filter by their names
    assert _ids(backend, "phone:13812345678") == []  # entities come only from the records
    assert open_backend(engine).needs_reindex()  # another process opening it agrees

    backend.clear()  # what `dossier reindex` does first
    assert not backend.needs_reindex()
    backend.index([_doc(1, ACME, text="销售合同 电话 13812345678", entities=(("phone", "13812345678"),))])
    assert _ids(backend, "phone:13812345678") == [1]
    assert _ids(backend, "地区:江苏") == [1]
    assert not open_backend(engine).needs_reindex()


def test_a_fresh_or_current_index_needs_no_reindex(engine, caplog):
    """A new database, and one written by this version, open without a reindex request or warning."""
    with caplog.at_level(logging.WARNING, logger="index._sqlite"):
        backend = open_backend(engine)
        assert not backend.needs_reindex()
        backend.index([_doc(1, MINGYUAN)])
        assert not open_backend(engine).needs_reindex()
    assert not caplog.records


def test_an_empty_index_from_the_previous_version_needs_no_reindex(engine):
    """Upgrading an index that holds no documents only adds the tables."""
    open_backend(engine)
    _downgrade_to_first_schema(engine)
    backend = open_backend(engine)
    assert not backend.needs_reindex()
    backend.index([_doc(1, MINGYUAN, entities=(("phone", "13812345678"),))])
    assert _ids(backend, "电话:13812345678", regions=("上海",)) == [1]
