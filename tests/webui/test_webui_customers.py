"""The customer folder: the list and its filters, permissions, suggested customers, one customer's page.

The data home (tests/webui/conftest.py, ``folder_home``) holds a registry written through the
records models: 明远 (现有客户, owned by sales1) with five documents of every level, 澄明
(潜在客户, owned by sales2), 恒达 (流失客户), two suggested, one rejected and our own company.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask import render_template

from dossier.app import folder
from index import Principal
from tests.webui.conftest import FOLDER_PASSWORD, _build_folder_home, _login
from webui import create_app

ROW = re.compile(r'<tr class="customer" data-customer-id="(\d+)">(.*?)</tr>', re.S)


def _rows(html: str) -> dict[int, str]:
    """The main table's rows: customer id -> row HTML."""
    main = html.split('id="suggested"')[0]
    return {int(i): row for i, row in ROW.findall(main)}


def _count(row: str) -> int:
    return int(re.search(r'<td class="num doc-count">(\d+)</td>', row).group(1))


def _doc_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li class="folder-doc" data-doc-id="(\d+)">', html)]


def _section(html: str, css_id: str) -> str:
    """The HTML of the tab panel with this id, up to the next panel or the end of the documents."""
    start = html.index(f'id="{css_id}"')
    end = min(i for i in (html.find('class="tab-panel', start + 1), html.find("</article>", start)) if i > 0)
    return html[start:end]


def test_list_shows_confirmed_customers_with_document_counts(folder_login, folder_home):
    """GIVEN the admin WHEN opening /customers THEN every confirmed customer is listed with its fields and
    the number of its documents; suggested, rejected and our own company are not in the main list."""
    client = folder_login("admin")
    html = client.get("/customers").get_data(as_text=True)
    ids = folder_home["customers"]
    rows = _rows(html)
    assert set(rows) == {ids["mingyuan"], ids["chengming"], ids["hengda"], ids["xss"]}
    assert _count(rows[ids["mingyuan"]]) == 5
    assert _count(rows[ids["chengming"]]) == 2
    assert _count(rows[ids["hengda"]]) == 2  # its own contract and the 明远 contract that names it
    mingyuan = rows[ids["mingyuan"]]
    for text in (
        "杭州明远科技有限公司",
        "明远科技、明远",
        "现有客户",
        "已签约",
        "制造业",
        "浙江省 杭州市",
        "张伟",
        ">A<",
    ):
        assert text in mingyuan, text
    assert f'href="/customers/{ids["mingyuan"]}"' in mingyuan
    assert "共 4 个客户" in html
    assert 'class="nav-customers" href="/customers"' in html  # the header links here


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"type": "潜在客户"}, {"chengming", "xss"}),
        ({"industry": "贸易"}, {"hengda"}),
        ({"region": "浙江省"}, {"mingyuan"}),
        ({"owner": "王芳"}, {"chengming"}),
        ({"owner": "sales1"}, {"mingyuan"}),  # the owner's user name works too
        ({"q": "明远科技"}, {"mingyuan"}),  # an alias
        ({"q": "91330106ma2b"}, {"mingyuan"}),  # part of the credit code, any case
        ({"q": "苏州"}, {"hengda"}),  # the city
        ({"type": "潜在客户", "region": "上海市"}, {"chengming"}),  # filters combine
        ({"type": "现有客户", "industry": "金融"}, set()),
    ],
)
def test_list_filters(folder_login, folder_home, query, expected):
    """Each filter of the list form narrows the customers; filters combine; the form keeps the choice."""
    client = folder_login("admin")
    html = client.get("/customers", query_string=query).get_data(as_text=True)
    ids = folder_home["customers"]
    assert set(_rows(html)) == {ids[k] for k in expected}
    if not expected:
        assert "没有符合筛选条件的客户" in html
    for param, value in query.items():
        if param == "q":
            assert f'name="q" type="search" value="{value}"' in html
        else:
            assert re.search(
                rf'<select id="filter-{param}" name="{param}">.*?<option value="{value}" selected>',
                html,
                re.S,
            )
    assert 'href="/customers">清除筛选' in html


def test_filter_form_offers_the_registry_values(folder_login):
    """The selects list the distinct types, industries, regions and owners of confirmed customers."""
    html = unescape(folder_login("manager1").get("/customers").get_data(as_text=True))
    for value in (
        "现有客户",
        "潜在客户",
        "流失客户",
        "制造业",
        "金融",
        "贸易",
        "浙江省",
        "上海市",
        "江苏省",
        "张伟",
        "王芳",
    ):
        assert f'<option value="{value}">{value}</option>' in html, value
    assert "宁波市" not in html.split('id="suggested"')[0]  # a suggested customer's city is no filter value


@pytest.mark.parametrize(
    ("user", "counts"),
    [
        (
            "sales1",
            {"mingyuan": 4, "chengming": 1, "hengda": 2},
        ),  # 明远's confidential contract, not 澄明's quote
        ("sales2", {"mingyuan": 3, "chengming": 2, "hengda": 2}),
        ("viewer1", {"mingyuan": 2, "chengming": 0, "hengda": 0}),  # public documents only
        ("manager1", {"mingyuan": 5, "chengming": 2, "hengda": 2}),
    ],
)
def test_counts_only_count_readable_documents(folder_login, folder_home, user, counts):
    """A sales user counts confidential documents only of the customers they own; a viewer only public ones."""
    rows = _rows(folder_login(user).get("/customers").get_data(as_text=True))
    ids = folder_home["customers"]
    assert {k: _count(rows[ids[k]]) for k in counts} == counts


@pytest.mark.parametrize(
    ("user", "docs"),
    [
        ("admin", {"d1", "d2", "d3", "d4", "d5"}),
        ("sales1", {"d1", "d2", "d3", "d4"}),
        ("sales2", {"d1", "d2", "d4"}),
        ("viewer1", {"d2", "d4"}),
    ],
)
def test_folder_lists_only_documents_the_user_may_read(folder_login, folder_home, user, docs):
    """The folder of 明远 lists exactly the documents the user may read, and each of them opens."""
    client = folder_login(user)
    html = client.get(f"/customers/{folder_home['customers']['mingyuan']}").get_data(as_text=True)
    wanted = {folder_home["docs"][k] for k in docs}
    by_type, by_year = _section(html, "by-type"), _section(html, "by-year")
    assert set(_doc_ids(by_type)) == wanted == set(_doc_ids(by_year))
    assert len(_doc_ids(by_type)) == len(wanted)
    assert f"共 {len(wanted)} 份文件" in html
    for doc_id in wanted:
        assert f'href="/documents/{doc_id}"' in html
        assert client.get(f"/documents/{doc_id}").status_code == 200, doc_id
    hidden = set(folder_home["docs"].values()) - wanted
    assert not {i for i in hidden if f'href="/documents/{i}"' in html}


def test_folder_groups_documents_by_type_and_by_year(folder_login, folder_home):
    """By type follows the document-type order (合同, 报价单, 发票, 会议纪要), by year runs newest first with
    the undated last; inside a group the newest document comes first."""
    html = (
        folder_login("admin").get(f"/customers/{folder_home['customers']['mingyuan']}").get_data(as_text=True)
    )
    d = folder_home["docs"]
    by_type = _section(html, "by-type")
    types = re.findall(r'data-doc-type="(\w+)">\s*<h4>([^<]+)<span class="count">(\d+)', by_type)
    assert [(t, label.strip(), int(n)) for t, label, n in types] == [
        ("contract", "合同", 2),
        ("quote", "报价单", 1),
        ("invoice", "发票", 1),
        ("meeting", "会议纪要", 1),
    ]
    assert _doc_ids(by_type) == [d["d1"], d["d3"], d["d2"], d["d5"], d["d4"]]
    by_year = _section(html, "by-year")
    years = re.findall(r'data-year="([^"]+)">\s*<h4>([^<]+)<span', by_year)
    assert [(y, label.strip()) for y, label in years] == [
        ("2024", "2024"),
        ("2023", "2023"),
        ("日期不详", "日期不详"),
    ]
    assert _doc_ids(by_year) == [d["d5"], d["d1"], d["d2"], d["d3"], d["d4"]]
    # tabs switch between the two views (static JS; both views are there without it)
    assert 'src="/static/customers.js"' in html and 'role="tab"' in html and "<script>" not in html


def test_folder_page_shows_details_contacts_key_amounts_and_dates(folder_login, folder_home):
    """The header, the contacts table, each contract/quote/invoice total (its 总价/合计 amount) largest first
    with its document, totals per type, and the first, latest and contract dates."""
    d = folder_home["docs"]
    html = (
        folder_login("admin").get(f"/customers/{folder_home['customers']['mingyuan']}").get_data(as_text=True)
    )
    for text in (
        "<h1>杭州明远科技有限公司",
        "明远科技、明远",
        "91330106MA2B3C4D5E",
        "C-0001",
        "现有客户",
        "已签约",
        "制造业",
        "浙江省 杭州市",
        "文三路 90 号",
        "张伟",
    ):
        assert text in html, text
    contact = re.search(r'<tr class="contact">(.*?)</tr>', html, re.S).group(1)
    assert [unescape(c.strip()) for c in re.findall(r"<td>(.*?)</td>", contact, re.S)][:4] == [
        "李明",
        "采购经理",
        "13812345678",
        "0571-88886666",
    ]
    assert 'href="mailto:liming@mingyuan.cn"' in contact
    amounts = re.findall(
        r'<td class="amount">([^<]+)(?:<div class="muted amount-role">([^<]+)</div>)?</td>\s*'
        r'<td><a href="/documents/(\d+)"',
        html,
    )
    assert amounts == [
        ("¥300,000.00", "合同金额", str(d["d3"])),
        ("¥120,000.00", "价税合计", str(d["d5"])),  # the 合计, not the larger-looking net amount
        ("¥120,000.00", "合同总价", str(d["d1"])),
        ("¥88,000.00", "报价总额", str(d["d2"])),
    ]
    totals = dict(re.findall(r"<dt>([^<]+)</dt><dd class=\"amount\">([^<]+)</dd>", html))
    assert totals == {
        "合同金额合计": "¥420,000.00",
        "报价金额合计": "¥88,000.00",
        "发票金额合计": "¥120,000.00",
    }
    dates = _section_text(html, "key-dates")
    assert re.search(r"最早文件</th><td><time datetime=\"2023-05-20\">", dates)
    assert re.search(r"最近文件</th><td><time datetime=\"2024-06-01\">", dates)
    assert re.findall(r'<li><time datetime="([\d-]+)">', dates) == ["2024-03-15", "2023-05-20"]


def _section_text(html: str, css_class: str) -> str:
    start = html.index(f'class="meta {css_class}"')
    return html[start : html.index("</table>", start)]


def test_key_amounts_only_from_readable_documents(folder_login, folder_home):
    """A viewer's folder shows the public quote's amount and none of the confidential or finance ones."""
    html = (
        folder_login("viewer1")
        .get(f"/customers/{folder_home['customers']['mingyuan']}")
        .get_data(as_text=True)
    )
    assert "¥88,000.00" in html
    assert "300,000" not in html and "120,000" not in html and "合同金额合计" not in html


def test_scoped_search_box_submits_to_the_search_page_with_the_customer(folder_login, folder_home):
    """The folder's search box sends q with the customer's id to the search page, which keeps only its documents."""
    client = folder_login("admin")
    cid = folder_home["customers"]["mingyuan"]
    html = client.get(f"/customers/{cid}").get_data(as_text=True)
    form = re.search(r'<form class="scoped-search" method="get" action="([^"]+)".*?</form>', html, re.S)
    assert form and form.group(1) == "/"
    assert 'name="q"' in form.group(
        0
    ) and f'<input type="hidden" name="customer_id" value="{cid}">' in form.group(0)
    results = client.get("/", query_string={"q": "服务器", "customer_id": cid}).get_data(as_text=True)
    found = {int(i) for i in re.findall(r'<h2 class="hit-title"><a href="/documents/(\d+)', results)}
    assert found == {folder_home["docs"][k] for k in ("d1", "d2", "d3", "d4", "d5")}


def test_unknown_customer_is_404(folder_login):
    """An id that is not in the registry answers 404 with the friendly page."""
    r = folder_login("admin").get("/customers/999999")
    assert r.status_code == 404
    assert "不存在" in r.get_data(as_text=True)


@pytest.mark.parametrize(
    ("user", "status"), [("admin", 200), ("manager1", 200), ("sales1", 404), ("viewer1", 404)]
)
def test_rejected_customer_is_only_seen_by_reviewers(folder_login, folder_home, user, status):
    """A rejected suggestion's page exists for admins and managers only; for others it does not exist."""
    r = folder_login(user).get(f"/customers/{folder_home['customers']['old']}")
    assert r.status_code == status
    if status == 200:
        assert "已拒绝" in r.get_data(as_text=True)


def test_anonymous_visitors_go_to_the_login_page(folder_client, folder_home):
    """The list and the folder need a login."""
    for url in ("/customers", f"/customers/{folder_home['customers']['mingyuan']}"):
        r = folder_client.get(url)
        assert r.status_code == 302 and "/auth/login" in r.headers["Location"]


@pytest.mark.parametrize("user", ["admin", "manager1"])
def test_reviewers_see_suggested_customers_with_actions(folder_login, folder_home, user):
    """Admins and managers get the suggested customers, each with confirm, reject and merge-into forms
    that carry the CSRF token; the merge choice lists the confirmed customers."""
    html = folder_login(user).get("/customers").get_data(as_text=True)
    assert 'id="suggested"' in html and "待确认的客户（2）" in html
    suggested = html.split('id="suggested"')[1]
    ids = folder_home["customers"]
    for key in ("lanhai", "jinqiao"):
        cid = ids[key]
        assert f'action="/customers/{cid}/confirm"' in suggested
        assert f'action="/customers/{cid}/reject"' in suggested
        assert f'action="/customers/{cid}/merge"' in suggested
    assert suggested.count('name="csrf_token"') == 6
    assert f'<option value="{ids["mingyuan"]}">杭州明远科技有限公司</option>' in suggested
    assert "北京旧名称有限公司" not in html and "上海云启信息技术有限公司" not in html


@pytest.mark.parametrize("user", ["sales1", "viewer1"])
def test_other_roles_see_no_suggestions_and_may_not_review(folder_login, folder_home, user):
    """Sales and viewers see no suggested customers and no buttons; posting an action anyway is 403."""
    client = folder_login(user)
    html = client.get("/customers").get_data(as_text=True)
    assert 'id="suggested"' not in html and "/confirm" not in html and "宁波蓝海电子有限公司" not in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    cid = folder_home["customers"]["lanhai"]
    for action, extra in (
        ("confirm", {}),
        ("reject", {}),
        ("merge", {"into": folder_home["customers"]["mingyuan"]}),
    ):
        r = client.post(f"/customers/{cid}/{action}", data={"csrf_token": token, **extra})
        assert r.status_code == 403, action
        assert "只有管理员和经理可以审核" in r.get_data(as_text=True)


def test_review_actions_need_the_csrf_token(folder_login, folder_home):
    """An action posted without (or with a wrong) CSRF token is refused before anything happens."""
    client = folder_login("admin")
    cid = folder_home["customers"]["lanhai"]
    for data in ({}, {"csrf_token": "forged"}):
        r = client.post(f"/customers/{cid}/confirm", data=data)
        assert r.status_code == 400
        assert "表单已过期或来源无效" in r.get_data(as_text=True)
    assert (
        f'data-customer-id="{cid}"'
        in client.get("/customers").get_data(as_text=True).split('id="suggested"')[1]
    )


def test_merge_needs_a_target(folder_login, folder_home):
    """Merging without a customer to merge into, or into itself, is a 400 that says what is missing."""
    client = folder_login("admin")
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/customers").get_data(as_text=True)
    ).group(1)
    cid = folder_home["customers"]["lanhai"]
    r = client.post(f"/customers/{cid}/merge", data={"csrf_token": token, "into": ""})
    assert r.status_code == 400 and "请选择要合并到的客户" in r.get_data(as_text=True)
    r = client.post(f"/customers/{cid}/merge", data={"csrf_token": token, "into": str(cid)})
    assert r.status_code == 400 and "不能合并到自身" in r.get_data(as_text=True)


@pytest.fixture()
def fresh_folder(tmp_path: Path):
    """A folder data home of its own, for tests that change the registry."""
    home = _build_folder_home(tmp_path / "home")
    app = create_app(home["settings"], test_config={"TESTING": True})
    client = app.test_client()
    assert _login(client, "manager1", FOLDER_PASSWORD).status_code == 302
    yield home, client
    home["dossier"].engine.dispose()
    if app.extensions.get("dossier") is not None:
        app.extensions["dossier"].engine.dispose()


def test_confirm_reject_and_merge(fresh_folder):
    """GIVEN a manager WHEN confirming one suggestion, rejecting another and merging a third THEN the
    confirmed one joins the list, the rejected one is gone, and the merged one's documents are in the
    target's folder; each action says what it did."""
    home, client = fresh_folder
    ids, docs = home["customers"], home["docs"]
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/customers").get_data(as_text=True)
    ).group(1)

    r = client.post(f"/customers/{ids['jinqiao']}/confirm", data={"csrf_token": token}, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "已确认客户“温州金桥电气有限公司”" in html
    assert ids["jinqiao"] in _rows(html)

    r = client.post(f"/customers/{ids['lanhai']}/merge", data={"csrf_token": token, "into": ids["mingyuan"]})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/customers/{ids['mingyuan']}")
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "已将“宁波蓝海电子有限公司”合并到“杭州明远科技有限公司”" in html
    assert docs["d9"] in _doc_ids(html)

    # a new suggestion to reject: the merged one is no longer suggested
    listing = client.get("/customers").get_data(as_text=True)
    assert 'id="suggested"' not in listing
    with home["dossier"].sessions() as session:
        from records import Customer

        session.add(Customer(name="台州新星塑料有限公司", status="suggested"))
        session.commit()
        new_id = session.query(Customer.id).filter_by(name="台州新星塑料有限公司").scalar()
    r = client.post(f"/customers/{new_id}/reject", data={"csrf_token": token}, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "已拒绝“台州新星塑料有限公司”" in html and 'id="suggested"' not in html
    with home["dossier"].sessions() as session:
        rejected = folder.list_customers(session, Principal.system(), status="rejected")
        # the merged record is kept as rejected, so it is never suggested again
        assert {c["name"] for c in rejected} == {
            "北京旧名称有限公司",
            "宁波蓝海电子有限公司",
            "台州新星塑料有限公司",
        }


def test_registry_values_are_shown_as_text(folder_login, folder_home):
    """Names, aliases, regions and contacts full of HTML are escaped in the list and on the folder page."""
    client = folder_login("admin")
    for url in ("/customers", f"/customers/{folder_home['customers']['xss']}"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>行业</b>" not in html
        assert "&lt;img src=x onerror=alert(" in html
        assert not re.search(r"<[a-z]+[^>]*\son[a-z]+=", html)


def test_customer_pages_in_english(folder_login, folder_home):
    """?lang=en translates the list and the folder (registry values stay as they are)."""
    client = folder_login("admin")
    html = client.get("/customers?lang=en").get_data(as_text=True)
    assert "4 customer(s)" in html and ">Industry<" in html and "Suggested customers (2)" in html
    html = client.get(f"/customers/{folder_home['customers']['mingyuan']}").get_data(as_text=True)
    assert "By type" in html and "By year" in html and "Date unknown" in html and "Contracts in all" in html
    assert "Search this customer&#39;s documents" in html and "杭州明远科技有限公司" in html


def test_folder_functions_directly(folder_home):
    """dossier.app.folder: the filter options, names, and the list's ``status`` and ``text`` arguments."""
    ids = folder_home["customers"]
    with folder_home["dossier"].sessions() as session:
        options = folder.filter_options(session)
        assert options["owners"] == ["张伟", "王芳"]
        assert folder.customer_names(session, [ids["mingyuan"], 999999]) == {
            ids["mingyuan"]: "杭州明远科技有限公司"
        }
        names = {c["name"] for c in folder.list_customers(session, Principal.system(), status=None)}
        assert {"北京旧名称有限公司", "上海云启信息技术有限公司", "宁波蓝海电子有限公司"} <= names
        suggested = folder.list_customers(session, Principal.system(), status="suggested", text="蓝海")
        assert [(c["name"], c["documents"]) for c in suggested] == [("宁波蓝海电子有限公司", 1)]
        page = folder.customer_page(session, ids["hengda"], Principal("v", "viewer"))
        assert page["documents"] == [] and page["by_type"] == [] and page["key_amounts"] == []
        assert page["key_dates"] == {"contracts": [], "first": None, "latest": None}


def test_folder_page_renders_from_its_dict(folder_app, folder_home):
    """The template shows a customer without contacts, amounts or dates with its 'none yet' notes."""
    with folder_home["dossier"].sessions() as session:
        page = folder.customer_page(session, folder_home["customers"]["hengda"], Principal("v", "viewer"))
    with folder_app.test_request_context("/customers/1"):
        from flask import g

        g.principal = Principal("v", "viewer")
        html = render_template("customers/show.html", c=page, undated=folder.UNDATED, may_review=False)
    assert "没有登记联系人" in html and "合同、报价单和发票中还没有识别出金额" in html
    assert "还没有带日期的文件" in html and "没有您可以查看的此客户文件" in html


def test_api_lists_customers_and_serves_a_folder(folder_login, folder_home):
    """`/api/customers` filters like the page; `/api/customers/ID` is the folder as JSON; suggestions only for reviewers."""
    admin = folder_login("admin")
    listed = admin.get("/api/customers").get_json()
    assert listed["total"] == len(listed["customers"]) > 0
    first = listed["customers"][0]
    assert {"id", "name", "aliases", "customer_type", "industry", "region", "documents"} <= set(first)
    region = first["region"]
    narrowed = admin.get("/api/customers", query_string={"region": region}).get_json()["customers"]
    assert narrowed and all(c["region"] == region for c in narrowed)
    page = admin.get(f"/api/customers/{first['id']}").get_json()
    assert page["name"] == first["name"] and "by_type" in page and "contacts" in page
    assert admin.get("/api/customers/999999").status_code == 404
    assert admin.get("/api/customers", query_string={"status": "suggested"}).status_code == 200
    sales = folder_login("sales1")
    assert sales.get("/api/customers", query_string={"status": "suggested"}).status_code == 403
    assert sales.get("/api/customers", query_string={"status": "nonsense"}).status_code == 400
    viewer_counts = {
        c["id"]: c["documents"] for c in folder_login("viewer1").get("/api/customers").get_json()["customers"]
    }
    admin_counts = {c["id"]: c["documents"] for c in listed["customers"]}
    assert all(viewer_counts[i] <= admin_counts[i] for i in admin_counts) and viewer_counts != admin_counts


# -- editing a customer -------------------------------------------------------------------------------------


class _FormReader(HTMLParser):
    """The fields of the page's edit form as a browser submits them: inputs, selected options, textareas."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: dict[str, str] = {}
        self._in_form = False
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and "edit-form" in a.get("class", ""):
            self._in_form = True
        if not self._in_form:
            return
        if tag == "input" and "name" in a:
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select, self._first_option = a["name"], None
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = a.get("value", "")
            if "selected" in a:
                self.fields[self._select] = a.get("value", "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields[self._textarea] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "select" and self._select:
            self.fields.setdefault(self._select, self._first_option or "")
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data


class _Tags(HTMLParser):
    """Event-handler attributes and script elements in a page, as a browser parses it."""

    def __init__(self) -> None:
        super().__init__()
        self.handlers: list[tuple[str, str]] = []
        self.sources: list[str] = []  # the src of each script element ("" for an inline one)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handlers += [(tag, k) for k, _ in attrs if k.startswith("on")]
        if tag == "script":
            self.sources.append(dict(attrs).get("src") or "")


def _edit_form(html: str) -> dict[str, str]:
    reader = _FormReader()
    reader.feed(html)
    assert reader.fields, "the page has no edit form"
    return reader.fields


def test_edit_form_is_prefilled(folder_login, folder_home):
    """GIVEN a manager WHEN opening a customer's edit page from the folder's Edit button THEN every registry
    field is filled in, aliases as one text, type and importance chosen in their selects, each contact
    in its own row with two blank rows below, and the form posts back here with the CSRF token."""
    client = folder_login("manager1")
    cid = folder_home["customers"]["mingyuan"]
    folder_html = client.get(f"/customers/{cid}").get_data(as_text=True)
    assert f'<a class="button edit-customer" href="/customers/{cid}/edit">编辑</a>' in folder_html
    r = client.get(f"/customers/{cid}/edit")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "<h1>编辑客户：杭州明远科技有限公司</h1>" in html
    assert f'<form class="edit-form" method="post" action="/customers/{cid}/edit">' in html
    fields = _edit_form(html)
    assert fields["csrf_token"] and fields["csrf_token"] == re.search(
        r'name="csrf_token" value="([^"]+)"', html
    ).group(1)
    expected = {
        "name": "杭州明远科技有限公司",
        "aliases": "明远科技；明远",
        "credit_code": "91330106MA2B3C4D5E",
        "customer_type": "现有客户",
        "stage": "已签约",
        "importance": "A",
        "industry": "制造业",
        "owner_name": "张伟",
        "region": "浙江省",
        "city": "杭州市",
        "address": "浙江省杭州市西湖区文三路 90 号",
        "notes": "",
        "contacts-0-name": "李明",
        "contacts-0-title": "采购经理",
        "contacts-0-mobile": "13812345678",
        "contacts-0-landline": "0571-88886666",
        "contacts-0-email": "liming@mingyuan.cn",
    }
    assert {k: fields.get(k) for k in expected} == expected
    blank = {f"contacts-{n}-{k}" for n in (1, 2) for k in ("name", "title", "mobile", "landline", "email")}
    assert blank <= set(fields) and all(fields[k] == "" for k in blank)
    assert "contacts-3-name" not in fields
    assert '<option value="流失客户">流失客户</option>' in html and '<option value="C">C</option>' in html
    english = client.get(f"/customers/{cid}/edit?lang=en").get_data(as_text=True)
    for text in (
        "Edit customer: 杭州明远科技有限公司",
        ">Save</button>",
        "Prospect",
        "Province",
        "Empty a row to remove that contact",
    ):
        assert text in english, text


@pytest.mark.parametrize(
    ("user", "says"),
    [
        ("sales2", "只有客户的负责销售、经理和管理员可以修改"),
        ("viewer1", "只有管理员、经理和客户的负责销售可以修改客户"),
    ],
)
def test_only_reviewers_and_the_owner_may_edit(folder_login, folder_home, user, says):
    """Another rep's customer and viewers get no Edit button, and the edit page and posting to it are 403."""
    client = folder_login(user)
    cid = folder_home["customers"]["mingyuan"]
    html = client.get(f"/customers/{cid}").get_data(as_text=True)
    assert "edit-customer" not in html and f"/customers/{cid}/edit" not in html
    r = client.get(f"/customers/{cid}/edit")
    assert r.status_code == 403 and says in r.get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    r = client.post(
        f"/customers/{cid}/edit", data={"csrf_token": token, "name": "改名有限公司", "stage": "x"}
    )
    assert r.status_code == 403
    assert "<h1>杭州明远科技有限公司" in client.get(f"/customers/{cid}").get_data(as_text=True)


def test_edit_needs_the_csrf_token(folder_login, folder_home):
    """An edit posted without (or with a forged) CSRF token is refused and changes nothing."""
    client = folder_login("admin")
    cid = folder_home["customers"]["chengming"]
    fields = _edit_form(client.get(f"/customers/{cid}/edit").get_data(as_text=True))
    for token in (None, "forged"):
        data = {**fields, "stage": "已签约"}
        if token is None:
            del data["csrf_token"]
        else:
            data["csrf_token"] = token
        r = client.post(f"/customers/{cid}/edit", data=data)
        assert r.status_code == 400 and "表单已过期或来源无效" in r.get_data(as_text=True)
    assert _edit_form(client.get(f"/customers/{cid}/edit").get_data(as_text=True))["stage"] == "初步接触"


def test_unknown_or_rejected_customer_has_no_edit_page(folder_login, folder_home):
    """There is nothing to edit for an id not in the registry or a rejected suggestion: 404, and no button."""
    client = folder_login("admin")
    assert client.get("/customers/999999/edit").status_code == 404
    old = folder_home["customers"]["old"]
    r = client.get(f"/customers/{old}/edit")
    assert r.status_code == 404 and "不存在" in r.get_data(as_text=True)
    assert "edit-customer" not in client.get(f"/customers/{old}").get_data(as_text=True)


def test_bad_customer_type_re_renders_with_the_reason_and_the_input(folder_login, folder_home):
    """GIVEN an admin WHEN saving an unknown customer type with other changes THEN the form comes back (400)
    with the registry's reason and everything typed (the unknown type chosen, a new contact row), and the
    customer is unchanged."""
    client = folder_login("admin")
    cid = folder_home["customers"]["hengda"]
    fields = _edit_form(client.get(f"/customers/{cid}/edit").get_data(as_text=True))
    fields.update(
        {
            "customer_type": "大客户",
            "stage": "重新接触",
            "aliases": "恒达贸易、恒达苏州",
            "contacts-0-name": "周敏",
            "contacts-0-mobile": "13900001111",
        }
    )
    r = client.post(f"/customers/{cid}/edit", data=fields)
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert '<p class="flash flash-error form-error" role="alert">未保存：未知客户类型“大客户”' in html
    again = _edit_form(html)
    assert again["customer_type"] == "大客户" and '<option value="大客户" selected>大客户</option>' in html
    assert (again["stage"], again["aliases"]) == ("重新接触", "恒达贸易、恒达苏州")
    assert (again["contacts-0-name"], again["contacts-0-mobile"]) == ("周敏", "13900001111")
    assert again["contacts-1-name"] == again["contacts-2-name"] == "" and "contacts-3-name" not in again
    assert _edit_form(client.get(f"/customers/{cid}/edit").get_data(as_text=True))["stage"] == ""
    folder_html = client.get(f"/customers/{cid}").get_data(as_text=True)
    assert "重新接触" not in folder_html and "周敏" not in folder_html and "流失客户" in folder_html


def test_a_contact_row_without_a_name_is_refused(folder_login, folder_home):
    """A contact row with a phone but no name is not silently dropped: the form says which row lacks the name."""
    client = folder_login("admin")
    cid = folder_home["customers"]["mingyuan"]
    fields = _edit_form(client.get(f"/customers/{cid}/edit").get_data(as_text=True))
    fields.update({"contacts-2-mobile": "13700002222"})
    r = client.post(f"/customers/{cid}/edit", data=fields)
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "联系人第 2 行缺少姓名" in html and _edit_form(html)["contacts-1-mobile"] == "13700002222"


def test_edit_form_shows_registry_values_as_text(folder_login, folder_home):
    """Names, aliases, regions and contacts full of HTML stay inert inside the form's values."""
    html = (
        folder_login("admin").get(f"/customers/{folder_home['customers']['xss']}/edit").get_data(as_text=True)
    )
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>行业</b>" not in html
    tags = _Tags()
    tags.feed(html)
    # Only the app's own script files (base.html's and the tag field's autocomplete), none inline.
    assert tags.handlers == [] and tags.sources == ["/static/dossier.js", "/static/autocomplete.js"]
    fields = _edit_form(html)
    assert fields["name"] == "<img src=x onerror=alert('XSSCANARY')>珊瑚有限公司"
    assert fields["region"] == "\"><script>alert('XSSCANARY')</script>"
    assert fields["contacts-0-name"] == "<i>张</i>"


def test_saving_an_edit_changes_the_folder_and_relinks_documents(fresh_folder, tmp_path):
    """GIVEN a visit note that calls 恒达 by a nickname the registry does not know WHEN a manager adds that
    alias, a contact and a new type in the edit form THEN the folder shows the new values, says how many
    documents were re-analysed, and the note is now in 恒达's folder; an emptied contact row removes it."""
    home, client = fresh_folder
    cid = home["customers"]["hengda"]
    note = tmp_path / "拜访记录_续保.txt"
    note.write_text("拜访记录\n今天与姑苏恒贸的采购部门沟通了服务器续保事宜。\n", encoding="utf-8")
    (doc_id,) = [d["id"] for d in home["dossier"].ingest_paths([str(note)], ocr=False)["documents"]]
    assert doc_id not in _doc_ids(client.get(f"/customers/{cid}").get_data(as_text=True))

    fields = _edit_form(client.get(f"/customers/{cid}/edit").get_data(as_text=True))
    fields.update(
        {
            "aliases": "恒达贸易；姑苏恒贸",
            "customer_type": "现有",
            "stage": "重新接触",
            "importance": "B",
            "contacts-0-name": "周敏",
            "contacts-0-title": "采购主管",
            "contacts-0-mobile": "139 0000 1111",
            "contacts-1-name": "吴刚",
            "notes": "2024 年重新合作",
        }
    )
    r = client.post(f"/customers/{cid}/edit", data=fields)
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/customers/{cid}")
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    saved = re.search(r"已保存“苏州恒达贸易有限公司”；(\d+) 份相关文件已重新分析。", html)
    assert saved and int(saved.group(1)) >= 1
    assert doc_id in _doc_ids(html)
    for text in (
        "恒达贸易、姑苏恒贸",
        "现有客户",
        "重新接触",
        ">B<",
        "2024 年重新合作",
        "周敏",
        "采购主管",
        "13900001111",
        "吴刚",
    ):
        assert text in html, text
    link = re.search(rf'<li class="folder-doc" data-doc-id="{doc_id}">.*?</li>', html, re.S).group(0)
    assert "简称一致" in link

    # emptying a row removes that contact; the others keep their order
    fields = _edit_form(client.get(f"/customers/{cid}/edit").get_data(as_text=True))
    assert (fields["contacts-0-name"], fields["contacts-1-name"], fields["contacts-3-name"]) == (
        "周敏",
        "吴刚",
        "",
    )
    for key in ("name", "title", "mobile", "landline", "email"):
        fields[f"contacts-0-{key}"] = ""
    assert client.post(f"/customers/{cid}/edit", data=fields).status_code == 303
    html = client.get(f"/customers/{cid}").get_data(as_text=True)
    contacts = [unescape(n) for n in re.findall(r'<tr class="contact">\s*<td>(.*?)</td>', html)]
    assert contacts == ["吴刚"]


def test_a_credit_code_with_a_wrong_check_character_is_saved_and_flagged(fresh_folder):
    """A credit code of 18 characters whose check character is wrong is kept as typed and the saved folder
    warns about it; one of the wrong length is refused with the reason."""
    import ingest

    home, client = fresh_folder
    cid = home["customers"]["chengming"]
    code = "91310000MA1FL1234X"
    assert not ingest.uscc_is_valid(code)
    fields = _edit_form(client.get(f"/customers/{cid}/edit").get_data(as_text=True))
    r = client.post(
        f"/customers/{cid}/edit", data={**fields, "credit_code": code.lower()}, follow_redirects=True
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "已保存“上海澄明集团股份有限公司”" in html
    assert re.search(
        r'<p class="flash flash-warning" role="status">请注意：统一社会信用代码校验位不符：'
        + code
        + "（已保留，未更正）",
        html,
    )
    assert f'<td class="code">{code}</td>' in html
    r = client.post(f"/customers/{cid}/edit", data={**fields, "credit_code": "9131000"})
    assert r.status_code == 400 and "统一社会信用代码应为 18 位" in r.get_data(as_text=True)
    assert _edit_form(r.get_data(as_text=True))["credit_code"] == "9131000"


def test_registry_changes_on_the_customers_page_are_audited_by_the_reviewer(fresh_folder):
    """GIVEN a manager on the customers page WHEN editing a customer, confirming, merging and rejecting
    suggestions THEN each act is one audit event by that manager with the changed fields before and after,
    and the audit page offers the new actions with their Chinese names."""
    from tests.conftest import audit_events

    home, client = fresh_folder
    d, ids = home["dossier"], home["customers"]
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', client.get("/customers").get_data(as_text=True)
    ).group(1)

    fields = _edit_form(client.get(f"/customers/{ids['hengda']}/edit").get_data(as_text=True))
    fields.update({"stage": "重新接触", "aliases": "恒达贸易；姑苏恒贸", "owner_name": "sales2"})
    assert client.post(f"/customers/{ids['hengda']}/edit", data=fields).status_code == 303
    (edit,) = audit_events(d, "customer_edit")
    assert (edit.username, edit.target_type, edit.target_id) == ("manager1", "customer", ids["hengda"])
    assert edit.detail["changed"]["stage"] == [None, "重新接触"]
    assert edit.detail["changed"]["aliases"] == [["恒达贸易"], ["恒达贸易", "姑苏恒贸"]]
    assert edit.detail["changed"]["owner_account"] == [None, "sales2"]  # the owner name is a login: linked
    assert "name" not in edit.detail["changed"]

    client.post(f"/customers/{ids['jinqiao']}/confirm", data={"csrf_token": token})
    client.post(f"/customers/{ids['lanhai']}/merge", data={"csrf_token": token, "into": ids["mingyuan"]})
    (confirm,), (merge,) = audit_events(d, "customer_confirm"), audit_events(d, "customer_merge")
    assert confirm.username == "manager1" and confirm.detail["changed"] == {
        "status": ["suggested", "confirmed"]
    }
    assert merge.username == "manager1" and merge.target_id == ids["lanhai"]
    assert merge.detail["into"] == "杭州明远科技有限公司" and merge.detail["documents"] == 1
    with d.sessions() as session:
        from records import Customer

        session.add(Customer(name="台州新星塑料有限公司", status="suggested"))
        session.commit()
        new_id = session.query(Customer.id).filter_by(name="台州新星塑料有限公司").scalar()
    client.post(f"/customers/{new_id}/reject", data={"csrf_token": token})
    (reject,) = audit_events(d, "customer_reject")
    assert reject.username == "manager1" and reject.detail["changed"] == {"status": ["suggested", "rejected"]}

    admin = create_app(home["settings"], test_config={"TESTING": True}).test_client()
    assert _login(admin, "admin", FOLDER_PASSWORD).status_code == 302
    page = admin.get("/admin/audit").get_data(as_text=True)
    for code, label in (
        ("customer_import", "导入客户登记册"),
        ("customer_edit", "修改客户"),
        ("customer_merge", "合并客户"),
        ("customer_reject", "拒绝客户建议"),
        ("user_rename", "用户改名"),
        ("user_set_display_name", "修改显示名"),
    ):
        assert f'<option value="{code}">{label}</option>' in page, code
    assert "stage: null → 重新接触" in admin.get("/admin/audit?action=customer_edit").get_data(as_text=True)


def test_reviewers_are_warned_about_owner_names_that_match_no_account(fresh_folder):
    """GIVEN a customer whose registry owner 李娜 has no account WHEN a manager opens /customers THEN a warning
    names 李娜; once an account with that display name exists the customer is hers and the warning is gone."""
    home, client = fresh_folder
    d, cid = home["dossier"], home["customers"]["hengda"]
    from index import Principal

    d.customers.update(cid, {"owner_name": "李娜"}, Principal.system())
    html = client.get("/customers").get_data(as_text=True)
    assert "负责人“李娜”没有对应账户，1 个客户未关联" in html
    d.accounts.add_user("lina", "sales", FOLDER_PASSWORD, display_name="李娜")
    html = client.get("/customers").get_data(as_text=True)
    assert "李娜”没有对应账户" not in html
    (row,) = client.get("/api/customers?owner=李娜").get_json()["customers"]
    assert row["id"] == cid and row["owner_account"] == "lina"
