"""File formats, scans, field-query snippets and display titles: contract tests over every backend.

The ``format`` and ``scan`` filters come from the request and from the query syntax (``format:pdf``,
``格式:图片``, ``is:scan``, ``-is:scan``); their facets count only what the principal may read; a field
query's snippet is the passage where its value stands; a generic title comes with the parts that
identify the entry.  The last tests upgrade an index written before these fields (schema 5).
"""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from index import (
    FILE_FORMATS,
    IndexDocument,
    Principal,
    QuerySyntaxError,
    SearchRequest,
    SqliteBackend,
    activity_entry_id,
    display_title,
    file_format,
    format_name,
    is_generic_title,
    open_backend,
)

ADMIN = Principal.system()
VIEWER = Principal(username="v", role="viewer")
REP = Principal(username="rep", role="sales", owned_customer_ids=frozenset({3}))

BODY = (
    "甲方：杭州明远科技有限公司。" * 12
    + "联系电话：138-1234-5678，合同总金额为人民币¥120,000.00元。"
    + "违约金条款。" * 12
)


def _doc(doc_id: int, level: str, fmt: str, scan: bool, **fields) -> IndexDocument:  # type: ignore[no-untyped-def]
    fields.setdefault("title", f"年度计划{doc_id}")
    return IndexDocument(
        id=doc_id,
        text=fields.pop("text", "年度报价 服务器"),
        confidentiality=level,
        customers=("杭州明远科技有限公司",),
        customer_ids=(3,),
        access_customer_ids=(3,),
        file_format=fmt,
        scan=scan,
        **fields,
    )


@pytest.fixture
def files(backend):
    """Six entries of mixed formats and levels, two of them scans, and an activity (no format)."""
    backend.index(
        [
            _doc(1, "public", "pdf", True),
            _doc(2, "public", "pdf", False),
            _doc(3, "internal", "word", False),
            _doc(4, "confidential", "image", True),
            _doc(5, "finance", "excel", False),
            _doc(6, "public", "email", False),
            IndexDocument(
                id=activity_entry_id(1), title="电话", text="年度报价 回访", doc_type="activity", activity=1
            ),
        ]
    )
    return backend


def _ids(backend, query: str = "", principal: Principal = ADMIN, **req) -> list[int]:  # type: ignore[no-untyped-def]
    req.setdefault("limit", 100)
    return sorted(h.id for h in backend.search(SearchRequest(query, **req), principal).hits)


def test_format_and_scan_filters_from_the_request(files):
    assert _ids(files, formats=("pdf",)) == [1, 2]
    assert _ids(files, formats=("pdf", "excel")) == [1, 2, 5]  # one filter's values are alternatives
    assert _ids(files, scans_only=True) == [1, 4]
    assert _ids(files, formats=("pdf",), scans_only=True) == [1]  # different filters AND
    assert _ids(files, formats=("powerpoint",)) == []
    assert _ids(files, "年度报价", activities="only", formats=("pdf",)) == []  # activities have no format


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("format:pdf", [1, 2]),
        ("format:PDF", [1, 2]),
        ("格式:图片", [4]),
        ("文件格式:docx", [3]),
        ("format:pdf format:word", [1, 2, 3]),  # filters of one field are alternatives
        ("format:xlsx 年度报价", [5]),
        ("is:scan", [1, 4]),
        ("is:扫描件 format:pdf", [1]),
        ("format:pdf -is:scan", [2]),
        ("年度报价 -format:pdf", [3, 4, 5, 6]),
    ],
)
def test_format_and_scan_in_the_query(files, query, expected):
    assert _ids(files, query, activities="exclude") == expected


def test_an_unknown_format_is_a_syntax_error(files):
    with pytest.raises(QuerySyntaxError) as caught:
        files.search(SearchRequest("format:xyz"), ADMIN)
    assert "xyz" in str(caught.value.message)


def test_format_and_scan_facets_count_only_what_the_principal_reads(files):
    def facets(principal: Principal) -> tuple[dict[str, int], dict[str, int]]:
        found = files.search(SearchRequest("年度报价", limit=1), principal).facets
        return dict(found.get("format", [])), dict(found.get("scan", []))

    assert facets(ADMIN) == ({"pdf": 2, "word": 1, "image": 1, "excel": 1, "email": 1}, {"scan": 2})
    assert facets(VIEWER) == ({"pdf": 2, "email": 1}, {"scan": 1})
    assert facets(REP) == ({"pdf": 2, "word": 1, "image": 1, "email": 1}, {"scan": 2})  # owns customer 3
    assert facets(Principal(username="other", role="sales")) == (
        {"pdf": 2, "word": 1, "email": 1},
        {"scan": 1},
    )
    assert _ids(files, "is:scan", VIEWER) == [1]  # a filter never reaches past the permissions


@pytest.fixture
def contract(backend):
    backend.index(
        [
            IndexDocument(
                id=11,
                title="采购合同",
                text=BODY,
                doc_type="contract",
                customers=("杭州明远科技有限公司", "上海澄明集团"),
                date="2024-03-15",
                entities=(("phone", "13812345678"), ("amount", "120000.00"), ("contract_no", "HT-2024-0315")),
            ),
            IndexDocument(
                id=12,
                title="明远科技 2024 年度框架协议",
                text=BODY,
                doc_type="contract",
                entities=(("phone", "13812345678"),),
            ),
        ]
    )
    return backend


@pytest.mark.parametrize(
    ("query", "marked"),
    [
        ("phone:13812345678", "<mark>138-1234-5678</mark>"),
        ("电话:138 1234 5678", "<mark>138-1234-5678</mark>"),
        ("amount:120000", "<mark>¥120,000.00元</mark>"),
        ("金额:12万", "<mark>¥120,000.00元</mark>"),
    ],
)
def test_a_field_query_snippet_is_the_passage_of_its_value(contract, query, marked):
    hits = contract.search(SearchRequest(query), ADMIN).hits
    assert 11 in {h.id for h in hits}
    snippet = next(h.snippet for h in hits if h.id == 11)
    assert marked in snippet
    assert not snippet.startswith("甲方")  # not the opening


def test_a_field_query_with_words_marks_both(contract):
    hit = contract.search(SearchRequest("违约金 phone:13812345678"), ADMIN).hits[0]
    assert "<mark>违约金</mark>" in hit.snippet and "<mark>138-1234-5678</mark>" in hit.snippet


def test_plain_search_snippets_are_unchanged(contract):
    hit = next(h for h in contract.search(SearchRequest("违约金"), ADMIN).hits if h.id == 11)
    assert "<mark>违约金</mark>" in hit.snippet and "138-1234-5678</mark>" not in hit.snippet


def test_a_generic_title_comes_with_the_parts_that_identify_it(contract):
    hits = {h.id: h for h in contract.search(SearchRequest("phone:13812345678"), ADMIN).hits}
    parts = dict(hits[11].title_parts)
    assert parts == {
        "type": "contract",
        "customer": "杭州明远科技有限公司",
        "number": "HT-2024-0315",
        "date": "2024-03-15",
    }
    assert (
        display_title("采购合同", hits[11].title_parts)
        == "合同 · 杭州明远科技有限公司 · HT-2024-0315 · 2024-03-15"
    )
    assert display_title("采购合同", hits[11].title_parts, "en").startswith("Contract · 杭州明远")
    assert hits[12].title_parts == ()  # its title identifies it
    assert display_title("明远科技 2024 年度框架协议", ()) == "明远科技 2024 年度框架协议"


def test_activities_keep_their_titles(backend):
    backend.index(
        [
            IndexDocument(
                id=activity_entry_id(7),
                title="合同",
                text="回访 合同",
                doc_type="activity",
                activity=7,
                customers=("明远",),
                date="2024-01-02",
            )
        ]
    )
    hit = backend.search(SearchRequest("回访"), ADMIN).hits[0]
    assert hit.activity == 7 and hit.title_parts == ()


# -- the vocabulary ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mime", "name", "expected"),
    [
        ("application/pdf", "a.pdf", "pdf"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "a.docx", "word"),
        ("application/msword", "a.doc", "word"),
        ("application/vnd.ms-excel", "a.xls", "excel"),
        ("text/csv", "a.csv", "excel"),
        ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "", "powerpoint"),
        ("image/png", "scan.png", "image"),
        ("image/tiff", "", "image"),
        ("message/rfc822", "a.eml", "email"),
        ("application/vnd.ms-outlook", "a.msg", "email"),
        ("application/zip", "a.zip", "archive"),
        ("text/plain", "a.txt", "text"),
        ("text/markdown", "a.md", "text"),
        ("application/octet-stream", "报价.XLSX", "excel"),
        ("application/octet-stream", "blob", "other"),
        ("", "", "other"),
    ],
)
def test_file_format_of_mime_and_name(mime, name, expected):
    assert file_format(mime, name) == expected
    assert expected in FILE_FORMATS


def test_format_names_people_type():
    assert [format_name(v) for v in ("PDF", "docx", "图片", "ppt", "邮件", "压缩包", "xyz")] == [
        "pdf",
        "word",
        "image",
        "powerpoint",
        "email",
        "archive",
        None,
    ]


@pytest.mark.parametrize(
    "title",
    [
        "采购合同",
        "产品购销合同",
        "报价单",
        "合同",
        "发票",
        "增值税专用发票",
        "Invoice",
        "Quote",
        "Sales Contract",
        "采购合同 (2)",
        "采购合同-副本.pdf",
        "scan_0012.pdf",
        "IMG_20240315.jpg",
        "新建 Microsoft Word 文档.docx",
        "20240315",
        "",
    ],
)
def test_generic_titles(title):
    assert is_generic_title(title)


@pytest.mark.parametrize(
    "title",
    [
        "明远科技年度框架协议",
        "上海明远 报价单",
        "关于 Microsoft 365 续订的报价",
        "2024 Q3 销售会议纪要",
        "合同2",
    ],
)
def test_identifying_titles(title):
    assert not is_generic_title(title)


# -- an index written before these fields ---------------------------------------------------------


def _downgrade_to_schema_5(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for column in ("file_format", "scan"):
            conn.exec_driver_sql(f"ALTER TABLE search_doc DROP COLUMN {column}")
        conn.exec_driver_sql("UPDATE search_meta SET value = '5' WHERE key = 'schema'")


def test_an_index_of_schema_5_gets_the_columns_and_asks_for_a_reindex(engine, caplog):
    old = open_backend(engine)
    old.index([_doc(1, "public", "pdf", True)])
    _downgrade_to_schema_5(engine)
    with caplog.at_level(logging.WARNING, logger="index._sqlite"):
        backend = open_backend(engine)
    assert isinstance(backend, SqliteBackend)
    assert backend.needs_reindex()
    assert _ids(backend, "年度报价") == [1]  # still answers
    assert _ids(backend, "format:pdf") == []  # the fields come from the records: `dossier reindex`
    backend.clear()
    backend.index([_doc(1, "public", "pdf", True)])
    assert _ids(backend, "format:pdf is:scan") == [1]
    assert not open_backend(engine).needs_reindex()


@pytest.mark.opensearch
def test_an_opensearch_index_of_schema_5_takes_the_new_fields_and_asks_for_a_reindex(engine):
    """The live index of an older mapping gets the new keyword fields (its strict mapping would refuse the writes)."""
    import uuid

    import requests

    from index._opensearch import mappings
    from tests import _opensearch

    url = _opensearch.cluster_url()
    alias = f"dossier-test-{uuid.uuid4().hex[:12]}"
    new_fields = ("file_format", "scan", "numbers")
    old = mappings()
    old["_meta"] = {**old["_meta"], "schema": "5"}
    old["properties"] = {k: v for k, v in old["properties"].items() if k not in new_fields}
    try:
        made = requests.put(f"{url}/{alias}-v5-0", json={"mappings": old}, timeout=30)
        assert made.ok, made.text
        assert requests.put(f"{url}/{alias}-v5-0/_alias/{alias}", timeout=30).ok
        backend = _opensearch.make_backend(engine, url, index_name=alias)
        assert backend.needs_reindex()
        backend.index([_doc(1, "public", "pdf", True)])
        backend.flush(force=True)
        assert _ids(backend, "format:pdf is:scan") == [1]
        live = requests.get(f"{url}/{alias}/_mapping", timeout=30).json()[f"{alias}-v5-0"]["mappings"]
        assert all(live["properties"][name]["type"] == "keyword" for name in new_fields)
    finally:
        _opensearch.drop(url, alias)


@pytest.mark.parametrize(
    ("kind", "value", "text", "marked"),
    [
        ("phone", "13812345678", "电话 138 1234 5678。", "138 1234 5678"),
        ("phone", "021-61498137", "Tel: +86 21 6149 8137", "86 21 6149 8137"),
        ("phone", "021-61498137", "座机：021-61498137 转 8", "021-61498137"),
        ("contract_no", "HT-2024-0315", "合同编号：ht 2024-0315。", "ht 2024-0315"),
        ("email", "sales@mingyuan.com", "邮箱 Sales@MingYuan.com；", "Sales@MingYuan.com"),
        ("amount", "120000.00", "总价 12万元整，", "12万元整"),
        ("amount", "120000.00", "总价：RMB 120,000 元", "RMB 120,000 元"),
        ("date", "2024-03-15", "签订于2024年3月15日。", "2024年3月15日"),
        ("date", "2024-03", "签订于 2024-03-15。", "2024-03-15"),
    ],
)
def test_field_spans_find_the_value_however_it_is_written(kind, value, text, marked):
    from index._snippet import field_spans

    spans = field_spans(text, [(kind, value)])
    assert [text[s:e] for s, e, _ in spans] == [marked]


@pytest.mark.parametrize(
    ("kind", "value", "text"),
    [
        ("phone", "13812345678", "订单 913812345678 号"),  # part of a longer number
        ("amount", "120000.00", "共 1200000 元"),
        ("contract_no", "HT-2024-0315", "HT-2024-03150"),
    ],
)
def test_field_spans_do_not_mark_part_of_another_value(kind, value, text):
    from index._snippet import field_spans

    assert field_spans(text, [(kind, value)]) == []
