"""Activities and comments (issue 16, item 1): logging, limits, rights, audit, search entries, timeline bits."""

from __future__ import annotations

import pytest

from foundation.errors import DossierError, Forbidden, NotFound
from index import SearchRequest, activity_entry_id
from tests.conftest import audit_events

PASSWORD = "activity-test-Passw0rd"


@pytest.fixture
def home(dossier):  # type: ignore[no-untyped-def]
    """Two customers (A owned by sales1, B by sales2), users of every role and one document of A."""
    from records import Customer, Document, DocumentCustomer, Page, User, Version, hash_password

    with dossier.sessions() as session:
        users = {
            name: User(username=name, role=role, password_hash=hash_password(PASSWORD))
            for name, role in (
                ("manager1", "manager"),
                ("finance1", "finance"),
                ("sales1", "sales"),
                ("sales2", "sales"),
                ("viewer1", "viewer"),
            )
        }
        session.add_all(users.values())
        a = Customer(
            name="杭州明远科技有限公司",
            aliases=["明远科技"],
            contacts=[{"name": "张三"}],
            owner=users["sales1"],
        )
        b = Customer(name="上海澄明集团股份有限公司", aliases=[], contacts=[], owner=users["sales2"])
        session.add_all([a, b])
        session.flush()
        doc = Document(
            title="明远报价单",
            doc_type="quote",
            status="indexed",
            confidentiality="internal",
            customer_id=a.id,
            pages=[Page(number=1, text="明远科技 报价单 服务器")],
            versions=[Version(number=1, sha256="0" * 64, filename="q.txt", mime="text/plain", size=3)],
        )
        session.add(doc)
        session.flush()
        session.add(DocumentCustomer(document_id=doc.id, customer_id=a.id, method="manual"))
        session.commit()
        ids = {"A": a.id, "B": b.id, "doc": doc.id}
        principals = {}
    from dossier.app._accounts import principal_of

    for name in ("manager1", "finance1", "sales1", "sales2", "viewer1"):
        principals[name] = principal_of(dossier.sessions, name)
    dossier.reindex([ids["doc"]])
    return {"d": dossier, "ids": ids, "p": principals}


def test_log_search_edit_delete(home, admin) -> None:  # type: ignore[no-untyped-def]
    d, ids, p = home["d"], home["ids"], home["p"]
    made = d.activities.add(
        p["sales1"],
        kind="call",
        customer="明远科技",
        occurred_at="2026-12-01 10:00",
        contacts=["张三"],
        subject="续约电话",
        body="客户希望下月续签服务器维保合同",
        next_step="寄送报价",
    )
    assert made["customer"]["id"] == ids["A"] and made["author"] == "sales1"
    assert made["confidentiality"] == "internal" and made["occurred_at"] == "2026-12-01T10:00"
    found = d.search(SearchRequest("维保"), admin)
    assert [h["activity"] for h in found["hits"]] == [made["id"]]
    assert found["hits"][0]["doc_type"] == "activity" and found["hits"][0]["kind"] == "call"
    facets = dict((f["value"], f["count"]) for f in found["facets"]["doc_type"])
    assert facets == {"activity": 1}
    # Excluded from document-only searches; only activities when asked.
    assert d.search(SearchRequest("维保", activities="exclude"), admin)["total"] == 0
    assert d.search(SearchRequest("明远", activities="only"), admin)["total"] == 1
    edited = d.activities.edit(p["sales1"], made["id"], body="客户决定续签三年", subject="续约确认")
    assert edited["body"] == "客户决定续签三年"
    assert d.search(SearchRequest("维保"), admin)["total"] == 0
    assert d.search(SearchRequest("三年"), admin)["total"] == 1
    with pytest.raises(Forbidden):
        d.activities.edit(p["sales2"], made["id"], body="x")
    with pytest.raises(Forbidden):
        d.activities.delete(p["finance1"], made["id"])
    d.activities.delete(p["manager1"], made["id"])
    assert d.search(SearchRequest("三年"), admin)["total"] == 0
    actions = [e.action for e in audit_events(d) if e.action.startswith("activity_")]
    assert actions == ["activity_add", "activity_edit", "activity_delete"]


def test_bad_input_is_refused_whole(home) -> None:  # type: ignore[no-untyped-def]
    d, ids, p = home["d"], home["ids"], home["p"]
    with pytest.raises(DossierError) as bad:
        d.activities.add(p["manager1"], kind="visit", customer=ids["A"], occurred_at="2026-02-30", body="x")
    assert bad.value.status == 400 and "2026-02-30" in str(bad.value)
    with pytest.raises(NotFound) as missing:
        d.activities.add(p["manager1"], kind="visit", customer="不存在的公司", body="x")
    assert "不存在的公司" in str(missing.value)
    with pytest.raises(DossierError) as long:
        d.activities.add(p["manager1"], kind="note", customer=ids["A"], subject="x" * 256)
    assert long.value.status == 400 and "255" in str(long.value)
    with pytest.raises(DossierError):
        d.activities.add(p["manager1"], kind="note", customer=ids["A"], body="x" * 20_001)
    with pytest.raises(DossierError):
        d.activities.add(
            p["manager1"], kind="note", customer=ids["A"], body="x", contacts=[f"人{i}" for i in range(21)]
        )
    with pytest.raises(DossierError):
        d.activities.add(p["manager1"], kind="chat", customer=ids["A"], body="x")
    with pytest.raises(NotFound):
        d.activities.add(p["manager1"], kind="comment", document=999999, body="x")
    assert d.activities.list(p["manager1"])["total"] == 0
    assert not [e for e in audit_events(d) if e.action == "activity_add"]


def test_who_may_log(home) -> None:  # type: ignore[no-untyped-def]
    d, ids, p = home["d"], home["ids"], home["p"]
    with pytest.raises(Forbidden) as viewer:
        d.activities.add(p["viewer1"], kind="call", customer=ids["A"], body="x")
    assert viewer.value.status == 403
    with pytest.raises(Forbidden):
        d.activities.add(p["sales2"], kind="call", customer=ids["A"], body="x")
    # A sales rep comments on any document they can read; its customer is the document's.
    c = d.activities.comment(p["sales2"], ids["doc"], "价格偏高")
    assert c["kind"] == "comment" and c["customer"]["id"] == ids["A"]
    f = d.activities.add(p["finance1"], kind="note", customer=ids["B"], body="回款延迟")
    assert f["confidentiality"] == "finance"
    assert d.activities.list(p["sales2"])["total"] == 1  # the comment; not finance's note
    assert d.activities.list(p["finance1"])["total"] == 2
    assert d.activities.list(p["viewer1"])["total"] == 0


def test_comment_follows_its_document(home, admin) -> None:  # type: ignore[no-untyped-def]
    from records import Activity

    d, ids, p = home["d"], home["ids"], home["p"]
    c = d.activities.comment(p["manager1"], ids["doc"], "报价需复核")
    assert d.search(SearchRequest("复核"), admin)["total"] == 1
    d.documents.update(ids["doc"], admin, confidentiality="finance")
    with d.sessions() as session:  # a comment is at least as strict as its document
        assert session.get(Activity, c["id"]).confidentiality == "finance"
    assert d.search(SearchRequest("复核"), home["p"]["sales1"])["total"] == 0
    d.trash.trash(ids["doc"], admin)
    assert d.search(SearchRequest("复核"), admin)["total"] == 0
    assert d.activities.list(admin)["total"] == 0
    report = d.integrity.check()
    assert not [f for f in report.problems if "activity" in f.subject]
    d.trash.restore(ids["doc"], admin)
    assert d.search(SearchRequest("复核"), admin)["total"] == 1
    with d.sessions() as session:
        assert session.get(Activity, c["id"]) is not None
    assert activity_entry_id(c["id"]) in set(d.resources.backend.entry_ids())
