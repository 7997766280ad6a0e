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
    with pytest.raises(DossierError) as unreadable:  # a level its author could not read back
        d.activities.add(p["sales1"], kind="note", customer=ids["A"], body="x", confidentiality="finance")
    assert unreadable.value.status == 400 and "finance" in str(unreadable.value)
    mine = d.activities.add(
        p["sales1"], kind="note", customer=ids["A"], body="机密备注", confidentiality="confidential"
    )
    assert mine["confidentiality"] == "confidential"
    f = d.activities.add(p["finance1"], kind="note", customer=ids["B"], body="回款延迟")
    assert f["confidentiality"] == "finance"
    assert (
        d.activities.list(p["sales2"])["total"] == 1
    )  # the comment; not finance's note nor sales1's confidential
    assert d.activities.list(p["sales1"])["total"] == 2
    assert d.activities.list(p["finance1"])["total"] == 2  # the comment and their note
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


def test_reindex_and_check_know_activity_entries(home, admin) -> None:  # type: ignore[no-untyped-def]
    d, ids, p = home["d"], home["ids"], home["p"]
    call = d.activities.add(p["sales1"], kind="call", customer=ids["A"], body="重建索引测试")
    entry = activity_entry_id(call["id"])
    d.reindex()  # the whole index: activities come back too
    assert entry in set(d.resources.backend.entry_ids())
    assert d.search(SearchRequest("重建索引测试"), admin)["total"] == 1
    d.resources.backend.delete([entry])
    report = d.integrity.check()
    missing = [f for f in report.problems if f.kind == "index_missing"]
    assert [f.subject for f in missing] == [f"activity {call['id']}"]
    repaired = d.integrity.check(repair=True)
    assert all(f.repaired for f in repaired.problems if f.kind == "index_missing")
    assert d.search(SearchRequest("重建索引测试"), admin)["total"] == 1


def test_merge_moves_activities_and_erasure_removes_comments(home, admin) -> None:  # type: ignore[no-untyped-def]
    from records import Activity, Customer

    d, ids, p = home["d"], home["ids"], home["p"]
    with d.sessions() as session:
        suggested = Customer(name="明远科技杭州分公司", aliases=[], contacts=[], status="suggested")
        session.add(suggested)
        session.commit()
        suggested_id = suggested.id
    moved = d.activities.add(p["manager1"], kind="visit", customer=suggested_id, body="合并前的拜访")
    d.customers.merge(suggested_id, ids["A"], admin)
    with d.sessions() as session:
        assert session.get(Activity, moved["id"]).customer_id == ids["A"]
    hit = d.search(SearchRequest("合并前的拜访"), admin)["hits"][0]
    assert hit["customer_id"] == ids["A"] and hit["customer"] == "杭州明远科技有限公司"
    remark = d.activities.comment(p["manager1"], ids["doc"], "将被销毁的评论")
    d.trash.trash(ids["doc"], admin)
    d.trash.purge(admin, confirm=True)
    with d.sessions() as session:
        assert session.get(Activity, remark["id"]) is None
    assert activity_entry_id(remark["id"]) not in set(d.resources.backend.entry_ids())
    assert d.search(SearchRequest("将被销毁的评论"), admin)["total"] == 0


def test_exports_write_activity_rows(home, admin) -> None:  # type: ignore[no-untyped-def]
    import csv
    import io
    import json
    import zipfile

    d, ids, p = home["d"], home["ids"], home["p"]
    call = d.activities.add(
        p["sales1"], kind="call", customer=ids["A"], subject="导出测试", body="导出的沟通记录"
    )
    request = SearchRequest("导出")
    _plan, chunks = d.exports.stream(request, admin, "csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))
    assert [(r["编号 id"], r["记录类型 kind"], r["文档类型 type"]) for r in rows] == [
        (str(call["id"]), "电话", "沟通记录")
    ]
    _plan, chunks = d.exports.stream(request, admin, "jsonl")
    line = json.loads(b"".join(chunks).decode())
    assert (line["id"], line["activity"], line["kind"], line["title"]) == (0, call["id"], "call", "导出测试")
    _plan, chunks = d.exports.stream(request, admin, "xlsx")
    assert b"".join(chunks)[:2] == b"PK"
    _plan, chunks = d.exports.stream(request, admin, "zip")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(chunks)))
    assert sorted(archive.namelist()) == ["manifest.csv", "manifest.json"]  # no file for an activity
    manifest = json.loads(archive.read("manifest.json"))
    entry = manifest["files"][0]
    assert entry["activity"] == call["id"] and entry["path"] is None and "没有原文件" in entry["status"]
    assert (manifest["count"], manifest["missing"], manifest["activities"]) == (0, 0, 1)


def test_index_customer_activities_follows_customer_fields(home, admin) -> None:  # type: ignore[no-untyped-def]
    """When a customer's fields change, index_customer_activities re-indexes its activities with them."""
    from pipeline.indexing import index_customer_activities
    from records import Customer

    d, ids, p = home["d"], home["ids"], home["p"]
    made = d.activities.add(p["manager1"], kind="note", customer=ids["B"], body="行业变更测试")
    request = SearchRequest("", industries=("制造",), activities="only")
    assert d.search(request, admin)["total"] == 0
    with d.sessions() as session:
        session.get(Customer, ids["B"]).industry = "制造业"
        assert index_customer_activities(session, d.resources.backend, [ids["B"]]) == 1
        session.commit()
    assert [h["activity"] for h in d.search(request, admin)["hits"]] == [made["id"]]
