"""Reminders (提醒): adding, snoozing, completing, reopening, reassigning, cancelling, deleting, listing.

One data home per module (tests/_reminders.py); each test makes the reminders it looks at and
tells them apart by title, so the tests do not depend on one another's order.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from foundation.errors import DossierError, Forbidden, NotFound
from index import Principal
from records import AuditEvent, Reminder
from tests._reminders import CUSTOMERS, UNOWNED, build, doc_id, principal

TODAY = date.today()


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    built = build(tmp_path_factory.mktemp("reminders"), {})
    yield built
    built["dossier"].close()


@pytest.fixture(scope="module")
def d(home):
    return home["dossier"]


def _title(prefix: str = "跟进") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _day(n: int) -> str:
    return (TODAY + timedelta(days=n)).isoformat()


def _count(d) -> int:  # type: ignore[no-untyped-def]
    with d.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Reminder)) or 0)


def _audit(d, action: str, reminder_id: int) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with d.sessions() as session:
        rows = list(
            session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == action, AuditEvent.target_id == str(reminder_id)
                )
            )
        )
        session.expunge_all()
        return rows


# -- adding -------------------------------------------------------------------------------------------


def test_a_rep_adds_a_reminder_for_themselves_with_customer_and_document(home, d):
    rep = principal(home, "sales1")
    title = _title()
    item = d.reminders.add(
        rep,
        title,
        _day(5),
        customer=CUSTOMERS["A"][0],
        document=doc_id(home, "confidential", "A"),
        note="带报价",
    )
    assert item["owner"] == "sales1" and item["status"] == "open" and item["source"] == "manual"
    assert item["due_on"] == item["remind_on"] == _day(5)
    assert item["customer"] == {"id": home["customers"]["A"], "name": CUSTOMERS["A"][0]}
    assert item["document"]["title"] == "合同_confidential_A"
    assert item["confidentiality"] == "confidential"  # the document's level by default
    assert item["overdue"] is False and item["days_overdue"] == 0 and item["note"] == "带报价"
    assert d.reminders.get(item["id"], rep) == item
    events = _audit(d, "reminder_add", item["id"])
    assert len(events) == 1 and events[0].username == "sales1" and events[0].detail["title"] == title


def test_customer_by_id_alias_and_document_customer(home, d):
    manager = principal(home, "manager1")
    by_id = d.reminders.add(manager, _title(), _day(1), customer=str(home["customers"]["B"]))
    by_alias = d.reminders.add(manager, _title(), _day(1), customer="远航")
    from_doc = d.reminders.add(manager, _title(), _day(1), document=doc_id(home, "internal", "B"))
    assert by_id["customer"]["name"] == CUSTOMERS["B"][0]
    assert by_alias["customer"]["name"] == UNOWNED
    assert from_doc["customer"]["name"] == CUSTOMERS["B"][0]
    assert by_id["owner"] == "manager1"


def test_dates_in_chinese_and_full_width_forms(home, d):
    rep = principal(home, "sales1")
    assert d.reminders.add(rep, _title(), "2027年3月1日")["due_on"] == "2027-03-01"
    assert d.reminders.add(rep, _title(), "２０２７-０３-０２")["due_on"] == "2027-03-02"
    assert d.reminders.add(rep, _title(), "2027/3/3")["due_on"] == "2027-03-03"
    assert d.reminders.add(rep, _title(), "3月4日")["due_on"] == f"{TODAY.year}-03-04"


@pytest.mark.parametrize(
    ("changes", "error", "needle"),
    [
        ({"due": "2026-02-30"}, DossierError, "2026-02-30"),
        ({"due": "2月30日"}, DossierError, "2月30日"),
        ({"due": "next week"}, DossierError, "next week"),
        ({"due": ""}, DossierError, "due date"),
        ({"customer": "没有这家公司"}, NotFound, "没有这家公司"),
        ({"customer": "99999"}, NotFound, "99999"),
        ({"owner": "gone"}, DossierError, "该用户已停用"),
        ({"owner": "ghost"}, NotFound, "ghost"),
        ({"title": "   "}, DossierError, "title"),
        ({"title": "长" * 201}, DossierError, "at most 200"),
        ({"note": "x" * 2001}, DossierError, "at most 2000"),
        ({"confidentiality": "secret"}, DossierError, "secret"),
        ({"document": "abc"}, NotFound, "abc"),
    ],
)
def test_bad_input_is_refused_clearly_and_nothing_is_written(home, d, changes, error, needle):
    manager = principal(home, "manager1")
    args = {"title": _title(), "due": _day(3), **changes}
    before = _count(d)
    with pytest.raises(error) as caught:
        d.reminders.add(manager, args.pop("title"), args.pop("due"), **args)
    assert needle in str(caught.value)
    assert caught.value.status in (400, 404)
    assert _count(d) == before


def test_a_document_in_the_trash_or_unreadable_is_not_found_for_the_creator(home, d):
    rep = principal(home, "sales1")
    before = _count(d)
    for doc in (home["trashed"], doc_id(home, "confidential", "B"), doc_id(home, "finance", "A"), 999999):
        with pytest.raises(NotFound) as caught:
            d.reminders.add(rep, _title(), _day(2), document=doc)
        assert "合同" not in str(caught.value)  # the title never shows
    assert _count(d) == before


def test_a_document_the_owner_cannot_read_is_refused(home, d):
    manager = principal(home, "manager1")
    before = _count(d)
    with pytest.raises(DossierError) as caught:
        d.reminders.add(
            manager, _title(), _day(2), owner="sales2", document=doc_id(home, "confidential", "A")
        )
    assert caught.value.status == 400 and "sales2" in str(caught.value)
    assert "合同" not in str(caught.value)
    assert _count(d) == before


def test_who_may_add_and_assign(home, d):
    with pytest.raises(Forbidden):
        d.reminders.add(principal(home, "viewer1"), _title(), _day(1))
    with pytest.raises(Forbidden):
        d.reminders.add(principal(home, "sales1"), _title(), _day(1), owner="sales2")
    finance = d.reminders.add(principal(home, "finance1"), _title(), _day(1))
    assert finance["owner"] == "finance1"
    assigned = d.reminders.add(principal(home, "manager1"), _title(), _day(1), owner="sales2")
    assert assigned["owner"] == "sales2" and assigned["created_by"] == "manager1"


# -- changing ----------------------------------------------------------------------------------------


def test_snooze_moves_remind_on_and_keeps_due_on(home, d):
    rep = principal(home, "sales1")
    item = d.reminders.add(rep, _title(), _day(-3))
    assert item["overdue"] and item["days_overdue"] == 3
    snoozed = d.reminders.snooze(item["id"], rep, days=2)
    assert snoozed["remind_on"] == _day(2) and snoozed["due_on"] == _day(-3)
    until = d.reminders.snooze(item["id"], rep, until=_day(9))
    assert until["remind_on"] == _day(9)
    assert d.reminders.snooze(item["id"], rep, until=TODAY.isoformat())["remind_on"] == TODAY.isoformat()
    events = _audit(d, "reminder_snooze", item["id"])
    assert [e.detail["after"] for e in events] == [_day(2), _day(9), TODAY.isoformat()]


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"until": "2020-01-01"}, "before today"),
        ({"until": "2027-02-30"}, "2027-02-30"),
        ({"days": 0}, "between 1 and"),
        ({"days": -5}, "between 1 and"),
        ({"days": 99999}, "between 1 and"),
        ({}, "either"),
        ({"days": 3, "until": "2030-01-01"}, "either"),
    ],
)
def test_bad_snoozes_are_refused(home, d, kwargs, needle):
    rep = principal(home, "sales1")
    item = d.reminders.add(rep, _title(), _day(4))
    with pytest.raises(DossierError) as caught:
        d.reminders.snooze(item["id"], rep, **kwargs)
    assert caught.value.status == 400 and needle in str(caught.value)
    assert d.reminders.get(item["id"], rep)["remind_on"] == _day(4)


def test_done_reopen_cancel_delete_with_audit(home, d):
    rep = principal(home, "sales1")
    item = d.reminders.add(rep, _title(), _day(1))
    done = d.reminders.done(item["id"], rep)
    assert done["status"] == "done" and done["done_by"] == "sales1" and done["done_at"]
    with pytest.raises(DossierError, match="reopen it first"):
        d.reminders.done(item["id"], rep)
    with pytest.raises(DossierError, match="reopen it first"):
        d.reminders.snooze(item["id"], rep, days=1)
    reopened = d.reminders.reopen(item["id"], rep)
    assert reopened["status"] == "open" and reopened["done_at"] is None
    with pytest.raises(DossierError, match="still open"):
        d.reminders.reopen(item["id"], rep)
    assert d.reminders.cancel(item["id"], rep)["status"] == "cancelled"
    assert d.reminders.delete(item["id"], rep) == {"deleted": item["id"]}
    with pytest.raises(NotFound):
        d.reminders.get(item["id"], rep)
    for action in ("reminder_done", "reminder_reopen", "reminder_cancel", "reminder_delete"):
        assert len(_audit(d, action, item["id"])) == 1, action


def test_who_may_change_a_reminder(home, d):
    manager = principal(home, "manager1")
    item = d.reminders.add(manager, _title(), _day(1), owner="sales1", confidentiality="internal")
    # sales2 and finance1 see it (internal) but neither own nor made it
    for name in ("sales2", "finance1"):
        assert d.reminders.get(item["id"], principal(home, name))["id"] == item["id"]
        with pytest.raises(Forbidden):
            d.reminders.done(item["id"], principal(home, name))
    assert d.reminders.snooze(item["id"], principal(home, "sales1"), days=1)["remind_on"] == _day(1)
    assert d.reminders.done(item["id"], principal(home, "admin"))["done_by"] == "admin"


def test_reassign(home, d):
    manager = principal(home, "manager1")
    item = d.reminders.add(manager, _title(), _day(2), owner="sales1", document=doc_id(home, "internal", "A"))
    moved = d.reminders.reassign(item["id"], manager, "sales2")
    assert moved["owner"] == "sales2"
    event = _audit(d, "reminder_reassign", item["id"])[0]
    assert (event.detail["before"], event.detail["after"]) == ("sales1", "sales2")
    with pytest.raises(Forbidden):
        d.reminders.reassign(item["id"], principal(home, "sales2"), "sales1")  # its owner, but not a manager
    with pytest.raises(DossierError, match="该用户已停用"):
        d.reminders.reassign(item["id"], manager, "gone")
    with pytest.raises(NotFound):
        d.reminders.reassign(item["id"], manager, "ghost")
    secret = d.reminders.add(
        manager, _title(), _day(2), owner="sales1", document=doc_id(home, "confidential", "A")
    )
    with pytest.raises(DossierError) as caught:
        d.reminders.reassign(secret["id"], manager, "sales2")
    assert caught.value.status == 400 and "合同" not in str(caught.value)
    assert d.reminders.get(secret["id"], manager)["owner"] == "sales1"  # unchanged
    with pytest.raises(NotFound):  # one who cannot see it learns nothing
        d.reminders.reassign(secret["id"], principal(home, "sales2"), "sales2")


# -- listing -----------------------------------------------------------------------------------------


def test_list_mine_team_due_soon_and_overdue(home, d):
    manager = principal(home, "manager1")
    tag = uuid.uuid4().hex[:6]
    late = d.reminders.add(manager, f"逾期-{tag}", _day(-4), owner="sales2")
    soon = d.reminders.add(manager, f"快到-{tag}", _day(3), owner="sales2")
    later = d.reminders.add(manager, f"以后-{tag}", _day(40), owner="sales2")
    nobody = d.reminders.add(Principal.system(), f"无人-{tag}", _day(1))  # the operator, no account: no owner

    def titles(items):  # type: ignore[no-untyped-def]
        return [i["title"] for i in items if tag in i["title"]]

    rep = principal(home, "sales2")
    assert titles(d.reminders.list(rep)) == [f"逾期-{tag}", f"快到-{tag}", f"以后-{tag}"]
    assert titles(d.reminders.list(rep, due_within=7)) == [f"逾期-{tag}", f"快到-{tag}"]
    assert titles(d.reminders.list(rep, due_within=7, include_overdue=False)) == [f"快到-{tag}"]
    mine = {i["title"]: i for i in d.reminders.list(rep)}
    assert mine[f"逾期-{tag}"]["overdue"] and mine[f"逾期-{tag}"]["days_overdue"] == 4
    assert not mine[f"快到-{tag}"]["overdue"]
    # the manager's own list does not hold them; the team's does, with owners
    assert titles(d.reminders.list(manager)) == []
    team = {i["title"]: i for i in d.reminders.list(manager, team=True) if tag in i["title"]}
    assert team[f"逾期-{tag}"]["owner"] == "sales2" and team[f"无人-{tag}"]["owner"] is None
    assert titles(d.reminders.list(manager, owner="unassigned")) == [f"无人-{tag}"]
    assert titles(d.reminders.list(manager, owner="sales2", due_within=0)) == [f"逾期-{tag}"]
    d.reminders.done(soon["id"], rep)
    assert titles(d.reminders.list(rep, status="done")) == [f"快到-{tag}"]
    assert len(titles(d.reminders.list(rep, status="all"))) == 3
    assert late["id"] and later["id"] and nobody["id"]


def test_list_by_customer_and_bad_filters(home, d):
    manager = principal(home, "manager1")
    item = d.reminders.add(manager, _title("客户"), _day(1), customer=UNOWNED)
    found = d.reminders.list(manager, customer=UNOWNED, team=True)
    assert item["id"] in [i["id"] for i in found]
    assert {i["customer"]["name"] for i in found} == {UNOWNED}
    with pytest.raises(NotFound):
        d.reminders.list(manager, customer="没有这家公司")
    with pytest.raises(NotFound):
        d.reminders.list(manager, owner="ghost")
    with pytest.raises(DossierError, match="Unknown status"):
        d.reminders.list(manager, status="later")
    with pytest.raises(DossierError):
        d.reminders.list(manager, due_within=-1)


def test_a_reminder_whose_document_is_trashed_is_hidden_from_everyone(home, d):
    from records import Document, utcnow

    manager = principal(home, "manager1")
    target = doc_id(home, "public", "B")
    item = d.reminders.add(manager, _title("废"), _day(1), owner="sales2", document=target)
    with d.sessions() as session:
        doc = session.get(Document, target)
        doc.trashed_at = utcnow()
        session.commit()
    try:
        for name in ("admin", "manager1", "sales2"):
            who = principal(home, name)
            with pytest.raises(NotFound):
                d.reminders.get(item["id"], who)
            assert item["id"] not in [i["id"] for i in d.reminders.list(who, team=True, status="all")]
            with pytest.raises(NotFound):
                d.reminders.done(item["id"], who)
    finally:
        with d.sessions() as session:
            session.get(Document, target).trashed_at = None
            session.commit()
    assert d.reminders.get(item["id"], manager)["document"]["id"] == target
