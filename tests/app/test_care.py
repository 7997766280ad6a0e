"""Customer care (客户关怀): DOSSIER_STALE_DAYS, the customers to contact, the daily care reminders."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event, select

from dossier.app._care import parse_stale_days
from foundation.errors import ConfigError
from records import Activity, AuditEvent, Document, Reminder
from tests._reminders import CUSTOMERS, build, principal
from tests.conftest import backend_home

TODAY = date.today()


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("30", {"*": 30}),
        (" 0 ", {"*": 0}),
        ("", {}),
        ("潜在=30,现有=60,流失=180", {"潜在客户": 30, "现有客户": 60, "流失客户": 180}),
        ("潜在客户=30，现有客户=60", {"潜在客户": 30, "现有客户": 60}),
        ("prospect=7, current = 14, lost=0", {"潜在客户": 7, "现有客户": 14, "流失客户": 0}),
    ],
)
def test_the_setting_is_one_number_or_one_per_customer_type(raw, want):
    assert parse_stale_days(raw) == want


@pytest.mark.parametrize("raw", ["abc", "-5", "潜在=x", "vip=30", "30,60", "潜在=30,=5", "3.5"])
def test_a_bad_setting_stops_with_a_message_naming_it(raw):
    with pytest.raises(ConfigError) as caught:
        parse_stale_days(raw)
    assert "DOSSIER_STALE_DAYS" in str(caught.value)


@pytest.fixture
def home(tmp_path):
    built = build(tmp_path, {}, stale_days="潜在=30,现有=60,流失=180")
    yield built
    built["dossier"].close()


def _names(items):  # type: ignore[no-untyped-def]
    return sorted(i["customer"]["name"] for i in items)


def test_stale_customers_by_type_and_by_who_looks(home):
    d = home["dossier"]
    a, b = CUSTOMERS["A"][0], CUSTOMERS["B"][0]
    later = TODAY + timedelta(days=61)
    assert _names(d.reminders.stale_customers(principal(home, "manager1"), later)) == sorted([a, b])
    assert _names(d.reminders.stale_customers(principal(home, "admin"), TODAY + timedelta(days=31))) == [b]
    assert _names(d.reminders.stale_customers(principal(home, "manager1"), TODAY + timedelta(days=29))) == []
    assert _names(d.reminders.stale_customers(principal(home, "sales1"), later)) == [a]
    assert _names(d.reminders.stale_customers(principal(home, "sales2"), later)) == [b]
    assert d.reminders.stale_customers(principal(home, "finance1"), later) == []
    assert d.reminders.stale_customers(principal(home, "viewer1"), later) == []
    row = d.reminders.stale_customers(principal(home, "sales1"), later)[0]
    assert row["days_silent"] == 61 and row["stale_days"] == 60 and row["owner"] == "sales1"
    assert row["last_activity"] == TODAY.isoformat()
    # the unowned 流失客户 turns up after 180 days, for managers only
    far = d.reminders.stale_customers(principal(home, "manager1"), TODAY + timedelta(days=181))
    assert len(far) == 3 and far[-1]["owner"] is None


def test_activities_and_new_documents_count_and_trashed_documents_do_not(home):
    d = home["dossier"]
    ids = home["customers"]
    later = TODAY + timedelta(days=61)
    # Asked first, so that the answers below also show the kept list follows every write.
    before = _names(d.reminders.stale_customers(principal(home, "manager1"), later))
    assert CUSTOMERS["A"][0] in before and CUSTOMERS["B"][0] in before
    with d.sessions() as session:
        session.add(
            Activity(
                kind="call",
                customer_id=ids["A"],
                occurred_at=datetime.combine(TODAY + timedelta(days=50), datetime.min.time()),
                author="sales1",
                subject="回访",
            )
        )
        doc = session.scalars(select(Document).where(Document.customer_id == ids["B"])).first()
        doc.created_at = datetime.combine(TODAY + timedelta(days=40), datetime.min.time())
        session.commit()
    assert d.reminders.stale_customers(principal(home, "manager1"), later) == []
    with d.sessions() as session:
        session.get(Document, doc.id).trashed_at = datetime.now()
        session.commit()
    stale = d.reminders.stale_customers(principal(home, "manager1"), later)
    assert _names(stale) == [CUSTOMERS["B"][0]] and stale[0]["last_activity"] == TODAY.isoformat()


def test_one_query_however_many_customers(home):
    d = home["dossier"]
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(d.engine, "before_cursor_execute", count)
    try:
        d.reminders.stale_customers(principal(home, "manager1"), TODAY + timedelta(days=365))
    finally:
        event.remove(d.engine, "before_cursor_execute", count)
    # the list itself, the owned customers, and the three looks at what the kept answer depends on
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 5


def test_daily_makes_one_care_reminder_per_silence_and_closes_it_when_activity_resumes(home):
    from dossier.app.services import Dossier

    d = home["dossier"]
    day = TODAY + timedelta(days=61)
    first = d.reminders.daily(day)
    assert first == {"date": day.isoformat(), "stale": 2, "created": 2, "closed": 0}
    assert d.reminders.daily(day)["created"] == 0
    again = Dossier.open(home["settings"])  # a restarted worker
    try:
        assert again.reminders.daily(day + timedelta(days=1))["created"] == 0
    finally:
        again.close()
    rep = principal(home, "sales1")
    mine = [i for i in d.reminders.list(rep) if i["source"] == "care"]
    assert len(mine) == 1 and mine[0]["kind"] == "care" and mine[0]["customer"]["name"] == CUSTOMERS["A"][0]
    assert mine[0]["due_on"] == day.isoformat() and mine[0]["owner"] == "sales1"
    # another rep does not see it (a care reminder is as private as the customer's confidential files)
    assert [
        i for i in d.reminders.list(principal(home, "sales2"), team=True) if i["id"] == mine[0]["id"]
    ] == []
    with d.sessions() as session:
        session.add(
            Activity(
                kind="visit",
                customer_id=home["customers"]["A"],
                occurred_at=datetime.combine(day + timedelta(days=1), datetime.min.time()),
                author="sales1",
            )
        )
        session.commit()
    result = d.reminders.daily(day + timedelta(days=2))
    assert (result["created"], result["closed"]) == (0, 1)
    closed = d.reminders.get(mine[0]["id"], rep)
    assert closed["status"] == "done" and closed["done_by"] == "system"
    with d.sessions() as session:
        open_care = list(
            session.scalars(select(Reminder).where(Reminder.source == "care", Reminder.status == "open"))
        )
        assert [r.customer_id for r in open_care] == [home["customers"]["B"]]
        assert open_care[0].source_key == f"care:{home['customers']['B']}:{TODAY.isoformat()}"
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.action == "reminder_care")))
        assert len(events) == 2 and events[0].username == "system"
    # a new silence of A (61 days after the visit) gets a new reminder
    assert d.reminders.daily(day + timedelta(days=62))["created"] == 1


def test_a_bad_setting_stops_the_care_entry_points(tmp_path):
    built = build(tmp_path, {}, stale_days="vip=3")
    try:
        d = built["dossier"]
        with pytest.raises(ConfigError, match="DOSSIER_STALE_DAYS"):
            d.reminders.stale_customers(principal(built, "manager1"))
        with pytest.raises(ConfigError, match="DOSSIER_STALE_DAYS"):
            d.reminders.daily()
    finally:
        built["dossier"].close()


def test_zero_means_never(tmp_path):
    built = build(tmp_path, {}, stale_days="0")
    try:
        d = built["dossier"]
        assert d.reminders.stale_customers(principal(built, "manager1"), TODAY + timedelta(days=9999)) == []
        assert d.reminders.daily(TODAY + timedelta(days=9999))["created"] == 0
    finally:
        built["dossier"].close()


def test_a_care_reminder_follows_its_customer_to_a_new_owner(home):
    from records import Customer, User

    d = home["dossier"]
    day = TODAY + timedelta(days=61)
    assert d.reminders.daily(day)["created"] == 2
    with d.sessions() as session:
        sales1 = session.scalars(select(User).where(User.username == "sales1")).one()
        session.get(Customer, home["customers"]["B"]).owner_id = sales1.id
        session.commit()
    assert d.reminders.daily(day)["created"] == 0
    care = [i for i in d.reminders.list(principal(home, "sales1")) if i["source"] == "care"]
    assert sorted(i["customer"]["name"] for i in care) == sorted([CUSTOMERS["A"][0], CUSTOMERS["B"][0]])


@pytest.mark.opensearch
def test_reminders_and_care_on_postgresql_records(postgres_url, tmp_path_factory):
    """The scale-out profile (PostgreSQL records, OpenSearch): the lists, the care query and the daily run."""
    extra = {"DOSSIER_DATABASE_URL": postgres_url}
    stale = "潜在=30,现有=60,流失=180"
    with backend_home(
        "opensearch", "care-pg", tmp_path_factory, lambda r, e: build(r, {**e, **extra}, stale_days=stale)
    ) as built:
        d = built["dossier"]
        manager, rep = principal(built, "manager1"), principal(built, "sales1")
        item = d.reminders.add(manager, "PG 回访", "2月28日", owner="sales1", customer=CUSTOMERS["A"][0])
        assert [i["id"] for i in d.reminders.list(rep, status="all")] == [item["id"]]
        assert (
            d.reminders.snooze(item["id"], rep, days=2)["remind_on"]
            == (TODAY + timedelta(days=2)).isoformat()
        )
        later = TODAY + timedelta(days=61)
        assert _names(d.reminders.stale_customers(rep, later)) == [CUSTOMERS["A"][0]]
        assert d.reminders.daily(later)["created"] == 2
        assert d.reminders.daily(later)["created"] == 0
