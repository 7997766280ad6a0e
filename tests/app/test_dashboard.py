"""The start page's figures (工作台): right numbers, per role, and each equal to its search's hits.

Once on SQLite and once on PostgreSQL records with the OpenSearch index: the figures are SQL
aggregates, and every chart element's count is compared with the total of the search it links to.
"""

from __future__ import annotations

import uuid

import pytest

from dossier.app.dashboard import AMOUNT_TYPES, months_back
from dossier.app.search_request import search_request
from dossier.app.services import Dossier
from foundation.config import load_settings
from tests import _dashboard, _opensearch

NO_REDIS = {"DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"}
ROLES = ("admin", "manager1", "fin1", "sales1", "sales2", "viewer1")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.opensearch)])
def home(request, tmp_path_factory):
    """The dashboard data home, on SQLite or on PostgreSQL + OpenSearch."""
    root = tmp_path_factory.mktemp("dash")
    env = {"DOSSIER_HOME": str(root), **NO_REDIS}
    server = database = None
    if request.param == "postgresql":
        server = request.getfixturevalue("postgres_server")
        database = server.create_database()
        env |= {
            "DOSSIER_DATABASE_URL": database,
            "DOSSIER_OPENSEARCH_URL": _opensearch.cluster_url(),
            "DOSSIER_OPENSEARCH_INDEX": f"dossier-dash-{uuid.uuid4().hex[:10]}",
        }
    settings = load_settings(environ=env, dotenv=root / "none")
    first = Dossier.open(settings, require_init=False)
    first.init(admin_password=_dashboard.PASSWORD)
    first.close()
    dossier = Dossier.open(settings)
    try:
        ids = _dashboard.fill(dossier)
        yield dossier, ids
    finally:
        dossier.close()
        if server is not None:
            _opensearch.drop(env["DOSSIER_OPENSEARCH_URL"], env["DOSSIER_OPENSEARCH_INDEX"])
            server.drop_database(database)


def _page(dossier, user):
    return dossier.dashboard.start_page(dossier.accounts.principal_for(user), today=_dashboard.TODAY)


def _total(dossier, user, **params) -> int:
    values = {k: v if isinstance(v, list) else [v] for k, v in params.items()}
    return dossier.search(search_request(values, limit=50), dossier.accounts.principal_for(user))["total"]


def _cells(page) -> dict[tuple[str, str], int]:
    return {(m, t): n for m, types in page["by_month"].items() for t, n in types.items()}


def test_months_are_the_twelve_up_to_today():
    assert months_back(_dashboard.TODAY) == [f"2023-{m:02d}" for m in range(7, 13)] + [
        f"2024-{m:02d}" for m in range(1, 7)
    ]


@pytest.mark.parametrize(
    "user, expected",
    [
        # archived d10, trashed d11, failed d12 and d8 (2022) never count; d4 has no date
        (
            "admin",
            {
                ("2023-11", "quote"): 1,
                ("2024-01", "quote"): 1,
                ("2024-02", "visit"): 1,
                ("2024-03", "contract"): 1,
                ("2024-04", "email"): 1,
                ("2024-04", "contract"): 1,
                ("2024-05", "contract"): 1,
                ("2024-06", "invoice"): 1,
            },
        ),
        ("viewer1", {("2023-11", "quote"): 1, ("2024-04", "contract"): 1}),
        (  # a rep reads internal ones, and the confidential ones of the customer they own (d3), not d6 or d5
            "sales1",
            {
                ("2023-11", "quote"): 1,
                ("2024-02", "visit"): 1,
                ("2024-03", "contract"): 1,
                ("2024-04", "email"): 1,
                ("2024-04", "contract"): 1,
                ("2024-05", "contract"): 1,
            },
        ),
        (
            "fin1",
            {
                ("2023-11", "quote"): 1,
                ("2024-02", "visit"): 1,
                ("2024-03", "contract"): 1,
                ("2024-04", "email"): 1,
                ("2024-04", "contract"): 1,
                ("2024-06", "invoice"): 1,
            },
        ),
    ],
)
def test_documents_per_type_per_month(home, user, expected):
    dossier, _ids = home
    page = _page(dossier, user)
    assert page["months"][0] == "2023-07" and page["months"][-1] == "2024-06"
    assert _cells(page) == expected


@pytest.mark.parametrize("user", ROLES)
def test_every_month_cell_counts_what_its_search_finds(home, user):
    dossier, _ids = home
    page = _page(dossier, user)
    for (month, doc_type), n in _cells(page).items():
        last = {"02": 29, "04": 30, "06": 30, "09": 30, "11": 30}.get(month[5:], 31)
        assert _total(dossier, user, type=doc_type, **{"from": f"{month}-01", "to": f"{month}-{last}"}) == n


def _amounts(page, dim):
    return {
        g["value"]: {t: (g["types"][t]["count"], g["types"][t]["amount"]) for t in AMOUNT_TYPES}
        for g in page["amounts"][dim]
    }


def test_amounts_by_customer_type_per_role(home):
    dossier, _ids = home
    # d1 (120000, its 总价 not the 预付) is filed under 明远 and 恒达; d3 has no 总 amount: its largest; d13 none
    assert _amounts(_page(dossier, "admin"), "customer_type") == {
        "现有客户": {"contract": (3, "420000.00"), "quote": (1, "88000.00")},
        "流失客户": {"contract": (2, "165000.00"), "quote": (0, "0.00")},
        "潜在客户": {"contract": (0, "0.00"), "quote": (1, "560000.00")},
    }
    assert _amounts(_page(dossier, "viewer1"), "customer_type") == {
        "现有客户": {"contract": (1, "0.00"), "quote": (1, "88000.00")},
    }
    assert _amounts(_page(dossier, "sales1"), "customer_type") == {
        "现有客户": {"contract": (3, "420000.00"), "quote": (1, "88000.00")},
        "流失客户": {"contract": (2, "165000.00"), "quote": (0, "0.00")},
    }
    assert _amounts(_page(dossier, "sales2"), "customer_type") == {
        "潜在客户": {"contract": (0, "0.00"), "quote": (1, "560000.00")},
        "流失客户": {"contract": (2, "165000.00"), "quote": (0, "0.00")},
        "现有客户": {"contract": (2, "120000.00"), "quote": (1, "88000.00")},
    }


def test_amounts_by_owner_stage_and_region(home):
    dossier, _ids = home
    page = _page(dossier, "admin")
    owners = {g["value"]: g["label"] for g in page["amounts"]["owner"]}
    assert owners == {"sales1": "sales1", "sales2": "sales2", "老李": "老李"}
    assert _amounts(page, "stage") == {
        "已签约": {"contract": (3, "420000.00"), "quote": (1, "88000.00")},
        "初步接触": {"contract": (0, "0.00"), "quote": (1, "560000.00")},
    }
    assert set(_amounts(page, "region")) == {"浙江省", "江苏省", "上海市"}  # not the suggested 蓝海's


@pytest.mark.parametrize("user", ROLES)
@pytest.mark.parametrize(
    "dim, param", [("customer_type", "customer_type"), ("stage", "stage"), ("region", "region")]
)
def test_every_amount_bar_counts_what_its_search_finds(home, user, dim, param):
    dossier, _ids = home
    for group in _page(dossier, user)["amounts"][dim]:
        for doc_type in AMOUNT_TYPES:
            n = group["types"][doc_type]["count"]
            assert _total(dossier, user, type=doc_type, **{param: group["value"]}) == n, (group, doc_type)


def test_customers_by_type_and_stage(home):
    dossier, _ids = home
    customers = _page(dossier, "viewer1")["customers"]
    assert {g["value"]: g["count"] for g in customers["customer_type"]} == {
        "现有客户": 2,
        "潜在客户": 1,
        "流失客户": 1,
    }
    assert {g["value"]: g["count"] for g in customers["stage"]} == {"已签约": 2, "初步接触": 1}
    assert customers["stage_unset"] == 1 and customers["customer_type_unset"] == 0


@pytest.mark.parametrize(
    "user, expected",
    [
        ("admin", {"queued": 1, "failed": 2, "awaiting_ocr": 1, "ocr_failed": 1}),
        ("sales1", {"queued": 1, "failed": 1, "awaiting_ocr": 1, "ocr_failed": 1}),
        ("viewer1", {"queued": 0, "failed": 0, "awaiting_ocr": 1, "ocr_failed": 1}),
    ],
)
def test_backlog_shows_own_batches_and_readable_pages(home, user, expected):
    dossier, _ids = home
    assert _page(dossier, user)["backlog"] == expected


def test_recent_documents_are_readable_ones_newest_first(home):
    dossier, ids = home
    by_id = {v: k for k, v in ids["docs"].items()}
    viewer = [by_id[r["id"]] for r in _page(dossier, "viewer1")["recent"]]
    assert viewer == ["d13", "d4", "d2"]
    admin = [by_id[r["id"]] for r in _page(dossier, "admin")["recent"]]
    assert len(admin) == 8 and not {"d10", "d11", "d12"} & set(admin)


def test_charts_are_kept_until_a_document_changes(home):
    """The cache never hides a change: an edit changes the fingerprint, and the figures follow it."""
    dossier, ids = home
    manager = dossier.accounts.principal_for("manager1")
    before = dossier.dashboard.charts(manager, today=_dashboard.TODAY)
    assert dossier.dashboard.charts(manager, today=_dashboard.TODAY) is before  # kept
    doc_id = ids["docs"]["d7"]
    dossier.documents.update(doc_id, manager, doc_type="meeting")
    try:
        after = dossier.dashboard.charts(manager, today=_dashboard.TODAY)
        assert after["by_month"]["2024-02"] == {"meeting": 1}
    finally:
        dossier.documents.update(doc_id, manager, doc_type="visit")
    assert dossier.dashboard.charts(manager, today=_dashboard.TODAY)["by_month"]["2024-02"] == {"visit": 1}
