"""Benchmark follow-ups: due-date extraction, the daily reminder run, the customer timeline.

Builds a data home of records (reminders, care and the timeline read the records; the index is
left empty) in a temporary folder or ``--home``: ``--docs`` documents (default 100,000), each with
the full page text of a dev-corpus document (contracts, quotes, invoices, notes … with their
types and dates), spread over ``--customers`` customers (default 3,000, each with an owner among
50 sales reps with e-mail addresses, types mixed), ``--activities`` activities (default 20,000)
and ``--reminders`` open reminders (default 10,000), with dates spread over two years so that
part of the customers are silent; customer 1 also gets ``--timeline`` activities (default 5,000).
Then it measures:

* **due-date extraction** — :func:`ingest.extract_due_dates` over every document's text and date,
  as the extraction step runs it: documents/s, and how many dates it found;
* ``stale_customers`` as a manager (every customer) and as one rep — the one grouped query;
* **the daily reminder run**: ``ReminderService.daily`` the first time (it makes the care
  reminders) and again the same day (it must add nothing), then ``NotificationService.run`` at
  09:00 (in-app notices, the day's mails and digests queued for an SMTP host that is never
  contacted) and its rerun — seconds;
* the start page's lists: a rep's reminders due within 14 days and a manager's team list;
* **the customer timeline** of customer 1 (5,000 activities and its documents): the first and
  the last page as a manager and as the owning rep (``Dossier.timeline``), and the customer page
  ``/customers/1`` in the web app (Flask test client, signed in) — p50/p95 ms.

Nothing here asserts on timing.

    .venv/bin/python bench/reminders.py                 # 100,000 documents
    .venv/bin/python bench/reminders.py --docs 10000    # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
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
            # digests and same-day mails are queued (the run never connects; nothing sends them here)
            "DOSSIER_SMTP_HOST": "127.0.0.1",
            "DOSSIER_SMTP_PORT": "1",
        },
        dotenv=home / "no.env",
    )


def _corpus_texts() -> list[tuple[str, str, str | None, str]]:
    """(doc_type, title, date, full text) of every dev-corpus document with text (hostile files left out)."""
    corpus = Path(os.environ.get("DOSSIER_CORPUS", ROOT.parent / "shared" / "corpus")) / "dev"
    out = []
    for line in (corpus / "truth.jsonl").read_text(encoding="utf-8").splitlines():
        t = json.loads(line)
        text = (t.get("text") or "").strip()
        if t.get("expect") == "ok" and text and t.get("doc_type") != "hostile":
            dates = (t.get("entities") or {}).get("date") or [
                None
            ]  # the first date stands for the document's
            out.append((t.get("doc_type") or "other", t.get("title") or Path(t["file"]).stem, dates[0], text))
    return out


def build(
    home: Path, docs: int, customers: int, activities: int, reminders: int, timeline: int = 5000
) -> None:
    """The records of the bench home, written in bulk."""
    import sqlalchemy as sa

    from dossier.app.services import Dossier
    from records import Activity, Customer, Document, DocumentCustomer, Page, Reminder, User, hash_password

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
                dict(
                    username=f"rep{i:02d}",
                    role="sales",
                    password_hash=password,
                    active=True,
                    email=f"rep{i:02d}@example.cn",
                )
                for i in range(REPS)
            ]
            + [
                dict(
                    username="boss",
                    role="manager",
                    password_hash=password,
                    active=True,
                    email="boss@example.cn",
                )
            ],
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
    texts = _corpus_texts()
    batch = 5000
    for start in range(0, docs, batch):
        rows, links, pages = [], [], []
        for i in range(start, min(docs, start + batch)):
            cid = i % customers + 1
            created = now - timedelta(days=rng.randint(0, 730))
            doc_type, title, doc_date, text = texts[i % len(texts)]
            pages.append(dict(document_id=i + 1, number=1, text=text, needs_ocr=False, ocr=False))
            rows.append(
                dict(
                    id=i + 1,
                    title=f"{title} {i}",
                    doc_type=doc_type,
                    doc_date=doc_date,
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
            conn.execute(sa.insert(Page.__table__), pages)
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
        if timeline:  # customer 1's long history, half of it confidential (its owner and managers read it)
            conn.execute(
                sa.insert(Activity.__table__),
                [
                    dict(
                        kind=("call", "visit", "meeting", "email", "note")[k % 5],
                        customer_id=1,
                        occurred_at=now - timedelta(hours=3 * k),
                        author="rep00",
                        contacts=["王经理"],
                        subject=f"沟通 {k}",
                        body=f"第 {k} 次沟通：服务器报价与交付计划",
                        next_step="发送报价",
                        confidentiality=("internal", "confidential")[k % 2],
                        created_at=now,
                        updated_at=now,
                    )
                    for k in range(timeline)
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


def extract(d) -> None:  # type: ignore[no-untyped-def]
    """Run the due-date extraction over every document's text; print documents/s."""
    import sqlalchemy as sa

    import ingest
    from records import Document, Page

    found = docs = after = 0
    elapsed = 0.0
    while True:
        with d.engine.connect() as conn:
            rows = conn.execute(
                sa.select(Document.id, Document.doc_date, Document.doc_type, Page.text)
                .join(Page, Page.document_id == Document.id)
                .where(Document.id > after, Page.number == 1)
                .order_by(Document.id)
                .limit(5000)
            ).all()
        if not rows:
            break
        started = time.perf_counter()
        for _, doc_date, doc_type, text in rows:
            found += len(ingest.extract_due_dates([text], doc_date=doc_date, doc_type=doc_type))
        elapsed += time.perf_counter() - started
        docs += len(rows)
        after = rows[-1][0]
    print(
        f"due-date extraction: {docs:,} documents in {elapsed:.1f} s = {docs / elapsed:,.0f} documents/s"
        f" ({found:,} dates found)",
        flush=True,
    )


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:,.1f} ms, p95 {p95 * 1000:,.1f} ms"


def timeline(d, home: Path) -> None:  # type: ignore[no-untyped-def]
    """Time customer 1's timeline: first and last page as a manager and as its rep, and the web page."""
    boss = d.accounts.principal_for("boss")
    rep = d.accounts.principal_for("rep00")
    first = d.timeline(boss, 1)
    print(f"customer timeline: {first['total']:,} items, {first['pages']} pages", flush=True)
    for who, principal in (("a manager", boss), ("its rep", rep)):
        pages = d.timeline(principal, 1)["pages"]
        for label, page in (("first page", 1), ("last page", pages)):
            samples = []
            for _ in range(20):
                started = time.perf_counter()
                d.timeline(principal, 1, page=page)
                samples.append(time.perf_counter() - started)
            print(f"  timeline {label} as {who}: {_ms(samples)}", flush=True)
    from webui import create_app

    client = create_app(_settings(home)).test_client()
    form = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token is not None, "no CSRF token on the login form"
    signed = client.post(
        "/auth/login", data={"username": "boss", "password": "bench-Passw0rd", "csrf_token": token.group(1)}
    )
    assert signed.status_code == 302, signed.status_code
    samples = []
    for _ in range(20):
        started = time.perf_counter()
        page = client.get("/customers/1")
        samples.append(time.perf_counter() - started)
        assert page.status_code == 200, page.status_code
    print(f"  web page /customers/1 (with the timeline's first page): {_ms(samples)}", flush=True)


def measure(home: Path) -> None:
    """Time the extraction, the care queries, the daily run, the start page's lists and the timeline."""
    from dossier.app.services import Dossier

    d = Dossier.open(_settings(home))
    try:
        extract(d)
        boss = d.accounts.principal_for("boss")
        rep = d.accounts.principal_for("rep00")
        stale = _time("stale_customers as a manager", lambda: d.reminders.stale_customers(boss))
        print(f"  {len(stale):,} customers to contact", flush=True)  # type: ignore[arg-type]
        _time("stale_customers as one rep", lambda: d.reminders.stale_customers(rep))
        started = time.perf_counter()
        first = d.reminders.daily()
        care_s = time.perf_counter() - started
        print(f"daily run, care reminders first: {care_s:.2f} s  {first}", flush=True)
        started = time.perf_counter()
        again = d.reminders.daily()
        print(
            f"daily run, care again the same day: {time.perf_counter() - started:.2f} s  {again}", flush=True
        )
        at_nine = datetime.combine(date.today(), datetime.min.time()).replace(hour=9).astimezone()
        before, d.notifications.before = d.notifications.before, None  # the care part is timed above
        started = time.perf_counter()
        done = d.notifications.run(at_nine)
        notify_s = time.perf_counter() - started
        print(f"daily run, notifications: {notify_s:.2f} s  {done}", flush=True)
        started = time.perf_counter()
        done = d.notifications.run(at_nine)
        print(f"daily run, notifications again: {time.perf_counter() - started:.2f} s  {done}", flush=True)
        d.notifications.before = before
        print(f"daily reminder run in all (care + notifications): {care_s + notify_s:.2f} s", flush=True)
        mine = _time("a rep's reminders due within 14 days", lambda: d.reminders.list(rep, due_within=14))
        team = _time(
            "a manager's team list (due within 14 days)",
            lambda: d.reminders.list(boss, due_within=14, team=True),
        )
        print(f"  {len(mine):,} / {len(team):,} reminders listed", flush=True)  # type: ignore[arg-type]
        timeline(d, home)
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
    parser.add_argument(
        "--timeline", type=int, default=5_000, help="activities of customer 1 (default 5,000)"
    )
    parser.add_argument("--home", type=Path, help="build here (default: a temporary folder, removed after)")
    parser.add_argument("--keep", action="store_true", help="keep the data home; measure again with --home")
    args = parser.parse_args(argv)
    home = args.home or Path(tempfile.mkdtemp(prefix="dossier-bench-reminders-"))
    try:
        if not (home / "dossier.db").exists():
            print(f"building {args.docs:,} documents, {args.customers:,} customers …", flush=True)
            build(home, args.docs, args.customers, args.activities, args.reminders, args.timeline)
        measure(home)
    finally:
        if not args.keep and args.home is None:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
