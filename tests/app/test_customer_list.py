"""The customer list: stage, importance, tags, last activity, open reminders and contract amount; sorted and paged in SQL.

Every figure counts only what the viewer may read: documents and activities by their level (a rep
also reads the confidential ones of their own customers), reminders by their level or when the
viewer owns them, and the contract amount only of readable contracts — as the customer page does.
"""

from __future__ import annotations

import csv
import uuid
from datetime import date, datetime

import pytest
from sqlalchemy import select

from dossier.app import folder
from dossier.app.customer_list import customer_list
from dossier.app.services import Dossier
from foundation.config import load_settings
from index import Principal
from records import Activity, Customer, Reminder, User
from tests import _opensearch

NO_REDIS = {"DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"}
PASSWORD = "correct horse battery"
MINGYUAN = "上海明远科技有限公司"
YUNFAN = "杭州云帆信息技术有限公司"
QIHANG = "苏州启航电子有限公司"


def _contract(party: str, total: str, extra: str = "") -> str:
    return f"销售合同\n甲方：{party}\n乙方：杭州数策软件有限公司\n合同总价：人民币{total}元\n{extra}\n签订日期：2024年3月1日\n"


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.opensearch)])
def home(request, tmp_path_factory):
    """Three customers; contracts at public, confidential and internal; activities; reminders of mixed levels.

    Once on SQLite, once on PostgreSQL records (with the OpenSearch index): the sorts are SQL.
    """
    root = tmp_path_factory.mktemp("list")
    env = {"DOSSIER_HOME": str(root), **NO_REDIS}
    server = database = None
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres_server")
        database = server.create_database()
        env |= {
            "DOSSIER_DATABASE_URL": database,
            "DOSSIER_OPENSEARCH_URL": _opensearch.cluster_url(),
            "DOSSIER_OPENSEARCH_INDEX": f"dossier-list-{uuid.uuid4().hex[:10]}",
        }
    settings = load_settings(environ=env, dotenv=root / "none")
    first = Dossier.open(settings, require_init=False)
    first.init(admin_password=PASSWORD)
    first.close()
    dossier = Dossier.open(settings)
    try:
        yield _fill(dossier, root)
    finally:
        dossier.close()
        if server is not None:
            _opensearch.drop(env["DOSSIER_OPENSEARCH_URL"], env["DOSSIER_OPENSEARCH_INDEX"])
            server.drop_database(database)


def _fill(dossier, root):
    for name, role in (("zhang", "sales"), ("li", "sales"), ("boss", "manager"), ("vi", "viewer")):
        dossier.accounts.add_user(name, role, PASSWORD)
    registry = root / "registry.csv"
    with registry.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(
            [
                ["客户名称", "负责人", "销售阶段", "重要程度", "客户类型"],
                [MINGYUAN, "zhang", "初步接触", "B", "潜在"],
                [YUNFAN, "li", "商务谈判", "A", "现有"],
                [QIHANG, "li", "商务谈判", "C", "现有"],
            ]
        )
    dossier.customers.import_registry(registry)
    boss = dossier.accounts.principal_for("boss")
    files = {
        "m1.txt": (_contract(MINGYUAN, "120,000.00", "运费：人民币500.00元"), "public"),
        "m2.txt": (_contract(MINGYUAN, "50,000.00"), "confidential"),
        "y1.txt": (_contract(YUNFAN, "80,000.00"), "internal"),
    }
    for name, (text, _level) in files.items():
        (root / name).write_text(text, encoding="utf-8")
    report = dossier.ingest_paths([str(root / n) for n in files], doc_type="contract")
    for doc, (_text, level) in zip(report["documents"], files.values(), strict=True):
        dossier.documents.update(doc["id"], boss, confidentiality=level)
    with dossier.sessions() as session:
        ids = {c.name: c.id for c in session.scalars(select(Customer))}
        users = {u.username: u.id for u in session.scalars(select(User))}
        session.add_all(
            [
                Activity(
                    kind="call",
                    customer_id=ids[MINGYUAN],
                    author="zhang",
                    occurred_at=datetime(2030, 1, 1),
                    confidentiality="public",
                ),
                Activity(
                    kind="visit",
                    customer_id=ids[YUNFAN],
                    author="li",
                    occurred_at=datetime(2031, 1, 1),
                    confidentiality="confidential",
                ),
            ]
        )
        due = date(2030, 6, 1)

        def reminder(cid: int, level: str, owner: str, status: str = "open") -> Reminder:
            return Reminder(
                title="回访",
                customer_id=cid,
                owner_id=users[owner],
                due_on=due,
                remind_on=due,
                status=status,
                confidentiality=level,
            )

        session.add_all(
            [
                reminder(ids[MINGYUAN], "internal", "zhang"),
                reminder(ids[MINGYUAN], "internal", "zhang"),
                reminder(ids[MINGYUAN], "internal", "zhang", status="done"),
                reminder(ids[YUNFAN], "confidential", "li"),
                reminder(ids[QIHANG], "finance", "boss"),
            ]
        )
        session.commit()
    return dossier, ids


def _rows(dossier, user, **kw):
    principal = Principal.system() if user == "system" else dossier.accounts.principal_for(user)
    with dossier.sessions() as session:
        return customer_list(session, principal, **kw)


def _by_name(page):
    return {row["name"]: row for row in page["customers"]}


def test_each_row_has_the_steering_fields(home):
    dossier, _ = home
    rows = _by_name(_rows(dossier, "boss"))
    assert (rows[MINGYUAN]["stage"], rows[MINGYUAN]["importance"], rows[MINGYUAN]["tags"]) == (
        "初步接触",
        "B",
        [],
    )
    assert set(rows[MINGYUAN]) >= {"last_activity", "open_reminders", "contract_amount", "documents"}


@pytest.mark.parametrize("user", ["boss", "zhang", "li", "vi"])
def test_the_contract_amount_is_the_customer_pages_sum_of_readable_contracts(home, user):
    dossier, ids = home
    principal = dossier.accounts.principal_for(user)
    rows = _by_name(_rows(dossier, user))
    for name in (MINGYUAN, YUNFAN):
        with dossier.sessions() as session:
            page = folder.customer_page(session, ids[name], principal)
        assert rows[name]["contract_amount"] == page["amount_totals"].get("contract"), (user, name)


def test_the_contract_amount_counts_only_readable_contracts(home):
    dossier, _ = home
    expected = {
        "boss": ("170000.00", "80000.00"),
        "zhang": ("170000.00", "80000.00"),  # his own customer's confidential contract too
        "li": ("120000.00", "80000.00"),
        "vi": ("120000.00", None),  # a viewer reads public only
    }
    for user, (mingyuan, yunfan) in expected.items():
        rows = _by_name(_rows(dossier, user))
        assert (rows[MINGYUAN]["contract_amount"], rows[YUNFAN]["contract_amount"]) == (mingyuan, yunfan), (
            user
        )


def test_open_reminders_count_only_what_the_viewer_may_see(home):
    dossier, _ = home
    expected = {
        "boss": (2, 1, 1),
        "zhang": (2, 0, 0),  # internal ones; not li's confidential one nor the finance one
        "li": (2, 1, 0),  # his own confidential reminder of his customer
        "vi": (0, 0, 0),
    }
    for user, counts in expected.items():
        rows = _by_name(_rows(dossier, user))
        assert (
            rows[MINGYUAN]["open_reminders"],
            rows[YUNFAN]["open_reminders"],
            rows[QIHANG]["open_reminders"],
        ) == counts, user


def test_sorting_by_each_figure(home):
    dossier, _ = home
    names = lambda page: [r["name"] for r in page["customers"]]  # noqa: E731
    assert names(_rows(dossier, "boss", sort="contract_amount")) == [MINGYUAN, YUNFAN, QIHANG]
    assert names(_rows(dossier, "boss", sort="last_activity")) == [YUNFAN, MINGYUAN, QIHANG]
    # the viewer sees neither the confidential visit nor the internal contract: 云帆 has no activity for them
    viewer = _rows(dossier, "vi", sort="last_activity")
    assert names(viewer)[0] == MINGYUAN and _by_name(viewer)[YUNFAN]["last_activity"] is None
    assert _by_name(viewer)[MINGYUAN]["last_activity"].startswith("2030-01-01")
    assert names(_rows(dossier, "li", sort="open_reminders")) == [MINGYUAN, YUNFAN, QIHANG]
    assert names(_rows(dossier, "boss", sort="name")) == sorted([MINGYUAN, YUNFAN, QIHANG])


def test_filters_and_pages(home):
    dossier, _ = home
    names = lambda page: sorted(r["name"] for r in page["customers"])  # noqa: E731
    assert names(_rows(dossier, "boss", stage="商务谈判")) == sorted([YUNFAN, QIHANG])
    assert names(_rows(dossier, "boss", importance="ｂ")) == [MINGYUAN]
    assert names(_rows(dossier, "boss", customer_type="现有")) == sorted([YUNFAN, QIHANG])
    assert names(_rows(dossier, "boss", tag="华东")) == []
    page = _rows(dossier, "boss", sort="contract_amount", offset=1, limit=1)
    assert page["total"] == 3 and [r["name"] for r in page["customers"]] == [YUNFAN]


def test_a_tag_filter_after_an_edit(home):
    dossier, ids = home
    dossier.customers.update(ids[QIHANG], {"tags": ["华东", "重点"]}, dossier.accounts.principal_for("li"))
    assert [r["name"] for r in _rows(dossier, "vi", tag="重点")["customers"]] == [QIHANG]
    dossier.customers.update(ids[QIHANG], {"tags": []}, dossier.accounts.principal_for("li"))
