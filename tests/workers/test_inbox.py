"""The inbox watcher on a real folder, with and without a queue: settle, metadata, failures, restarts."""

from __future__ import annotations

import shutil
from pathlib import Path, PurePath

import pytest
from sqlalchemy import func, select

from records import Document, IngestJob
from tests.conftest import DEV
from tests.workers.test_queue import queued_dossier  # noqa: F401  (fixture)

CONTRACT = DEV / "contracts" / "产品购销合同_宸宇集团_HT-2024-0503_v2.pdf"
QUOTE = DEV / "quotes" / "报价单_海川物流_20240530.docx"
BROKEN = DEV / "bad" / "truncated.pdf"
SCAN = DEV / "scans" / "发票_金桥电气_扫描.png"


def fill(inbox: Path) -> dict[str, Path]:
    """Drop files into an inbox the way people do: some in customer/type/tag folders."""
    placed = {
        "contract": inbox / "宸宇集团" / "合同" / "重点" / CONTRACT.name,
        "quote": inbox / "海川物流" / "2024" / QUOTE.name,
        "broken": inbox / BROKEN.name,
        "scan": inbox / "_" / "发票" / SCAN.name,
    }
    sources = {"contract": CONTRACT, "quote": QUOTE, "broken": BROKEN, "scan": SCAN}
    for key, target in placed.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(sources[key], target)
    (inbox / ".DS_Store").write_bytes(b"\0")
    (inbox / "half-written.pdf.part").write_bytes(b"%PDF-")
    return placed


def test_folder_names_map_to_customer_type_and_tags():
    from workers.inbox import metadata_for

    m = metadata_for(PurePath("宸宇集团/合同/重点/2024/a.pdf"))
    assert (m.customer, m.doc_type, m.tags) == ("宸宇集团", "contract", ("重点", "2024"))
    m = metadata_for(PurePath("海川物流/2024/a.pdf"))
    assert (m.customer, m.doc_type, m.tags) == ("海川物流", None, ("2024",))
    m = metadata_for(PurePath("_/invoice/a.pdf"))
    assert (m.customer, m.doc_type, m.tags) == (None, "invoice", ())
    assert metadata_for(PurePath("a.pdf")) == type(m)()


def _check_settled(d, admin, inbox: Path, placed: dict[str, Path]) -> None:
    for key in ("contract", "quote", "scan"):
        assert not placed[key].exists()
        assert (inbox / ".done" / placed[key].relative_to(inbox)).is_file(), key
    failed = inbox / ".failed" / BROKEN.name
    assert failed.is_file() and not placed["broken"].exists()
    reason = (inbox / ".failed" / (BROKEN.name + ".reason.txt")).read_text(encoding="utf-8")
    assert reason.strip() and "\n" not in reason.strip()
    assert (inbox / ".DS_Store").exists() and (inbox / "half-written.pdf.part").exists()  # never taken

    with d.sessions() as session:
        docs = {doc.current.filename: doc for doc in session.scalars(select(Document)) if doc.current}
        assert set(docs) == {CONTRACT.name, QUOTE.name, BROKEN.name, SCAN.name}
        contract = docs[CONTRACT.name]
        assert contract.customer.name == "宸宇集团" and contract.doc_type == "contract"
        assert [t.name for t in contract.tags] == ["重点"]
        assert docs[QUOTE.name].customer.name == "海川物流" and [t.name for t in docs[QUOTE.name].tags] == [
            "2024"
        ]
        assert docs[SCAN.name].customer is None and docs[SCAN.name].doc_type == "invoice"
        assert docs[SCAN.name].status == "indexed" and docs[SCAN.name].pages[0].ocr
        assert (
            session.scalar(select(func.count()).select_from(IngestJob).where(IngestJob.settled.is_(False)))
            == 0
        )


@pytest.mark.parametrize("home", ["dossier", "queued_dossier"], ids=["in-process", "queue"])
def test_watch_once_settles_every_file(home, admin, tmp_path, request):
    """Without Redis the watcher processes files itself; with it, workers do: the outcome is the same."""
    from workers.inbox import Inbox

    d = request.getfixturevalue(home)
    inbox = tmp_path / "inbox"
    placed = fill(inbox)
    report = Inbox(d, inbox, settle_s=0.2).run_once()
    assert report["taken"] == 4 and report["done"] == 3 and report["failed"] == 1
    _check_settled(d, admin, inbox, placed)


def test_a_restarted_watcher_loses_and_duplicates_nothing(queued_dossier, admin, tmp_path):  # noqa: F811
    """GIVEN a watcher that took half the files and died WHEN a new one runs THEN every file ends settled once."""
    from workers.inbox import Inbox

    inbox = tmp_path / "inbox"
    placed = fill(inbox)
    first = Inbox(queued_dossier, inbox, settle_s=0)
    first.take(sorted(first.stable_files())[:2])  # ... and the process dies here, its jobs still queued
    del first
    report = Inbox(queued_dossier, inbox, settle_s=0).run_once()
    assert report["taken"] == 2 and report["done"] + report["failed"] == 4
    _check_settled(queued_dossier, admin, inbox, placed)
    with queued_dossier.sessions() as session:
        assert session.scalar(select(func.count()).select_from(IngestJob)) == 4


def test_the_same_name_dropped_again_is_settled_beside_the_first(dossier, tmp_path):
    """A second file with the same name goes to .done as 'name (2).ext' — a duplicate is never lost either."""
    from workers.inbox import Inbox

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    box = Inbox(dossier, inbox, settle_s=0)
    shutil.copy(CONTRACT, inbox / "a.pdf")
    box.run_once()
    shutil.copy(CONTRACT, inbox / "a.pdf")
    report = box.run_once()
    assert report["done"] == 1
    assert (inbox / ".done" / "a.pdf").is_file() and (inbox / ".done" / "a (2).pdf").is_file()


def test_a_file_still_being_written_is_left_alone(dossier, tmp_path):
    """A file whose size keeps changing is not taken until it settles."""
    from workers.inbox import Inbox

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    growing = inbox / "scan.pdf"
    growing.write_bytes(CONTRACT.read_bytes()[:1000])
    box = Inbox(dossier, inbox, settle_s=3600)
    assert box.stable_files() == []
    growing.write_bytes(CONTRACT.read_bytes())
    assert box.stable_files() == []
    box.settle_s = 0
    assert box.stable_files() == [growing]


def test_a_missing_inbox_folder_is_a_clear_error(dossier, tmp_path):
    from foundation.errors import DossierError
    from workers.inbox import Inbox

    with pytest.raises(DossierError, match="收件箱目录不存在"):
        Inbox(dossier, tmp_path / "nope")


def test_a_watcher_never_settles_files_of_an_inbox_whose_name_differs_only_in_case(dossier, tmp_path):
    """GIVEN inboxes `inbox/` and `INBOX/` with a taken file waiting in `INBOX/`, WHEN the `inbox/` watcher
    settles, THEN that file stays where it is (path prefixes compare exactly, as on PostgreSQL)."""
    from records import IngestBatch
    from workers.inbox import Inbox

    (tmp_path / "inbox").mkdir()
    other = tmp_path / "INBOX" / "a.txt"
    other.parent.mkdir()
    other.write_text("报价单", encoding="utf-8")
    with dossier.sessions() as session:
        batch = IngestBatch(source="inbox", origin=str(other.parent))
        batch.jobs.append(IngestJob(filename="a.txt", status="duplicate", origin=str(other), settled=False))
        session.add(batch)
        session.commit()
    assert Inbox(dossier, tmp_path / "inbox", settle_s=0).settle() == {"done": 0, "failed": 0}
    assert other.is_file()


def test_a_customer_folder_resolves_to_the_registry_like_every_intake(dossier, tmp_path, caplog):
    """GIVEN the corpus registry WHEN files arrive in the folders 光华物流/ (a registered short name), 光华物留/
    (a typo) and 云帆信息/ (our own company) THEN the first files under 光华物流（武汉）有限公司, the typo only
    becomes a pending suggestion, ours files under no customer, and the watcher's log says why."""
    from records import Customer
    from workers.inbox import Inbox

    dossier.customers.import_registry(DEV / "customers.json")
    inbox = tmp_path / "inbox"
    for n, folder in enumerate(("光华物流", "光华物留", "云帆信息")):
        (inbox / folder).mkdir(parents=True)
        (inbox / folder / f"纪要{n}.txt").write_text(f"会议纪要 {n}\n仓储系统需求沟通。\n", encoding="utf-8")
    with caplog.at_level("WARNING", logger="dossier.inbox"):
        assert Inbox(dossier, inbox, settle_s=0).run_once()["done"] == 3
    with dossier.sessions() as session:
        docs = {doc.current.filename: doc for doc in session.scalars(select(Document))}
        assert docs["纪要0.txt"].customer.name == "光华物流（武汉）有限公司"
        assert [(link.customer.name, link.customer.status) for link in docs["纪要1.txt"].customer_links] == [
            ("光华物留", "suggested")
        ]
        assert docs["纪要2.txt"].customer_links == [] and docs["纪要2.txt"].customer is None
        assert (
            session.scalars(select(Customer).where(Customer.name.in_(("光华物流", "云帆信息")))).all() == []
        )
    assert "不在客户登记册中" in caplog.text and "是本公司，不是客户" in caplog.text
