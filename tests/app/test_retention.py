"""Retention and destruction (issue 15): rules, legal holds, the two-person rule, the daily run, resuming.

Documents come through the real intake (a small text file each); dates are set on the records
the way intake or a person would, and the run is given its "now".
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from dossier.app._retention import format_days, parse_duration
from foundation.errors import DossierError, Forbidden
from index import Principal
from records import Customer, Destruction, Document, DocumentPart, User, hash_password
from tests.app.test_erasure import canary, files_holding, write_note
from tests.conftest import all_at_once, audit_events

ADMIN = Principal("admin", "admin")
BOSS = Principal("boss", "manager")
CHIEF = Principal("chief", "manager")
NOT_MANAGERS = [
    Principal("sales1", "sales"),
    Principal("viewer1", "viewer"),
    Principal("finance1", "finance"),
]


@pytest.fixture
def home(dossier, tmp_path):
    """The conftest Dossier with three notes ingested (ids in order) and two managers."""
    paths = [write_note(tmp_path / f"in{i}", canary(), name=f"note{i}.txt") for i in range(3)]
    summary = dossier.ingest_paths(paths)
    ids = [doc["id"] for doc in summary["documents"]]
    with dossier.sessions() as session:
        for name in ("boss", "chief"):
            session.add(User(username=name, role="manager", password_hash=hash_password("x-Passw0rd-long")))
        session.commit()
    return dossier, ids


def set_doc(d, doc_id: int, **values) -> None:  # type: ignore[no-untyped-def]
    with d.sessions() as session:
        doc = session.get(Document, doc_id)
        for key, value in values.items():
            setattr(doc, key, value)
        session.commit()


def test_a_period_past_what_dates_hold_is_refused():
    """9999y would put a due date past year 9999 and break every daily run: refused with the limit instead."""
    from dossier.app._retention import parse_duration

    assert parse_duration("200y") == 200 * 365
    for text in ("201y", "9999y", "9999m"):
        with pytest.raises(DossierError, match="200"):
            parse_duration(text)


def test_durations_read_and_print_alike():
    """30y, 6m and 90d are days; anything else is refused with the forms to use."""
    assert parse_duration("30y") == 30 * 365 and parse_duration("6m") == 180 and parse_duration(" 90d ") == 90
    assert format_days(30 * 365) == "30y" and format_days(180) == "6m" and format_days(7) == "7d"
    for bad in ("", "3 weeks", "0d", "y"):
        with pytest.raises(DossierError, match="30y"):
            parse_duration(bad)


def test_rules_are_checked(home):
    """Unknown types, a rule that does nothing, destruction before archiving and a repeated name are refused."""
    d, _ = home
    r = d.retention
    with pytest.raises(DossierError, match="one of"):
        r.add_rule(BOSS, name="x", doc_type="memo", destroy_after="1y")
    with pytest.raises(DossierError, match="prospect"):
        r.add_rule(BOSS, name="x", customer_type="big", destroy_after="1y")
    with pytest.raises(DossierError, match="archive period, a destruction period"):
        r.add_rule(BOSS, name="x", doc_type="invoice")
    with pytest.raises(DossierError, match="before the archive period"):
        r.add_rule(BOSS, name="x", archive_after="5y", destroy_after="2y")
    rule = r.add_rule(
        BOSS,
        name="lost quotes",
        doc_type="quote",
        customer_type="lost",
        archive_after="2y",
        destroy_after="5y",
    )
    assert (
        rule["customer_type"] == "流失客户"
        and rule["archive_after"] == "2y"
        and rule["destroy_after"] == "5y"
    )
    with pytest.raises(DossierError, match="exists already"):
        r.add_rule(ADMIN, name="lost quotes", destroy_after="1y")
    for who in NOT_MANAGERS:
        with pytest.raises(Forbidden):
            r.add_rule(who, name="y", destroy_after="1y")
    assert [x["name"] for x in r.rules()] == ["lost quotes"]
    r.remove_rule(rule["id"], ADMIN)
    assert r.rules() == [] and len(audit_events(d, "retention_rule_remove")) == 1


def test_the_daily_run_archives_and_proposes_what_is_due(home):
    """A document past its archive date is archived and reindexed; past its destruction date it is proposed,
    once; the longest of two covering rules wins; customer types, trashed and held documents count."""
    d, (old, recent, lost) = home
    with d.sessions() as session:
        customer = Customer(name="流失测试有限公司", customer_type="流失客户")
        session.add(customer)
        session.commit()
        customer_id = customer.id
    set_doc(d, old, doc_type="invoice", doc_date="2010-03-01")
    set_doc(d, recent, doc_type="invoice", doc_date="2024-03-01")
    set_doc(d, lost, doc_type="quote", doc_date="2019-01-01", customer_id=customer_id)
    d.retention.add_rule(BOSS, name="invoices", doc_type="invoice", archive_after="2y", destroy_after="10y")
    d.retention.add_rule(BOSS, name="invoices long", doc_type="invoice", destroy_after="15y")
    d.retention.add_rule(
        BOSS, name="lost quotes", customer_type="流失客户", archive_after="2y", destroy_after="5y"
    )
    now = datetime(2026, 6, 1)

    result = d.retention.run(now=now)

    assert sorted(result["archived"]) == sorted([old, recent, lost])
    queue = {row["document_id"]: row for row in d.retention.queue()}
    assert set(queue) == {old, lost}  # 2010 + 15y = 2025 is due; 2024 + 10y is not
    assert queue[old]["rule"] == "invoices long" and queue[old]["proposed_by"] == "retention:invoices long"
    assert queue[lost]["rule"] == "lost quotes" and queue[lost]["status"] == "proposed"
    with d.sessions() as session:
        assert session.get(Document, old).archived_by == "retention"

    again = d.retention.run(now=now)
    assert again == {"archived": [], "proposed": [], "destroyed": []}

    # A held customer stops the rules; a trashed document is skipped.
    d.retention.set_hold(BOSS, customer="流失测试有限公司", reason="诉讼")
    set_doc(d, recent, trashed_at=now)
    later = d.retention.run(now=now + timedelta(days=4000))
    assert later["proposed"] == [] and len(d.retention.queue()) == 2


def test_two_people_destroy_and_the_certificate_stays(home):
    """The proposer cannot approve; another manager can; the destruction certificate names everyone and every file."""
    d, (doc_id, other, _) = home
    with d.sessions() as session:
        sha = session.get(Document, doc_id).current.sha256
    for who in NOT_MANAGERS:
        with pytest.raises(Forbidden):
            d.retention.propose(doc_id, who)
    row = d.retention.propose(doc_id, BOSS, reason="客户要求删除")
    with pytest.raises(DossierError, match="already in the destruction queue"):
        d.retention.propose(doc_id, CHIEF)
    with pytest.raises(Forbidden, match="two-person"):
        d.retention.approve(row["id"], BOSS)
    for who in NOT_MANAGERS:
        with pytest.raises(Forbidden):
            d.retention.approve(row["id"], who)

    done = d.retention.approve(row["id"], CHIEF)

    assert done["status"] == "destroyed" and done["decided_by"] == "chief" and done["destroyed_at"]
    with d.sessions() as session:
        assert session.get(Document, doc_id) is None and session.get(Document, other) is not None
    [cert] = audit_events(d, "destruction")
    assert cert.detail["document_id"] == doc_id and cert.detail["files"] == [
        {"filename": "note0.txt", "sha256": sha}
    ]
    assert cert.detail["proposed_by"] == "boss" and cert.detail["approved_by"] == "chief"
    assert cert.detail["destroyed_at"] and cert.detail["rule"] is None
    with pytest.raises(DossierError, match="not waiting for approval"):
        d.retention.approve(row["id"], ADMIN)


def test_a_legal_hold_blocks_proposal_approval_and_execution(home):
    """A hold on the document refuses a proposal; a hold set after the proposal refuses its approval; released, it goes."""
    d, (doc_id, _, _) = home
    d.retention.set_hold(BOSS, document_id=doc_id, reason="审计")
    assert d.retention.is_held(doc_id) and d.retention.holds()[0]["reason"] == "审计"
    with pytest.raises(Forbidden, match="legal hold"):
        d.retention.propose(doc_id, BOSS)
    for who in NOT_MANAGERS:
        with pytest.raises(Forbidden):
            d.retention.set_hold(who, document_id=doc_id, hold=False)
    d.retention.set_hold(CHIEF, document_id=doc_id, hold=False)
    row = d.retention.propose(doc_id, BOSS)
    d.retention.set_hold(CHIEF, document_id=doc_id)
    assert d.retention.queue()[0]["held"] is True
    with pytest.raises(Forbidden, match="legal hold"):
        d.retention.approve(row["id"], CHIEF)
    d.retention.set_hold(ADMIN, document_id=doc_id, hold=False)
    assert d.retention.approve(row["id"], CHIEF)["status"] == "destroyed"
    assert [e.action for e in audit_events(d) if e.action.startswith("legal_hold")] == [
        "legal_hold", "legal_hold_release", "legal_hold", "legal_hold_release"
    ]  # fmt: skip


def test_rejected_and_cancelled_proposals(home):
    """Another manager's refusal is "rejected"; the proposer's own withdrawal is "cancelled"; neither destroys."""
    d, (a, b, _) = home
    first = d.retention.propose(a, BOSS)
    second = d.retention.propose(b, BOSS)
    assert d.retention.reject(first["id"], CHIEF, reason="仍需保留")["status"] == "rejected"
    assert d.retention.reject(second["id"], BOSS)["status"] == "cancelled"
    with d.sessions() as session:
        assert session.get(Document, a) is not None and session.get(Document, b) is not None


def test_reasons_are_cut_to_their_limit(home):
    """A reason typed into a proposal, a rejection or a hold is kept to MAX_REASON characters, not stored whole."""
    from dossier.app._retention import MAX_REASON

    d, (a, b, _) = home
    long = "理" * (MAX_REASON * 20)
    proposed = d.retention.propose(a, BOSS, reason=long)
    rejected = d.retention.reject(proposed["id"], CHIEF, reason=long + "拒")
    assert len(rejected["reason"]) == MAX_REASON
    d.retention.set_hold(BOSS, document_id=b, reason=long)
    with d.sessions() as session:
        assert len(session.get(Document, b).legal_hold_reason) == MAX_REASON


def test_an_interrupted_destruction_completes_on_the_next_run(home, tmp_path):
    """A destruction that stopped in "destroying" (the records half gone) is finished by the next run."""
    d, (doc_id, _, _) = home
    row = d.retention.propose(doc_id, BOSS)
    with d.sessions() as session:
        word = session.get(Document, doc_id).pages[0].text.split()[-2]
        session.execute(
            Destruction.__table__.update()
            .where(Destruction.id == row["id"])
            .values(status="destroying", decided_by="chief", decided_at=datetime(2026, 1, 1))
        )
        session.delete(session.get(Document, doc_id))  # the crash came after the records, before the blob
        session.commit()
    assert files_holding(d.settings.home, word)

    result = d.retention.run()

    assert result["destroyed"] == [row["id"]]
    assert files_holding(d.settings.home, word) == []
    with d.sessions() as session:
        assert session.scalars(select(Destruction)).one().status == "destroyed"
    assert len(audit_events(d, "destruction")) == 1


def test_parts_are_destroyed_with_their_container_only(home):
    """An attachment (a child) or a document included in another's original cannot be proposed alone: the
    container's original still holds its bytes; the message names the container."""
    d, (a, b, c) = home
    with d.sessions() as session:
        session.get(Document, b).parent_id = a
        session.add(DocumentPart(container_id=a, part_id=c, relation="attachment"))
        session.commit()
    with pytest.raises(DossierError, match=f"propose document {a}"):
        d.retention.propose(b, BOSS)
    with pytest.raises(DossierError, match=f"propose document {a}"):
        d.retention.propose(c, BOSS)
    row = d.retention.propose(a, BOSS)
    assert {f["document_id"] for f in row["files"]} == {a, b}
    d.retention.approve(row["id"], CHIEF)
    with d.sessions() as session:
        assert session.get(Document, b) is None and session.get(Document, c) is not None


def test_two_runs_at_once_propose_each_document_once(home):
    """Two daily runs at the same moment (two workers, or a worker and the CLI) archive and propose each due
    document exactly once."""
    d, ids = home
    for doc_id in ids:
        set_doc(d, doc_id, doc_date="2001-01-01")
    d.retention.add_rule(BOSS, name="old", archive_after="1y", destroy_after="10y")
    results = all_at_once(2, lambda _i: d.retention.run())
    assert sorted(i for r in results for i in r["archived"]) == sorted(ids)  # type: ignore[index]
    assert sorted(row["document_id"] for row in d.retention.queue()) == sorted(ids)
    assert len(audit_events(d, "destruction_propose")) == 3 and len(audit_events(d, "retention_archive")) == 3
