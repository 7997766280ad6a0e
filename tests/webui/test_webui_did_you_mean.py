"""Did you mean on the search page and in /api/search: the "did you mean" home's registry, and the dev corpus."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest

from tests import _typos_home
from tests.conftest import backend_home, login_client

LINE = re.compile(r'<p class="did-you-mean">(.*?)</p>', re.S)
LINK = re.compile(r'<a href="([^"]+)"[^>]*>([^<]+)</a>')


def _offered(html: str) -> list[tuple[str, dict[str, list[str]]]]:
    """(link text, the link's query parameters) of each suggestion on a search page."""
    line = LINE.search(html)
    if line is None:
        return []
    return [
        (unescape(text), parse_qs(urlparse(unescape(href)).query))
        for href, text in LINK.findall(line.group(1))
    ]


@pytest.fixture(scope="module")
def typos(tmp_path_factory: pytest.TempPathFactory):
    """A signed-in admin client of the "did you mean" home (registry customers with short names)."""
    from webui import create_app

    with backend_home("sqlite", "typos-web", tmp_path_factory, _typos_home.build) as built:
        app = create_app(built["settings"], {"TESTING": True})
        yield login_client(app, "admin", _typos_home.PASSWORD)


def test_a_mistyped_customer_offers_its_name_as_a_link_in_chinese(typos):
    """光华物留 finds nothing; the page says so and offers 您是不是要找：光华物流, a link to that search."""
    html = typos.get("/?q=光华物留").get_data(as_text=True)
    assert 'class="no-results"' in html  # the query's own result is unchanged: nothing
    assert "您是不是要找：" in html
    offered = _offered(html)
    assert offered and offered[0][0] == "光华物流"
    assert offered[0][1]["q"] == ["光华物流"]
    followed = typos.get("/?q=光华物流").get_data(as_text=True)
    assert 'class="no-results"' not in followed and "<mark>" in followed


def test_in_english_and_with_filters_kept(typos):
    """?lang=en reads "Did you mean:"; the link keeps the page's filters (here the sort)."""
    html = typos.get("/?q=Pacfic+Rim&sort=date_desc&lang=en").get_data(as_text=True)
    assert "Did you mean:" in html and "您是不是要找" not in html
    offered = _offered(html)
    assert offered and offered[0][0] == "Pacific Rim"
    assert offered[0][1]["q"] == ["Pacific Rim"] and offered[0][1]["sort"] == ["date_desc"]


def test_a_query_with_results_offers_nothing(admin):
    """A query that finds plenty has no did-you-mean line."""
    assert "did-you-mean" not in admin.get("/?q=合同").get_data(as_text=True)


def test_the_api_answers_suggestions_beside_the_hits(typos):
    """/api/search keeps its shape and adds "suggestions": [{"query", "total", "corrections"}]."""
    body = typos.get("/api/search", query_string={"q": "光华物留"}).get_json()
    assert {"total", "took_ms", "hits", "facets", "suggestions"} <= set(body)
    assert body["total"] == 0 and body["hits"] == []
    first = body["suggestions"][0]
    assert first["query"] == "光华物流" and first["total"] >= 1
    assert first["corrections"][0]["kind"] == "customer" and first["corrections"][0]["typed"] == "光华物留"
    assert typos.get("/api/search", query_string={"q": "冷链运输"}).get_json()["suggestions"] == []


def test_the_dev_corpus_offers_pacific_for_pacfic(admin):
    """On the ingested dev corpus (no registry yet: its customers are only suggested ones) the index
    vocabulary still corrects Pacfic Rim, in the case it was typed."""
    offered = _offered(admin.get("/?q=Pacfic+Rim").get_data(as_text=True))
    assert offered and offered[0][0] == "Pacific Rim"
