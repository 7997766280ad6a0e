"""The customer timeline (issue 16, item 2): one stream, newest first, filterable by kind, paged, permission-filtered."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

import pytest

from foundation.errors import DossierError, NotFound
from index import Principal

PASSWORD = "timeline-test-Passw0rd"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A customer with documents (one archived, one trashed, one finance), activities, changes and reminders."""
    from dossier.app._accounts import principal_of
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from records import Customer, CustomerChange, Document, Reminder, User, hash_password

    root = tmp_path_factory.mktemp("timeline")
    settings = load_settings(
        environ={"DOSSIER_HOME": str(root), "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"},
        dotenv=root / "none",
    )
    Dossier.open(settings, require_init=False).init(admin_password=PASSWORD)
    d = Dossier.open(settings)
    base = datetime(2026, 1, 1, 9, 0)
    with d.sessions() as session:
        sales1 = User(username="sales1", role="sales", password_hash=hash_password(PASSWORD))
        sales2 = User(username="sales2", role="sales", password_hash=hash_password(PASSWORD))
        viewer = User(username="viewer1", role="viewer", password_hash=hash_password(PASSWORD))
        session.add_all([sales1, sales2, viewer])
        customer = Customer(name="杭州明远科技有限公司", aliases=[], contacts=[], owner=sales1)
        other = Customer(name="上海澄明集团股份有限公司", aliases=[], contacts=[], owner=sales2)
        session.add_all([customer, other])
        session.flush()
        docs = {}
        for n, (name, level, extra) in enumerate(
            [
                ("报价单", "internal", {}),
                ("旧合同", "public", {"archived_at": base}),
                ("删除的文件", "public", {"trashed_at": base, "trashed_by": "admin"}),
                ("发票", "finance", {}),
            ]
        ):
            doc = Document(
                title=name,
                doc_type="other",
                confidentiality=level,
                confidentiality_source="manual",
                status="indexed",
                customer_id=customer.id,
                created_at=base + timedelta(days=n),
                **extra,
            )
            session.add(doc)
            docs[name] = doc
        session.add(
            CustomerChange(
                customer_id=customer.id,
                at=base + timedelta(days=10),
                username="admin",
                field="stage",
                before="初步接触",
                after="报价",
            )
        )
        session.add(
            Reminder(
                title="寄送报价",
                customer_id=customer.id,
                owner_id=sales1.id,
                due_on=date(2026, 1, 20),
                remind_on=date(2026, 1, 20),
                status="done",
                confidentiality="confidential",
                done_at=base + timedelta(days=11),
                done_by="sales1",
            )
        )
        session.add(
            Reminder(
                title="还没做",
                customer_id=customer.id,
                due_on=date(2026, 1, 21),
                remind_on=date(2026, 1, 21),
                status="open",
            )
        )
        session.commit()
        ids = {"customer": customer.id, "other": other.id, **{k: v.id for k, v in docs.items()}}
    operator = Principal.system()
    call = d.activities.add(
        operator, kind="call", customer=ids["customer"], occurred_at="2026-01-08 10:00", body="电话沟通"
    )
    secret = d.activities.add(
        operator,
        kind="visit",
        customer=ids["customer"],
        occurred_at="2026-01-09",
        body="拜访",
        confidentiality="confidential",
    )
    remark = d.activities.comment(operator, ids["报价单"], "价格偏高")
    users = {name: principal_of(d.sessions, name) for name in ("sales1", "sales2", "viewer1")}
    yield {
        "d": d,
        "ids": ids,
        "call": call["id"],
        "secret": secret["id"],
        "remark": remark["id"],
        "users": users,
    }
    d.close()


def _keys(found: dict) -> list[tuple[str, int]]:
    return [(item["kind"], item["id"]) for item in found["items"]]


def test_one_stream_newest_first(home) -> None:  # type: ignore[no-untyped-def]
    d, ids = home["d"], home["ids"]
    found = d.timeline(Principal.system(), ids["customer"])
    kinds = [k for k, _ in _keys(found)]
    assert kinds[:3] == ["comment", "reminder", "change"]  # the comment was made now; then day 11, day 10
    assert ("activity", home["secret"]) in _keys(found) and ("activity", home["call"]) in _keys(found)
    assert ("document", ids["删除的文件"]) not in _keys(found)  # the trash is not in it
    assert ("reminder", 2) not in _keys(found)  # open reminders are not
    ats = [item["at"] for item in found["items"]]
    assert ats == sorted(ats, reverse=True)
    archived = next(i for i in found["items"] if i["kind"] == "document" and i["id"] == ids["旧合同"])
    assert archived["archived"] is True
    change = next(i for i in found["items"] if i["kind"] == "change")
    assert (change["field"], change["before"], change["after"], change["username"]) == (
        "stage",
        "初步接触",
        "报价",
        "admin",
    )
    assert found["total"] == len(found["items"]) == 8


def test_filter_by_kind_and_pages(home) -> None:  # type: ignore[no-untyped-def]
    d, ids = home["d"], home["ids"]
    only = d.timeline(Principal.system(), ids["customer"], kinds="comment")
    assert _keys(only) == [("comment", home["remark"])]
    two = d.timeline(Principal.system(), ids["customer"], kinds=["documents", "change"])
    assert {k for k, _ in _keys(two)} == {"document", "change"} and two["total"] == 4
    first = d.timeline(Principal.system(), ids["customer"], page=1, per_page=3)
    second = d.timeline(Principal.system(), ids["customer"], page=2, per_page=3)
    assert first["pages"] == 3 and first["total"] == 8
    assert not set(_keys(first)) & set(_keys(second))
    with pytest.raises(DossierError) as bad:
        d.timeline(Principal.system(), ids["customer"], kinds="emails")
    assert bad.value.status == 400 and "emails" in str(bad.value)
    with pytest.raises(NotFound):
        d.timeline(Principal.system(), 999999)


def test_permissions(home) -> None:  # type: ignore[no-untyped-def]
    d, ids, users = home["d"], home["ids"], home["users"]
    owner = set(_keys(d.timeline(users["sales1"], ids["customer"])))
    assert ("activity", home["secret"]) in owner  # confidential of a customer they own
    assert ("document", ids["发票"]) not in owner  # finance
    assert ("reminder", 1) in owner  # confidential of their customer
    other = set(_keys(d.timeline(users["sales2"], ids["customer"])))
    assert ("activity", home["secret"]) not in other
    assert ("reminder", 1) not in other  # confidential, of a customer they do not own
    viewer = set(_keys(d.timeline(users["viewer1"], ids["customer"])))
    assert {k for k, _ in viewer} <= {"document", "change"}
    assert ("document", ids["旧合同"]) in viewer and ("document", ids["报价单"]) not in viewer


def test_five_thousand_items_page_from_sql(home) -> None:  # type: ignore[no-untyped-def]
    """With 5,000 activities a page still holds 50 items and the count is exact (the page is cut in SQL)."""
    from records import Activity

    d, ids = home["d"], home["ids"]
    start = datetime(2025, 1, 1)
    with d.sessions() as session:
        session.add_all(
            Activity(
                kind="note",
                customer_id=ids["other"],
                occurred_at=start + timedelta(minutes=i),
                author="admin",
                body=f"记录 {i}",
                confidentiality="internal" if i % 2 else "finance",
            )
            for i in range(5000)
        )
        session.commit()
    started = time.perf_counter()
    found = d.timeline(Principal.system(), ids["other"], page=3)
    took = (time.perf_counter() - started) * 1000
    assert found["total"] == 5000 and found["pages"] == 100 and len(found["items"]) == 50
    assert found["items"][0]["body"] == "记录 4899"
    sales = d.timeline(home["users"]["sales2"], ids["other"])
    assert sales["total"] == 2500  # the finance half is not theirs to read
    print(f"timeline page 3 of 5,000 items: {took:.1f} ms")


@pytest.mark.opensearch
def test_activities_and_timeline_on_postgresql_records(postgres_url, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """On PostgreSQL records with the OpenSearch index: logging, the list, search hits and the timeline's SQL."""
    import uuid

    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from index import SearchRequest
    from records import Customer, CustomerChange
    from tests import _opensearch

    url, alias = _opensearch.cluster_url(), f"dossier-test-{uuid.uuid4().hex[:10]}"
    env = {
        "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
        "DOSSIER_HOME": str(tmp_path / "home"),
        "DOSSIER_DATABASE_URL": postgres_url,
        "DOSSIER_OPENSEARCH_URL": url,
        "DOSSIER_OPENSEARCH_INDEX": alias,
    }
    settings = load_settings(environ=env, dotenv=tmp_path / "no.env")
    first = Dossier.open(settings, require_init=False)
    first.init(admin_password=PASSWORD)
    first.close()  # its index flusher must not outlive the test's database
    d = Dossier.open(settings)
    try:
        with d.sessions() as session:
            customer = Customer(name="杭州明远科技有限公司", aliases=[], contacts=[])
            session.add(customer)
            session.flush()
            session.add(
                CustomerChange(
                    customer_id=customer.id, username="admin", field="stage", before=None, after="报价"
                )
            )
            session.commit()
            cid = customer.id
        operator = Principal.system()
        made = d.activities.add(operator, kind="call", customer=cid, body="琥珀项目回访", contacts=["张三"])
        d.backend.settle()
        hits = d.search(SearchRequest("琥珀"), operator)["hits"]
        assert [h["activity"] for h in hits] == [made["id"]]
        assert d.activities.list(operator, customer=cid)["total"] == 1
        found = d.timeline(operator, cid)
        assert [i["kind"] for i in found["items"]] == ["activity", "change"] and found["total"] == 2
    finally:
        d.close()
        _opensearch.drop(url, alias)
