"""Bulk edit (``Dossier.bulk``): plan and apply one change to many documents, through the single-edit paths."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dossier.app.bulk import BulkChange
from dossier.app.search_request import search_request
from foundation.errors import DossierError, Forbidden
from records import AuditEvent, Document
from tests._bulk_home import build, find, principal


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    built = build(tmp_path_factory.mktemp("bulk"), {})
    yield built
    built["dossier"].close()


def _doc(home, doc_id):  # type: ignore[no-untyped-def]
    with home["dossier"].sessions() as session:
        doc = session.get(Document, doc_id)
        return {
            "type": doc.doc_type,
            "tags": [t.name for t in doc.tags],
            "level": doc.confidentiality,
            "customer_id": doc.customer_id,
            "archived": doc.archived_at is not None,
        }


def _events(home, doc_id, action):  # type: ignore[no-untyped-def]
    with home["dossier"].sessions() as session:
        return session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == action,
                AuditEvent.target_type == "document",
                AuditEvent.target_id == doc_id,
            )
        ).all()


def test_a_change_is_read_from_form_or_json_fields():
    """Types by code or label, tags comma-separated (also ，、) or listed; nothing to change is a 400."""
    change = BulkChange.from_values(
        {"doc_type": "合同", "add_tags": "重点，华东、 二季度", "remove_tags": ["旧"]}
    )
    assert change.doc_type == "contract"
    assert change.add_tags == ("重点", "华东", "二季度") and change.remove_tags == ("旧",)
    for bad in (
        {},
        {"doc_type": "nosuch"},
        {"confidentiality": "secret"},
        {"archive": "x"},
        {"customer_id": "a"},
    ):
        with pytest.raises(DossierError) as err:
            BulkChange.from_values(bad)
        assert err.value.status == 400


def test_sales_change_only_the_documents_they_may_edit_and_the_plan_says_why_others_are_skipped(home):
    """sales1 selects everything: their customer's readable documents change, the rest are skipped with reasons."""
    d = home["dossier"]
    sales1 = principal(home, "sales1")
    ids = list(home["docs"])
    change = d.bulk.change({"doc_type": "contract", "add_tags": "批量甲"})
    plan = d.bulk.plan(ids, change, sales1)
    own = {find(home, lv, "A") for lv in ("public", "internal", "confidential")}
    assert set(plan["change"]) == own
    assert plan["counts"] == {
        "not_found": 3,
        "no_edit_right": 3,
    }  # A finance, B confidential+finance; B pub/int, no-customer
    hidden = [s for s in plan["skipped"] if s["reason"] == "not_found"]
    assert all(s["title"] == "" for s in hidden)  # nothing about what may not be read
    before = {i: _doc(home, i) for i in ids}
    result = d.bulk.apply(ids, change, sales1)
    assert set(result["changed"]) == own
    for doc_id in ids:
        after = _doc(home, doc_id)
        if doc_id in own:
            assert after["type"] == "contract" and "批量甲" in after["tags"]
            events = _events(home, doc_id, "metadata_change")
            assert (
                len([e for e in events if e.detail.get("bulk")]) == 1
            )  # one audit event per document changed
        else:
            assert after == before[doc_id]
    # The index follows: the new type and tag find exactly the changed documents (as admin).
    admin = principal(home, "admin")
    hits = d.search(
        search_request({"q": ["季度报告"], "tag": ["批量甲"], "type": ["contract"]}, limit=50), admin
    )
    assert {h["id"] for h in hits["hits"]} == own


def test_applying_again_changes_nothing_and_says_they_already_are_so(home):
    """A second identical bulk edit reports the documents as unchanged and writes no audit event."""
    d = home["dossier"]
    manager = principal(home, "manager1")
    doc_id = find(home, "public", "B")
    change = d.bulk.change({"add_tags": "批量乙"})
    assert d.bulk.apply([doc_id], change, manager)["changed"] == [doc_id]
    count = len(_events(home, doc_id, "metadata_change"))
    again = d.bulk.apply([doc_id], change, manager)
    assert again["changed"] == [] and again["unchanged"] == [doc_id]
    assert len(_events(home, doc_id, "metadata_change")) == count
    assert (
        "批量乙"
        not in _doc(
            home, d.bulk.apply([doc_id], d.bulk.change({"remove_tags": "批量乙"}), manager)["changed"][0]
        )["tags"]
    )


def test_level_and_archive_take_a_manager(home):
    """A sales rep asking for a level change or archiving is refused outright; viewers cannot bulk-edit at all."""
    d = home["dossier"]
    ids = list(home["docs"])
    for values in ({"confidentiality": "internal"}, {"archive": "archive"}):
        with pytest.raises(Forbidden):
            d.bulk.plan(ids, d.bulk.change(values), principal(home, "sales1"))
    with pytest.raises(Forbidden):
        d.bulk.plan(ids, d.bulk.change({"doc_type": "quote"}), principal(home, "viewer1"))


def test_a_manager_links_a_customer_sets_the_level_and_archives_a_search(home):
    """All hits of a search: primary customer set (a manual link), level set, then archived; archived ones are
    read-only for later edits until a bulk unarchive."""
    d = home["dossier"]
    manager = principal(home, "manager1")
    no_customer = find(home, "internal", None)
    request = search_request({"q": ["季度报告"], "customer_id": []}, limit=1)
    ids = d.bulk.select(manager, request=request)
    assert set(ids) == set(home["docs"])
    target = [no_customer]
    change = d.bulk.change(
        {"customer": "上海澄明集团股份有限公司", "confidentiality": "confidential", "archive": "archive"}
    )
    result = d.bulk.apply(target, change, manager)
    assert result["changed"] == target
    after = _doc(home, no_customer)
    assert after == {
        **after,
        "customer_id": home["customers"]["B"],
        "level": "confidential",
        "archived": True,
    }
    assert len(_events(home, no_customer, "permission_change")) == 1
    assert len(_events(home, no_customer, "archive")) == 1
    # sales2 owns customer B now linked: the confidential document is theirs to read.
    assert no_customer in {
        h["id"]
        for h in d.search(
            search_request({"q": ["季度报告"], "archived": ["only"]}, limit=50), principal(home, "sales2")
        )["hits"]
    }
    blocked = d.bulk.plan(target, d.bulk.change({"doc_type": "quote"}), manager)
    assert blocked["counts"] == {"archived": 1}
    back = d.bulk.apply(target, d.bulk.change({"doc_type": "quote", "archive": "unarchive"}), manager)
    assert back["changed"] == target and _doc(home, no_customer)["type"] == "quote"
    assert not _doc(home, no_customer)["archived"]


def test_a_sales_rep_links_only_customers_they_own(home):
    """sales1 may link their documents to their own customer, not to sales2's."""
    d = home["dossier"]
    sales1 = principal(home, "sales1")
    doc_id = find(home, "public", "A")
    plan = d.bulk.plan([doc_id], d.bulk.change({"customer": "上海澄明集团股份有限公司"}), sales1)
    assert plan["counts"] == {"customer_forbidden": 1}
    with pytest.raises(DossierError) as err:
        d.bulk.change({"customer": "没有这个客户"})
    assert err.value.status == 400


def test_selections_are_capped_and_never_empty(home, monkeypatch):
    """Nothing selected is a 400; more than the limit is a 400 saying the limit."""
    d = home["dossier"]
    admin = principal(home, "admin")
    with pytest.raises(DossierError) as err:
        d.bulk.select(admin, ids=[])
    assert err.value.status == 400
    monkeypatch.setattr(d.bulk, "_max_hits", 3)
    assert d.bulk.limit() == 3
    with pytest.raises(DossierError) as err:
        d.bulk.select(admin, request=search_request({"q": ["季度报告"]}, limit=1))
    assert err.value.status == 400 and "3" in err.value.text("en")
