"""The permission matrix for the start page (工作台): every role × every level × both customers, on each backend.

The matrix's data home (tests/e2e/test_permission_matrix.py: one document per level and per
customer, A owned by sales1, B by sales2), with each document made a contract dated this month
worth ``1000 × (its position + 1)``, and customer types (A 现有客户, B 潜在客户).  For each user
the reading rule stated there (``allowed``, independent of the code) says which documents the
start page may count: its recent documents, its month chart and its amounts must count exactly those.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import TANTIVY, backend_home, login_client
from tests.e2e.test_permission_matrix import CUSTOMERS, PASSWORD, USERS, _build, allowed

TODAY = date.today()
TYPES = {"A": "现有客户", "B": "潜在客户"}


def _build_dashboard(root: Path, extra_env: dict[str, str]) -> dict:
    from pipeline.amounts import document_amount
    from records import Customer, Document, EntityRow

    built = _build(root, extra_env)
    d = built["dossier"]
    amounts = {}
    with d.sessions() as session:
        for customer in session.query(Customer):
            key = next(k for k, name in CUSTOMERS.items() if name == customer.name)
            customer.customer_type = TYPES[key]
        for n, doc_id in enumerate(sorted(built["docs"])):
            doc = session.get(Document, doc_id)
            doc.doc_type, doc.doc_date = "contract", TODAY.replace(day=1).isoformat()
            amounts[doc_id] = Decimal(1000 * (n + 1))
            doc.entities = [
                EntityRow(
                    kind="amount",
                    value=f"{amounts[doc_id]:.2f}",
                    text="x",
                    page=1,
                    start=0,
                    end=0,
                    role="合同总价",
                )
            ]
            doc.amount = document_amount(doc.entities)  # as the extraction step stores it
        session.commit()
    d.reindex(list(built["docs"]))
    d.backend.settle()
    return {**built, "amounts": amounts}


@pytest.fixture(
    scope="module", params=["sqlite", *TANTIVY, pytest.param("opensearch", marks=pytest.mark.opensearch)]
)
def home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    with backend_home(request.param, "matrix-dash", tmp_path_factory, _build_dashboard) as built:
        yield built


def _readable(home, username: str) -> set[int]:
    return {doc_id for doc_id, (level, key) in home["docs"].items() if allowed(username, level, key)}


@pytest.mark.parametrize("username", list(USERS))
def test_start_page_figures_count_what_the_user_may_read(home, username):
    d = home["dossier"]
    page = d.dashboard.start_page(d.accounts.principal_for(username))
    readable = _readable(home, username)
    assert {r["id"] for r in page["recent"]} == readable  # 8 documents at most, and there are 8
    month = TODAY.strftime("%Y-%m")
    assert page["by_month"][month] == ({"contract": len(readable)} if readable else {})
    by_type = {g["value"]: g["types"]["contract"] for g in page["amounts"]["customer_type"]}
    for key, customer_type in TYPES.items():
        mine = [doc_id for doc_id in readable if home["docs"][doc_id][1] == key]
        if not mine:
            assert customer_type not in by_type
            continue
        assert by_type[customer_type] == {
            "count": len(mine),
            "amount": f"{sum(home['amounts'][i] for i in mine):.2f}",
        }


@pytest.mark.parametrize("username", list(USERS))
def test_start_page_shows_only_readable_titles(home, username):
    from webui import create_app

    client = login_client(create_app(home["settings"], {"TESTING": True}), username, PASSWORD)
    html = client.get("/?lang=zh").get_data(as_text=True)
    recent = html.split('class="panel dash-recent"')[1].split("</section>")[0]
    for doc_id, (level, key) in home["docs"].items():
        assert (f'href="/documents/{doc_id}"' in recent) == allowed(username, level, key), (
            doc_id,
            level,
            key,
        )
