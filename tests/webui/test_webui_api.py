"""The JSON API: the same dicts as the core, errors as {"error": ...}."""

from __future__ import annotations


def test_search_json_shape(admin):
    """/api/search answers total, took_ms, hits with the documented keys, and facets."""
    r = admin.get("/api/search?q=合同")
    assert r.status_code == 200 and r.is_json
    data = r.get_json()
    assert set(data) >= {"total", "took_ms", "hits", "facets"}
    assert data["total"] >= 3 and isinstance(data["took_ms"], float | int)
    hit = data["hits"][0]
    assert set(hit) >= {
        "id",
        "title",
        "filename",
        "customer",
        "doc_type",
        "date",
        "score",
        "snippet",
        "title_html",
        "status",
    }
    assert "<mark>" in hit["snippet"]
    assert {"doc_type", "customer", "tag", "year"} <= set(data["facets"])
    assert all(set(f) == {"value", "count"} for f in data["facets"]["doc_type"])


def test_search_filters_page_and_limit(admin):
    """type/customer/tag filters, limit and page are applied."""
    only_contracts = admin.get("/api/search?q=合同&type=contract").get_json()
    assert only_contracts["hits"] and {h["doc_type"] for h in only_contracts["hits"]} == {"contract"}
    tagged = admin.get("/api/search?q=合同&tag=重点").get_json()
    assert tagged["total"] >= 1 and {h["customer"] for h in tagged["hits"]} == {"Pacific Rim"}
    by_customer = admin.get("/api/search?q=合同&customer=Pacific Rim").get_json()
    assert {h["customer"] for h in by_customer["hits"]} == {"Pacific Rim"}
    p1 = admin.get("/api/search?q=合同&limit=2&page=1").get_json()
    p2 = admin.get("/api/search?q=合同&limit=2&page=2").get_json()
    assert len(p1["hits"]) == 2 and p2["hits"]
    assert not {h["id"] for h in p1["hits"]} & {h["id"] for h in p2["hits"]}
    assert p1["total"] == p2["total"]


def test_limit_is_capped(admin):
    """A huge limit is capped instead of loading everything."""
    data = admin.get("/api/search?q=合同&limit=100000").get_json()
    assert len(data["hits"]) <= 100


def test_search_errors_are_json_400(admin):
    """A bad query or a bad date answers 400 {"error": ...}."""
    r = admin.get("/api/search", query_string={"q": '类型:""'})
    assert r.status_code == 400 and "缺少值" in r.get_json()["error"]
    r = admin.get("/api/search?q=合同&from=yesterday")
    assert r.status_code == 400 and "YYYY-MM-DD" in r.get_json()["error"]


def test_document_json_shape(admin, corpus_home):
    """/api/documents/<id> answers the show dict."""
    doc_id = corpus_home["id_of"]("SCAN_20240115_0002.pdf")
    data = admin.get(f"/api/documents/{doc_id}").get_json()
    assert data["id"] == doc_id
    assert set(data) >= {
        "id",
        "filename",
        "doc_type",
        "customers",
        "entities",
        "pages",
        "text",
        "versions",
        "status",
    }
    assert data["status"] == "awaiting_ocr"
    assert all(p["needs_ocr"] for p in data["pages"])


def test_unknown_document_is_json_404(admin):
    """An unknown id answers 404 {"error": ...}."""
    r = admin.get("/api/documents/999999")
    assert r.status_code == 404
    assert "999999" in r.get_json()["error"]


def test_status_json(admin):
    """/api/status answers document counts by status."""
    data = admin.get("/api/status").get_json()
    assert data["documents"] >= 10 and data["by_status"]["indexed"] >= 10
    assert data["pages_awaiting_ocr"] >= 2
