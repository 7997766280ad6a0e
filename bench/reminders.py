"""Benchmark the reminders' daily run and the reminder lists over a large data home.

Builds a records-only data home (no index is needed: reminders and customer care read the
records) in a temporary folder or ``--home``: ``--docs`` documents (default 100,000) spread over
``--customers`` customers (default 3,000, each with an owner among 50 sales reps, types mixed),
each document linked to its customer, ``--activities`` activities (default 20,000) and
``--reminders`` open reminders (default 10,000), with dates spread over two years so that part
of the customers are silent.  Then it measures, each several times:

* ``stale_customers`` as a manager (every customer) and as one rep — the one grouped query;
* ``ReminderService.daily`` the first time (it makes the care reminders) and again the same day
  (it must add nothing) — the daily run's reminder part, in seconds;
* the start page's lists: a rep's reminders due within 14 days and a manager's team list.

Nothing here asserts on timing.

    .venv/bin/python bench/reminders.py                 # 100,000 documents
    .venv/bin/python bench/reminders.py --docs 10000    # quicker
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TYPES = ("潜在客户", "现有客户", "流失客户")
REPS = 50


def _settings(home: Path):  # type: ignore[no-untyped-def]
    from foundation.config import load_settings

    return load_settings(
        environ={
            "DOSSIER_HOME": str(home),
            "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
            "DOSSIER_STALE_DAYS": "潜在=30,现有=60,流失=180",
        },
        dotenv=home / "no.env",
    )


def build(home: Path, docs: int, customers: int, activities: int, reminders: int) -> None:
    """The records of the bench home, written in bulk."""
    import sqlalchemy as sa

    from dossier.app.services import Dossier
    from records import Activity, Customer, Document, DocumentCustomer, Reminder, User, hash_password

    started = time.perf_counter()
    Dossier.open(_settings(home), require_init=False).init()
    d = Dossier.open(_settings(home))
    rng = random.Random(16)
    now = datetime.now().replace(microsecond=0)
    password = hash_password("bench-Passw0rd")
    with d.engine.begin() as conn:
        conn.execute(
            sa.insert(User.__table__),
            [
                dict(username=f"rep{i:02d}", role="sales", password_hash=password, active=True)
                for i in range(REPS)
            ]
            + [dict(username="boss", role="manager", password_hash=password, active=True)],
        )
        rep_ids = [
            r[0] for r in conn.execute(sa.select(User.id).where(User.role == "sales").order_by(User.id))
        ]
        conn.execute(
            sa.insert(Customer.__table__),
            [
                dict(
                    id=i + 1,
                    name=f"客户{i:05d}有限公司",
                    aliases=[],
                    contacts=[],
                    tags=[],
                    customer_type=TYPES[i % 3],
                    owner_id=rep_ids[i % REPS],
                    status="confirmed",
                    created_at=now - timedelta(days=730),
                    updated_at=now,
                )
                for i in range(customers)
            ],
        )
    batch = 5000
    for start in range(0, docs, batch):
        rows, links = [], []
        for i in range(start, min(docs, start + batch)):
            cid = i % customers + 1
            created = now - timedelta(days=rng.randint(0, 730))
            rows.append(
                dict(
                    id=i + 1,
                    title=f"合同 {i}",
                    doc_type="contract",
                    customer_id=cid,
                    confidentiality="internal",
                    status="indexed",
                    language="zh",
                    warnings=[],
                    created_at=created,
                    updated_at=created,
                )
            )
            links.append(dict(document_id=i + 1, customer_id=cid, method="given", score=1.0, position=0))
        with d.engine.begin() as conn:
            conn.execute(sa.insert(Document.__table__), rows)
            conn.execute(sa.insert(DocumentCustomer.__table__), links)
    with d.engine.begin() as conn:
        if activities:
            conn.execute(
                sa.insert(Activity.__table__),
                [
                    dict(
                        kind="call",
                        customer_id=rng.randint(1, customers),
                        occurred_at=now - timedelta(days=rng.randint(0, 365)),
                        author="rep00",
                        contacts=[],
                        subject="回访",
                        body="",
                        confidentiality="internal",
                        created_at=now,
                        updated_at=now,
                    )
                    for _ in range(activities)
                ],
            )
        if reminders:
            today = date.today()
            conn.execute(
                sa.insert(Reminder.__table__),
                [
                    dict(
                        title=f"跟进 {i}",
                        kind="follow_up",
                        source="manual",
                        customer_id=i % customers + 1,
                        owner_id=rep_ids[i % REPS],
                        due_on=today + timedelta(days=rng.randint(-30, 90)),
                        remind_on=today + timedelta(days=rng.randint(-30, 90)),
                        status="open",
                        confidentiality="internal",
                        created_by="boss",
                        created_at=now,
                        updated_at=now,
                    )
                    for i in range(reminders)
                ],
            )
    d.close()
    print(f"  data home ready in {time.perf_counter() - started:.0f} s: {home}", flush=True)


def _time(label: str, work, repeat: int = 3) -> object:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    print(
        f"{label}: median {statistics.median(times) * 1000:,.0f} ms (min {min(times) * 1000:,.0f})",
        flush=True,
    )
    return result


def measure(home: Path) -> None:
    """Time the care queries, the daily run and the start page's lists."""
    from dossier.app.services import Dossier

    d = Dossier.open(_settings(home))
    try:
        boss = d.accounts.principal_for("boss")
        rep = d.accounts.principal_for("rep00")
        stale = _time("stale_customers as a manager", lambda: d.reminders.stale_customers(boss))
        print(f"  {len(stale):,} customers to contact", flush=True)  # type: ignore[arg-type]
        _time("stale_customers as one rep", lambda: d.reminders.stale_customers(rep))
        started = time.perf_counter()
        first = d.reminders.daily()
        print(f"daily run, first: {time.perf_counter() - started:.2f} s  {first}", flush=True)
        started = time.perf_counter()
        again = d.reminders.daily()
        print(f"daily run, again the same day: {time.perf_counter() - started:.2f} s  {again}", flush=True)
        mine = _time("a rep's reminders due within 14 days", lambda: d.reminders.list(rep, due_within=14))
        team = _time(
            "a manager's team list (due within 14 days)",
            lambda: d.reminders.list(boss, due_within=14, team=True),
        )
        print(f"  {len(mine):,} / {len(team):,} reminders listed", flush=True)  # type: ignore[arg-type]
    finally:
        d.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=100_000, help="documents (default 100,000)")
    parser.add_argument("--customers", type=int, default=3_000, help="customers (default 3,000)")
    parser.add_argument("--activities", type=int, default=20_000, help="activities (default 20,000)")
    parser.add_argument("--reminders", type=int, default=10_000, help="open reminders (default 10,000)")
    parser.add_argument("--home", type=Path, help="build here (default: a temporary folder, removed after)")
    parser.add_argument("--keep", action="store_true", help="keep the data home; measure again with --home")
    args = parser.parse_args(argv)
    home = args.home or Path(tempfile.mkdtemp(prefix="dossier-bench-reminders-"))
    try:
        if not (home / "dossier.db").exists():
            print(f"building {args.docs:,} documents, {args.customers:,} customers …", flush=True)
            build(home, args.docs, args.customers, args.activities, args.reminders)
        measure(home)
    finally:
        if not args.keep and args.home is None:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
