"""The customer page's document list is paged (newest first) and its counts follow the reading rule.

The data home is ``folder_home`` (tests/webui/conftest.py): 明远 has five documents, newest first
d5 (2024-06-01, finance), d1 (2024-03-15, internal), d2 (2023-11-02, public), d3 (2023-05-20,
confidential, 明远 is sales1's), d4 (undated, public).  Pages hold two documents here
(``folder.DOCS_PER_PAGE`` patched), so five documents make three pages.
"""

from __future__ import annotations

import re
from html import unescape

import pytest

from dossier.app import folder

#: What each user may read of 明远's documents, newest first.
READABLE = {
    "admin": ["d5", "d1", "d2", "d3", "d4"],
    "sales1": ["d1", "d2", "d3", "d4"],
    "sales2": ["d1", "d2", "d4"],
    "viewer1": ["d2", "d4"],
}
#: Per user: the type filter's counts and the year filter's counts (what the user may read, nothing more).
COUNTS = {
    "admin": ({"contract": 2, "quote": 1, "invoice": 1, "meeting": 1}, {"2024": 2, "2023": 2, "日期不详": 1}),
    "sales1": ({"contract": 2, "quote": 1, "meeting": 1}, {"2024": 1, "2023": 2, "日期不详": 1}),
    "sales2": ({"contract": 1, "quote": 1, "meeting": 1}, {"2024": 1, "2023": 1, "日期不详": 1}),
    "viewer1": ({"quote": 1, "meeting": 1}, {"2023": 1, "日期不详": 1}),
}
PER_PAGE = 2


@pytest.fixture(autouse=True)
def _small_pages(monkeypatch):
    monkeypatch.setattr(folder, "DOCS_PER_PAGE", PER_PAGE)


def _listed(html: str) -> list[int]:
    """The document ids of the by-type panel (the by-year panel lists the same page)."""
    start = html.index('id="by-type"')
    end = html.index('id="by-year"')
    return [int(i) for i in re.findall(r'<li class="folder-doc" data-doc-id="(\d+)">', html[start:end])]


def _by_year(html: str) -> list[int]:
    start = html.index('id="by-year"')  # the last panel: folder-doc items after it are its own
    return [int(i) for i in re.findall(r'<li class="folder-doc" data-doc-id="(\d+)">', html[start:])]


def _filter_counts(html: str, kind: str) -> dict[str, int]:
    start = html.index(f'class="doc-filter-{kind}"')
    block = html[start : html.index("</ul>", start)]
    found = re.findall(
        rf"[?&]{'type' if kind == 'types' else 'year'}=([^\"#&]+)[^>]*>[^<]*<span class=\"count\">(\d+)",
        block,
    )
    return {unescape(_unquote(v)): int(n) for v, n in found}


def _unquote(value: str) -> str:
    from urllib.parse import unquote

    return unquote(value)


def _page(client, customer_id: int, query: str = "") -> str:
    response = client.get(f"/customers/{customer_id}{query}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


@pytest.mark.parametrize("user", sorted(READABLE))
def test_pages_walk_every_readable_document_newest_first(folder_login, folder_home, user):
    """Following the next links lists each readable document once, newest first, two a page; nothing else."""
    client = folder_login(user)
    cid = folder_home["customers"]["mingyuan"]
    wanted = [folder_home["docs"][k] for k in READABLE[user]]
    pages = -(-len(wanted) // PER_PAGE)
    seen: list[int] = []
    query = ""
    for number in range(1, pages + 1):
        html = _page(client, cid, query)
        ids = _by_year(html)  # by year, newest first: the page's own order
        assert len(ids) == min(PER_PAGE, len(wanted) - len(seen))
        assert sorted(_listed(html)) == sorted(ids)
        seen += ids
        if pages > 1:
            assert unescape(f"第 {number} / {pages} 页") in html
        nxt = re.search(r'<a class="next" rel="next" href="([^"]+)"', html)
        if number < pages:
            assert nxt is not None
            query = "?" + unescape(nxt.group(1)).split("?", 1)[1]
        else:
            assert nxt is None
    assert seen == wanted
    hidden = set(folder_home["docs"].values()) - set(wanted)
    assert not hidden & set(seen)


@pytest.mark.parametrize("user", sorted(READABLE))
def test_counts_on_the_paged_page_count_only_readable_documents(folder_login, folder_home, user):
    """The total, the "search all" link, the type and year filters' counts and each group's count are over
    every document the user may read — not only the page shown, and never a document they may not read."""
    cid = folder_home["customers"]["mingyuan"]
    html = _page(folder_login(user), cid)
    total = len(READABLE[user])
    assert f"共 {total} 份文件" in html
    link = re.search(r'<p class="search-all"><a href="([^"]+)">([^<]+)</a>', html)
    assert link is not None
    assert unescape(link.group(1)) == f"/?customer_id={cid}"
    assert f" {total} " in link.group(2)
    types, years = COUNTS[user]
    assert _filter_counts(html, "types") == types
    assert _filter_counts(html, "years") == years
    start, end = html.index('id="by-type"'), html.index('id="by-year"')
    groups = re.findall(r'data-doc-type="(\w+)">\s*<h4>[^<]+<span class="count">(\d+)', html[start:end])
    assert groups and all(types[t] == int(n) for t, n in groups)


def test_type_and_year_filters_narrow_the_list_and_keep_in_the_page_links(
    folder_login, folder_home, monkeypatch
):
    """?type= and ?year= list only those documents (still paged); the totals stay those of the customer."""
    client = folder_login("admin")
    cid = folder_home["customers"]["mingyuan"]
    d = folder_home["docs"]
    html = _page(client, cid, "?type=contract")
    assert _listed(html) == [d["d1"], d["d3"]]
    assert "已筛选：2 份文件" in html and "共 5 份文件" in html
    html = _page(client, cid, "?year=2023")
    assert _by_year(html) == [d["d2"], d["d3"]]
    html = _page(client, cid, "?year=日期不详")
    assert _listed(html) == [d["d4"]]
    # an unknown filter value is ignored: the whole list, paged
    html = _page(client, cid, "?type=nonsense&year=20x4")
    assert _by_year(html) == [d["d5"], d["d1"]] and "已筛选" not in html
    # a page past the end shows the last page
    assert _listed(_page(client, cid, "?page=99")) == [d["d4"]]
    # the filter travels with the page links
    many = _page(client, cid, "?year=2024")
    assert _by_year(many) == [d["d5"], d["d1"]] and 'class="next"' not in many
    html = _page(client, cid, "?type=contract&page=1")
    assert _by_year(html) == [d["d1"], d["d3"]] and 'class="next"' not in html
    monkeypatch.setattr(folder, "DOCS_PER_PAGE", 1)
    html = _page(client, cid, "?type=contract")
    assert _by_year(html) == [d["d1"]]
    nxt = unescape(re.search(r'<a class="next" rel="next" href="([^"]+)"', html).group(1))
    assert "type=contract" in nxt and "page=2" in nxt
    assert _by_year(_page(client, cid, "?" + nxt.split("?", 1)[1])) == [d["d3"]]


def test_the_english_page_reads_in_english(folder_login, folder_home):
    html = _page(folder_login("admin"), folder_home["customers"]["mingyuan"], "?lang=en&page=2")
    assert "Search all 5 documents of this customer" in html
    assert "Page 2 of 3" in html and "Previous" in html and "Next" in html
    assert "第 2 / 3 页" not in html


def test_the_function_pages_in_sql(folder_home):
    """``customer_page`` returns one page with the counts of all; a linked (not primary) document counts."""
    from index import Principal

    with folder_home["dossier"].sessions() as session:
        page = folder.customer_page(
            session, folder_home["customers"]["hengda"], Principal("v", "viewer"), page=1, per_page=1
        )
        assert page["document_count"] == 0 and page["documents"] == [] and page["pages"] == 1
        page = folder.customer_page(
            session, folder_home["customers"]["hengda"], Principal("m", "manager"), page=2, per_page=1
        )
        assert page["document_count"] == 2 and page["pages"] == 2 and page["page"] == 2
        assert [x["id"] for x in page["documents"]] == [folder_home["docs"]["d8"]]
        assert page["documents"][0]["primary"] is True
        first = folder.customer_page(
            session, folder_home["customers"]["hengda"], Principal("m", "manager"), page=1, per_page=1
        )
        assert [x["id"] for x in first["documents"]] == [folder_home["docs"]["d1"]]
        assert first["documents"][0]["primary"] is False
        assert first["key_dates"]["first"]["document_id"] == folder_home["docs"]["d8"]
