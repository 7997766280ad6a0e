"""The search page: hits with highlighted snippets, facets and filters, sort, pages, messages."""

from __future__ import annotations

import re
from html import unescape

import pytest

from index import Principal, SearchRequest

HIT_LINK = re.compile(r'<h2 class="hit-title"><a href="/documents/(\d+)')


def _hit_ids(html: str) -> list[int]:
    return [int(m) for m in HIT_LINK.findall(html)]


def test_start_page_has_search_box_and_syntax_help(admin):
    """Without a query the home page shows the box, the syntax help and no results."""
    html = admin.get("/").get_data(as_text=True)
    assert 'name="q"' in html
    assert "检索语法" in html and "空格 = 并且" in html and "客户:" in html and "-词" in html
    assert 'class="hit"' not in html


def test_search_renders_hits_with_marked_snippets(admin):
    """Searching 合同 shows the count line, titles linking to documents, and <mark>ed snippets."""
    r = admin.get("/?q=合同")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    m = re.search(r"共 (\d+) 条结果（耗时 [\d.]+ 毫秒）", html)
    assert m and int(m.group(1)) >= 3
    ids = _hit_ids(html)
    assert ids
    assert f'href="/documents/{ids[0]}?q=%E5%90%88%E5%90%8C"' in html
    snippets = re.findall(r'<p class="snippet">(.*?)</p>', html, re.S)
    assert snippets and all("<mark>" in s for s in snippets)
    assert "<mark>合同</mark>" in html
    assert 'class="doc-type"' in html and "合同" in html


def test_hit_shows_file_name_customer_type_and_date(admin, corpus_home):
    """A hit lists the original file name, its customer, its type label and its date."""
    html = admin.get("/?q=HT-2024-0315").get_data(as_text=True)
    assert "产品购销合同_Pacific Rim_HT-2024-0315.pdf" in html
    hit = corpus_home["dossier"].search(SearchRequest(query="HT-2024-0315"), Principal.system())["hits"][0]
    if hit["customer"]:
        assert hit["customer"] in unescape(html)
    if hit["date"]:
        assert f'<time datetime="{hit["date"]}"' in html


def test_type_facet_lists_counts_and_filters(admin):
    """The type facet shows counts; ticking 合同 (type=contract) keeps only contracts."""
    html = admin.get("/?q=合同").get_data(as_text=True)
    assert 'name="type" value="contract"' in html
    facet = re.search(
        r'value="contract"[^>]*>\s*<span class="facet-value">合同</span>\s*<span class="count">(\d+)', html
    )
    assert facet, "contract facet with a count"
    n_contracts = int(facet.group(1))
    filtered = admin.get("/?q=合同&type=contract").get_data(as_text=True)
    total = int(re.search(r"共 (\d+) 条结果", filtered).group(1))
    assert total == n_contracts
    assert 'value="contract" checked' in filtered
    types = re.findall(r'<span class="doc-type" title="类型">([^<]+)</span>', filtered)
    assert types and set(types) == {"合同"}
    assert "当前筛选" not in filtered or "去掉此筛选" in filtered


def test_customer_filter(admin, corpus_home):
    """Filtering by a customer from the facet keeps only that customer's documents."""
    data = admin.get("/api/search?q=合同").get_json()
    customers = [f["value"] for f in data["facets"].get("customer", [])]
    assert customers, data["facets"]
    name = customers[0]
    html = admin.get("/", query_string={"q": "合同", "customer": name}).get_data(as_text=True)
    ids = _hit_ids(html)
    assert ids
    for doc_id in ids:
        assert name in corpus_home["dossier"].show(doc_id, Principal.system())["customers"]


def test_date_range_filter(admin):
    """from/to limit hits to documents dated inside the range."""
    everything = admin.get("/api/search?q=合同&limit=100").get_json()
    dated = [h for h in everything["hits"] if h["date"]]
    if not dated:
        pytest.skip("no ingested document has a date yet (ingest sets no doc_date)")
    year = dated[0]["date"][:4]
    html = admin.get(f"/?q=合同&from={year}-01-01&to={year}-12-31").get_data(as_text=True)
    dates = re.findall(r'<time datetime="([\d-]+)"', html)
    assert dates and all(d.startswith(year) for d in dates)
    assert f'value="{year}-01-01"' in html


def test_pagination(admin):
    """With 2 hits per page, page 2 shows the next hits and links back."""
    first = admin.get("/?q=合同&limit=2").get_data(as_text=True)
    total = int(re.search(r"共 (\d+) 条结果", first).group(1))
    assert total > 2
    assert 'rel="next"' in first and 'rel="prev"' not in first
    assert "第 1 / " in first
    second = admin.get("/?q=合同&limit=2&page=2").get_data(as_text=True)
    ids1, ids2 = _hit_ids(first), _hit_ids(second)
    assert len(ids1) == 2 and ids2 and not set(ids1) & set(ids2)
    assert 'rel="prev"' in second
    assert '<ol class="hits" start="3">' in second
    next_link = unescape(re.search(r'<a rel="next" href="([^"]+)"', first).group(1))
    assert "page=2" in next_link and "limit=2" in next_link


def test_page_past_the_end_offers_the_first_page(admin):
    """A page number past the last page says so and links back to page 1."""
    html = admin.get("/?q=合同&page=999").get_data(as_text=True)
    assert "这一页没有结果了" in html and 'class="hit"' not in html
    assert 'href="/?q=%E5%90%88%E5%90%8C&amp;page=1"' in html


def test_filters_without_a_query_browse_documents(admin):
    """Ticking a type with an empty box lists every document of that type."""
    html = admin.get("/?type=quote").get_data(as_text=True)
    assert re.search(r"共 \d+ 条结果", html)
    types = re.findall(r'<span class="doc-type" title="类型">([^<]+)</span>', html)
    assert types and set(types) == {"报价单"}


def test_sort_by_date(admin):
    """sort=date_asc and date_desc order dated hits by their dates."""
    if not any(h["date"] for h in admin.get("/api/search?q=合同&limit=100").get_json()["hits"]):
        pytest.skip("no ingested document has a date yet (ingest sets no doc_date)")
    asc = re.findall(r'<time datetime="([\d-]+)"', admin.get("/?q=合同&sort=date_asc").get_data(as_text=True))
    desc = re.findall(
        r'<time datetime="([\d-]+)"', admin.get("/?q=合同&sort=date_desc").get_data(as_text=True)
    )
    assert asc == sorted(asc) and len(asc) >= 2
    assert desc == sorted(desc, reverse=True)
    html = admin.get("/?q=合同&sort=date_desc").get_data(as_text=True)
    assert '<option value="date_desc" selected>' in html


def test_empty_result_message(admin):
    """A query nothing matches says so, kindly, and repeats the query (escaped)."""
    r = admin.get("/?q=完全不存在的词语xyzzy")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "没有找到与“完全不存在的词语xyzzy”匹配的文件" in html


def test_query_syntax_error_message(admin):
    """A query that cannot be parsed gives a friendly message (400) and opens the syntax help."""
    r = admin.get("/", query_string={"q": '客户:""'})
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "查询语法有误" in html and "后缺少值" in html
    assert '<details class="syntax-help" open>' in html


def test_bad_date_is_a_friendly_400(admin):
    """A malformed date gives a 400 page, not a crash."""
    r = admin.get("/?q=合同&from=2024-13-45")
    assert r.status_code == 400
    assert "YYYY-MM-DD" in r.get_data(as_text=True)


def test_reversed_dates_say_they_are_reversed(admin):
    """from after to: the page (400) and the API say the dates are reversed, never "syntax error" or no hits."""
    r = admin.get("/?q=合同&from=2024-05-01&to=2024-03-01")
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "开始日期晚于结束日期" in html
    english = admin.get("/?q=合同&from=2024-05-01&to=2024-03-01&lang=en").get_data(as_text=True)
    assert "start date is after the end date" in english and "开始日期晚于结束日期" not in english
    assert "查询语法有误" not in html and "没有找到" not in html
    api = admin.get("/api/search?q=合同&from=2024-05-01&to=2024-03-01&lang=zh")
    assert api.status_code == 400 and "开始日期晚于结束日期" in api.get_json()["error"]
    assert admin.get("/?from=2024-03-01&to=2024-05-01").status_code == 200  # the right way round


@pytest.mark.parametrize("query", ["！！！", "?!.,;", "……", "-", "（）"])
def test_punctuation_only_query_says_so(admin, query):
    """A query of punctuation only is answered with that reason (400), not with every document."""
    r = admin.get("/", query_string={"q": query})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "只有标点" in html
    english = admin.get("/", query_string={"q": query, "lang": "en"}).get_data(as_text=True)
    assert "punctuation" in english and "只有标点" not in english
    assert 'class="hit"' not in html and "查询语法有误" not in html
    api = admin.get("/api/search", query_string={"q": query, "lang": "en"})  # the API speaks one language
    assert api.status_code == 400 and "punctuation" in api.get_json()["error"]


def test_overlong_query_is_too_long_with_the_limit_everywhere(admin):
    """A 2,000-character query: "too long" with the limit on the page, the API and the export plan."""
    from index import MAX_QUERY_CHARS

    query = "报价" * 1000
    r = admin.get("/", query_string={"q": query})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "查询过长" in html and str(MAX_QUERY_CHARS) in html
    english = admin.get("/", query_string={"q": query, "lang": "en"}).get_data(as_text=True)
    assert "too long" in english and str(MAX_QUERY_CHARS) in english and "查询过长" not in english
    assert "查询语法有误" not in html
    for url in ("/api/search", "/api/export/plan"):
        api = admin.get(url, query_string={"q": query, "lang": "en"})
        assert api.status_code == 400 and f"at most {MAX_QUERY_CHARS}" in api.get_json()["error"], url


@pytest.mark.parametrize("query", ["138 1234 5678", "+86 138 1234 5678", "1381234 5678", "138-1234-5678"])
def test_a_phone_number_typed_with_spaces_finds_its_document(folder_login, folder_home, query):
    """A phone number typed with spaces finds the contract that writes it 138-1234-5678, as 电话: does."""
    client = folder_login("manager1")
    found = client.get("/api/search", query_string={"q": query}).get_json()
    by_field = client.get("/api/search", query_string={"q": f'电话:"{query}"'}).get_json()
    contract = folder_home["docs"]["d1"]
    assert contract in [h["id"] for h in found["hits"]]
    assert {h["id"] for h in found["hits"]} == {h["id"] for h in by_field["hits"]}
    assert all("<mark>" in h["snippet"] for h in found["hits"])


def test_search_terms_are_escaped_everywhere(admin):
    """A query full of HTML is shown as text: in the box, the messages and the links."""
    payload = "\"><script>alert('XSSCANARY')</script>"
    html = admin.get("/", query_string={"q": payload}).get_data(as_text=True)
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html


def test_xss_documents_are_shown_as_text(admin):
    """Hostile file names and contents (script tags, onerror) appear escaped in hits."""
    for q in ("珊瑚计划", "蓝鲸计划"):
        html = admin.get("/", query_string={"q": q}).get_data(as_text=True)
        assert _hit_ids(html), q
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert not re.search(r"<[a-z]+[^>]*\son[a-z]+=", html), "no element carries an event handler"
    html = admin.get("/", query_string={"q": "珊瑚计划"}).get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(" in html  # the file name, escaped


def test_lang_en_translates_search_page(admin):
    """In English the count line and type labels are English."""
    html = admin.get("/?q=合同&lang=en").get_data(as_text=True)
    assert re.search(r"\d+ results \([\d.]+ ms\)", html)
    assert ">Contract<" in html


# -- the customer facets and filters (the folder data home of conftest.py) -------------------------

FACET_BOX = re.compile(
    r'<label title="[^"]*"><input type="checkbox" name="([^"]+)" value="([^"]*)"( checked)?>\s*'
    r'<span class="facet-value">[^<]*</span>\s*<span class="count">(\d+)</span>'
)


def _facet(html: str, name: str) -> list[tuple[str, int, str, bool]]:
    """(value, count, parameter, checked) of each checkbox of one facet (every facet is a checkbox list)."""
    m = re.search(rf'<fieldset class="facet facet-{name}">.*?</fieldset>', html, re.S)
    if m is None:
        return []
    return [(unescape(v), int(n), param, bool(sel)) for param, v, sel, n in FACET_BOX.findall(m.group(0))]


def _total(html: str) -> int:
    return int(re.search(r"共 (\d+) 条结果", html).group(1))


def test_customer_facets_are_checkboxes_with_counts(folder_login):
    """Customer type, industry, region and year facets list their values with counts, most frequent first
    (years newest first), each a checkbox of the search form that adds its filter."""
    html = folder_login("admin").get("/?q=服务器").get_data(as_text=True)
    assert _total(html) == 10
    expected = {
        "customer_type": [("现有客户", 5), ("流失客户", 2), ("潜在客户", 2)],
        "industry": [("制造业", 5), ("贸易", 2), ("金融", 2)],
        "region": [("浙江省", 6), ("上海市", 2), ("江苏省", 2)],
        "year": [("2024", 6), ("2023", 2), ("2022", 1)],
    }
    for name, values in expected.items():
        facet = _facet(html, name)
        assert [(v, n) for v, n, _param, _sel in facet] == values, name
        assert all(param == name and not selected for _v, _n, param, selected in facet)
    for label in ("客户类型", "行业", "地区", "年份"):
        assert f"<legend>{label}</legend>" in html


def test_a_ticked_facet_filters_and_its_chip_removes_it(folder_login, folder_home):
    """Ticking 潜在客户 (the form sends customer_type=潜在客户) keeps that type's documents; the box stays ticked,
    a chip shows the filter, and the chip's link removes it."""
    client = folder_login("admin")
    html = client.get("/", query_string={"q": "服务器", "customer_type": "潜在客户"}).get_data(as_text=True)
    assert _total(html) == 2
    found = {int(i) for i in re.findall(r'<h2 class="hit-title"><a href="/documents/(\d+)', html)}
    assert found == {folder_home["docs"]["d6"], folder_home["docs"]["d7"]}
    ((_value, count, _param, selected),) = [f for f in _facet(html, "customer_type") if f[0] == "潜在客户"]
    assert selected and count == 2
    chip = re.search(r'<ul class="active-filters".*?</ul>', html, re.S).group(0)
    assert "客户类型: 潜在客户 ×" in chip
    remove = unescape(re.search(r'<a href="([^"]+)"[^>]*>客户类型: 潜在客户 ×', chip).group(1))
    assert "customer_type" not in remove
    back = client.get(remove).get_data(as_text=True)
    assert _total(back) == 10 and "当前筛选" not in back


def test_customer_filters_combine(folder_login, folder_home):
    """Region, year, industry and customer id filters all apply together; values of one filter are alternatives."""
    client = folder_login("admin")
    d = folder_home["docs"]

    def hits(**params: object) -> set[int]:
        html = client.get("/", query_string={"q": "服务器", **params}).get_data(as_text=True)
        return {int(i) for i in re.findall(r'<h2 class="hit-title"><a href="/documents/(\d+)', html)}

    assert hits(region="浙江省", year="2024") == {d["d1"], d["d5"], d["d9"]}
    assert hits(year=["2022", "2023"]) == {d["d8"], d["d2"], d["d3"]}
    assert hits(industry="金融") == {d["d6"], d["d7"]}
    assert hits(customer_id=folder_home["customers"]["hengda"]) == {d["d1"], d["d8"]}
    assert hits(customer_id=folder_home["customers"]["hengda"], year="2022") == {d["d8"]}


def test_customer_id_filter_shows_the_customers_name(folder_login, folder_home):
    """The customer-id chip names the customer; removing it drops only that filter."""
    cid = folder_home["customers"]["mingyuan"]
    html = folder_login("admin").get(f"/?q=服务器&customer_id={cid}&year=2024").get_data(as_text=True)
    assert _total(html) == 2
    chip = re.search(r'<a class="chip-customer" href="([^"]+)"[^>]*>([^<]+)</a>', html)
    assert chip and chip.group(2) == "客户: 杭州明远科技有限公司 ×"
    assert "customer_id" not in unescape(chip.group(1)) and "year=2024" in unescape(chip.group(1))
    assert f'<input type="hidden" name="customer_id" value="{cid}">' in html


def test_facet_counts_follow_permissions(folder_login):
    """A viewer's facets count only the public documents they may read."""
    html = folder_login("viewer1").get("/?q=服务器").get_data(as_text=True)
    assert _total(html) == 2
    assert [(v, n) for v, n, _p, _s in _facet(html, "customer_type")] == [("现有客户", 2)]
    assert [(v, n) for v, n, _p, _s in _facet(html, "year")] == [("2023", 1)]


@pytest.mark.parametrize("query", ["customer_id=abc", "customer_id=1%3B2", "year=24", "year=2024-01"])
def test_bad_customer_filters_are_a_friendly_400(folder_login, query):
    """A customer id that is not a number or a year that is not four digits gives a 400 page."""
    r = folder_login("admin").get(f"/?q=服务器&{query}")
    assert r.status_code == 400
    assert "编号无效" in r.get_data(as_text=True) or "年份应为四位数字" in r.get_data(as_text=True)


def test_customer_facets_in_english(folder_login):
    """The new facet headings are translated."""
    html = folder_login("admin").get("/?q=服务器&lang=en").get_data(as_text=True)
    for label in ("Customer type", "Industry", "Region", "Year"):
        assert f"<legend>{label}</legend>" in html
