"""The start page (工作台) over HTTP: panels, charts as SVG with table views, links that search what they count.

Every link of a chart element is followed: the search it opens must find exactly the number the
element shows (documents), or list the customers it counts.  The month chart is checked with the
figures for the data's own year (the page itself shows the 12 months up to today).
"""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

from dossier.app.services import Dossier
from foundation.config import load_settings
from tests import _dashboard
from tests.webui.conftest import _login
from webui import create_app

NO_REDIS = {"DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"}


@pytest.fixture(scope="module")
def dash(tmp_path_factory):
    """The dashboard data home and its web app."""
    root = tmp_path_factory.mktemp("dash-web")
    settings = load_settings(environ={"DOSSIER_HOME": str(root), **NO_REDIS}, dotenv=Path("/nonexistent"))
    first = Dossier.open(settings, require_init=False)
    first.init(admin_password=_dashboard.PASSWORD)
    first.close()
    dossier = Dossier.open(settings)
    ids = _dashboard.fill(dossier)
    app = create_app(settings, test_config={"TESTING": True})
    yield {"app": app, "dossier": dossier, "ids": ids}
    dossier.close()


@pytest.fixture(scope="module")
def empty_app(tmp_path_factory):
    """A data home with nothing in it but its admin."""
    root = tmp_path_factory.mktemp("dash-empty")
    settings = load_settings(environ={"DOSSIER_HOME": str(root), **NO_REDIS}, dotenv=Path("/nonexistent"))
    Dossier.open(settings, require_init=False).init(admin_password=_dashboard.PASSWORD)
    return create_app(settings, test_config={"TESTING": True})


def _client(app, user: str = "admin"):
    client = app.test_client()
    response = _login(client, user, _dashboard.PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


def _chart_links(html: str, chart_id: str) -> list[tuple[str, str]]:
    """(href, aria-label) of the links inside one chart's <svg>."""
    svg = re.search(rf'<svg class="chart"[^>]*aria-labelledby="{chart_id}-title.*?</svg>', html, re.S)
    assert svg, chart_id
    return [
        (unescape(h), unescape(label))
        for h, label in re.findall(r'<a href="([^"]+)" aria-label="([^"]+)">', svg.group(0))
    ]


def _search_total(client, href: str) -> int:
    html = client.get(href + "&lang=zh").get_data(as_text=True)
    found = re.search(r'<p class="total">共 (\d+) 条结果', html)
    if found is None:
        assert 'class="no-results"' in html, html[:2000]
        return 0
    return int(found.group(1))


@pytest.mark.parametrize("user", ["admin", "sales1", "viewer1"])
def test_amount_bars_link_to_searches_that_find_what_they_count(dash, user):
    client = _client(dash["app"], user)
    html = client.get("/?lang=zh").get_data(as_text=True)
    for dim in ("customer_type", "stage", "region"):
        links = _chart_links(html, f"chart-amounts-{dim}")
        assert links, dim
        for href, label in links:
            counted = int(re.search(r"（(\d+) 份）", label).group(1))
            assert _search_total(client, href) == counted, (href, label)


def test_month_segments_link_to_searches_that_find_what_they_count(dash):
    """The month chart's links, for the data's months (the page's own months are today's)."""
    from webui.dashboard import _month_chart

    for user in ("admin", "sales2", "viewer1"):
        client = _client(dash["app"], user)
        principal = dash["dossier"].accounts.principal_for(user)
        figures = dash["dossier"].dashboard.charts(principal, today=_dashboard.TODAY)
        with dash["app"].test_request_context("/?lang=zh"):
            chart = _month_chart(figures)
        links = re.findall(r'<a href="([^"]+)" aria-label="([^"]+)">', str(chart["svg"]))
        assert links
        for href, label in links:
            counted = int(re.search(r"：(\d+) 份", unescape(label)).group(1))
            assert _search_total(client, unescape(href)) == counted, (user, href)


def test_customer_bars_link_to_the_filtered_customer_list(dash):
    client = _client(dash["app"], "viewer1")
    html = client.get("/?lang=zh").get_data(as_text=True)
    links = dict(_chart_links(html, "chart-customers-customer_type"))
    assert set(links.values()) == {"现有客户：2 位客户", "潜在客户：1 位客户", "流失客户：1 位客户"}
    href = next(h for h, label in links.items() if label.startswith("现有客户"))
    listed = client.get(href).get_data(as_text=True)
    a, b = dash["ids"]["customers"]["a"], dash["ids"]["customers"]["b"]
    assert f'href="/customers/{a}"' in listed and f'href="/customers/{b}"' not in listed
    stages = dict(_chart_links(html, "chart-customers-stage"))
    assert set(stages.values()) == {"已签约：2 位客户", "初步接触：1 位客户"}
    assert "另有 1 位客户未填写此项。" in html  # 恒达 has no stage


def test_owner_bars_link_to_the_owners_customers(dash):
    client = _client(dash["app"], "admin")
    html = client.get("/?lang=zh").get_data(as_text=True)
    links = _chart_links(html, "chart-amounts-owner")
    hrefs = {h for h, _label in links}
    assert "/customers?owner=sales1&sort=contract_amount" in hrefs
    listed = client.get("/customers?owner=sales1&sort=contract_amount").get_data(as_text=True)
    a, b = dash["ids"]["customers"]["a"], dash["ids"]["customers"]["b"]
    assert f'href="/customers/{a}"' in listed and f'href="/customers/{b}"' not in listed


def test_start_page_parts_and_permissions(dash):
    admin = _client(dash["app"], "admin").get("/?lang=zh").get_data(as_text=True)
    assert '<h1 id="dash-heading" class="dash-heading">工作台</h1>' in admin
    assert "最近的文档" in admin and "入库队列" in admin and "我的提醒" in admin
    # six charts; the month chart is empty (the data is of 2024, the page shows the 12 months up to today)
    assert admin.count('<svg class="chart"') == 6 and admin.count('class="chart-table"') == 6
    assert admin.count("暂无数据。") == 1
    assert "框架合同_明远_保密" in admin  # recent: the confidential contract
    # amounts in 万, the table view with full amounts
    assert "¥42万" in admin and "¥420,000.00" in admin
    assert 'style="' not in admin.split('<section class="dashboard"')[1]  # strict CSP: no inline styles
    viewer = _client(dash["app"], "viewer1").get("/?lang=zh").get_data(as_text=True)
    for hidden in ("框架合同_明远_保密", "报价单_澄明_保密", "发票_明远", "¥42万", "¥56万"):
        assert hidden not in viewer, hidden
    assert "合同_扫描件" in viewer  # public
    backlog = viewer.split('class="panel dash-backlog"')[1].split("</section>")[0]
    assert re.findall(r'<span class="figure">(\d+)</span>', backlog) == ["0", "1", "0", "1"]


def test_start_page_in_english(dash):
    html = _client(dash["app"], "admin").get("/?lang=en").get_data(as_text=True)
    page = html.split('<section class="dashboard"')[1]
    for text in (
        "Start page",
        "Recent documents",
        "Intake backlog",
        "Contract and quote amounts by customer type",
        "Table view",
    ):
        assert text in page, text
    assert "Current customers" in page and "Prospects" in page
    assert "¥420,000" in page and "万" not in page
    visible = re.sub(r"<[^>]+>", " ", page)
    data = [t[0] for t in _dashboard.DOCS.values()] + [
        "已签约",
        "初步接触",
        "浙江省",
        "上海市",
        "江苏省",
        "老李",
    ]
    data += [c["name"] for c in _dashboard.CUSTOMERS.values()]
    for value in sorted(data, key=len, reverse=True):  # user data stays as written
        visible = visible.replace(value, "")
    assert not re.search(r"[\u4e00-\u9fff]", visible), re.findall(r".{0,30}[\u4e00-\u9fff]+.{0,30}", visible)[
        :5
    ]


def test_empty_home_shows_empty_states(empty_app):
    html = _client(empty_app).get("/?lang=zh").get_data(as_text=True)
    assert "还没有您可以查看的文档" in html and "没有等待处理的文件" in html
    assert html.count("暂无数据。") == 7 and '<svg class="chart"' not in html
