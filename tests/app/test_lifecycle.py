"""The trash (回收站) and the archive (归档) in the application (issue 15, items 2 and 3).

GIVEN a home with an e-mail carrying a quote as its attachment, a contract and a meeting note,
WHEN documents are moved to the trash, restored, purged, archived and unarchived,
THEN search, every read path and every write follow, with the permission matrix applied.
"""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from dossier.app._archive import ArchivedDocument
from foundation.errors import DossierError, Forbidden, NotFound
from index import Principal, SearchRequest
from records import Document, User, hash_password
from tests.conftest import audit_events

ADMIN = Principal("admin", "admin")
MANAGER = Principal("manager1", "manager")
SALES = Principal("sales1", "sales")
FINANCE = Principal("finance1", "finance")
VIEWER = Principal("viewer1", "viewer")
EVERYONE = (ADMIN, MANAGER, SALES, FINANCE, VIEWER)

NOTE = "会议纪要：青松项目启动会，讨论珊瑚方案排期。"
ATTACHED = "报价单：翠竹项目服务器扩容，总价 ¥88,000.00。"


def _mail() -> bytes:
    msg = EmailMessage()
    msg["From"] = "徐云诗 <yunshixu@yunfan-it.com>"
    msg["To"] = "李梅博 <limeibo@hongtu.com.cn>"
    msg["Subject"] = "红梅项目报价"
    msg["Date"] = "Mon, 04 Mar 2024 10:00:00 +0800"
    msg.set_content("您好：红梅项目报价见附件。")
    msg.add_attachment(ATTACHED.encode(), maintype="text", subtype="plain", filename="报价单_翠竹.txt")
    return msg.as_bytes()


@pytest.fixture
def home(dossier, tmp_path: Path):  # type: ignore[no-untyped-def]
    """A note (internal), an e-mail with a quote attached, and users of each role."""
    files = tmp_path / "files"
    files.mkdir()
    (files / "会议纪要_青松.txt").write_text(NOTE, encoding="utf-8")
    (files / "红梅报价.eml").write_bytes(_mail())
    summary = dossier.ingest_paths([files / "会议纪要_青松.txt", files / "红梅报价.eml"])
    assert summary["ingested"] == 2, summary
    ids = {doc["file"].rsplit("/", 1)[-1]: doc["id"] for doc in summary["documents"]}
    with dossier.sessions() as session:
        for name, role in (
            ("manager1", "manager"),
            ("sales1", "sales"),
            ("finance1", "finance"),
            ("viewer1", "viewer"),
        ):
            session.add(User(username=name, role=role, password_hash=hash_password("lifecycle-Passw0rd")))
        mail = session.get(Document, ids["红梅报价.eml"])
        assert mail is not None and len(mail.children) == 1
        ids["attachment"] = mail.children[0].id
        session.execute(Document.__table__.update().values(confidentiality="public", access_level="public"))
        session.commit()
    dossier.reindex()
    return dossier, ids


def _found(d, query: str, principal: Principal = ADMIN, **req) -> set[int]:  # type: ignore[no-untyped-def]
    return {h["id"] for h in d.search(SearchRequest(query, limit=100, **req), principal)["hits"]}


# -- the trash -------------------------------------------------------------------------------------


def test_trash_hides_a_document_from_search_and_every_read_for_every_role(home):  # type: ignore[no-untyped-def]
    """A trashed document is in no search, and its page, original and page images are "not found" for all."""
    d, ids = home
    note = ids["会议纪要_青松.txt"]
    assert note in _found(d, "青松")
    result = d.documents.delete(note, MANAGER)
    assert result["trashed"] == [note]
    for who in EVERYONE:
        assert note not in _found(d, "青松", who) and note not in _found(d, "", who, archived="include")
        with pytest.raises(NotFound):
            d.show(note, who)
        with pytest.raises(NotFound):
            d.open_original(note, who)
        with pytest.raises(NotFound):
            d.documents.page_image(note, 1, who)
        with pytest.raises(NotFound):
            d.documents.update(note, who, title="改")
    with d.sessions() as session:  # nothing erased: the records and the original stay
        doc = session.get(Document, note)
        assert doc is not None and doc.trashed_by == "manager1" and doc.trashed_at is not None
        assert d.blobs.exists(doc.current.sha256)
    assert audit_events(d, "trash")[-1].target_id == note


def test_trashing_a_container_takes_its_attachments_and_restore_brings_them_back(home):  # type: ignore[no-untyped-def]
    """An e-mail goes to the trash with its attachment (one line of the list); restoring it indexes both again."""
    d, ids = home
    mail, part = ids["红梅报价.eml"], ids["attachment"]
    assert {mail, part} <= _found(d, "翠竹")
    assert sorted(d.documents.delete(mail, ADMIN)["trashed"]) == sorted([mail, part])
    assert _found(d, "翠竹") == set() and _found(d, "红梅") == set()
    lines = d.trash.entries(MANAGER)
    assert [line["id"] for line in lines] == [mail] and lines[0]["parts"] == [part]
    assert lines[0]["trashed_by"] == "admin" and lines[0]["purge_at"] > lines[0]["trashed_at"]
    for who in (SALES, VIEWER, FINANCE):
        with pytest.raises(Forbidden):
            d.trash.restore(mail, who)
    assert sorted(d.trash.restore(part, MANAGER)["restored"]) == sorted(
        [mail, part]
    )  # a part brings its unit
    assert {mail, part} <= _found(d, "翠竹")
    assert d.trash.entries(ADMIN) == []
    assert audit_events(d, "trash_restore")[-1].detail["documents"] == sorted([mail, part])


def test_a_trashed_attachment_leaves_its_container_s_text(home):  # type: ignore[no-untyped-def]
    """An attachment trashed on its own: its words no longer find the e-mail; the e-mail stays searchable."""
    d, ids = home
    mail, part = ids["红梅报价.eml"], ids["attachment"]
    d.documents.delete(part, MANAGER)
    assert _found(d, "翠竹") == set()
    assert _found(d, "红梅") == {mail}
    assert [line["id"] for line in d.trash.entries(ADMIN)] == [part]


def test_only_managers_and_admins_move_documents_to_the_trash(home):  # type: ignore[no-untyped-def]
    """Sales, finance and viewers are refused (viewers may read the public note: forbidden, not not-found)."""
    d, ids = home
    note = ids["会议纪要_青松.txt"]
    for who in (SALES, FINANCE, VIEWER):
        with pytest.raises(Forbidden):
            d.documents.delete(note, who)
    assert note in _found(d, "青松")


def test_the_trash_list_shows_only_what_the_caller_could_read(home):  # type: ignore[no-untyped-def]
    """A viewer does not see a trashed finance document on the trash page; a manager does."""
    d, ids = home
    note = ids["会议纪要_青松.txt"]
    d.documents.update(note, ADMIN, confidentiality="finance")
    d.documents.delete(note, ADMIN)
    assert [line["id"] for line in d.trash.entries(MANAGER)] == [note]
    assert [line["id"] for line in d.trash.entries(FINANCE)] == [note]
    assert d.trash.entries(VIEWER) == []


def test_reindex_and_reextract_skip_the_trash(home):  # type: ignore[no-untyped-def]
    """Rebuilding the index from the records never brings a trashed document back."""
    d, ids = home
    note = ids["会议纪要_青松.txt"]
    d.documents.delete(note, ADMIN)
    d.reindex()
    d.customers.reextract()
    assert _found(d, "青松") == set()
    assert d.backend.count() == 2  # the e-mail and its attachment


def test_purge_needs_a_manager_and_a_confirmation(home):  # type: ignore[no-untyped-def]
    """Purging is refused to other roles and without its confirmation; nothing is erased then."""
    d, ids = home
    note = ids["会议纪要_青松.txt"]
    d.documents.delete(note, ADMIN)
    for who in (SALES, FINANCE, VIEWER):
        with pytest.raises(Forbidden):
            d.trash.purge(who, confirm=True)
    with pytest.raises(DossierError):
        d.trash.purge(MANAGER, confirm=False)
    with pytest.raises(NotFound):
        d.trash.purge(MANAGER, confirm=True, ids=[ids["红梅报价.eml"]])  # not in the trash
    assert [line["id"] for line in d.trash.entries(ADMIN)] == [note]


# -- the archive -----------------------------------------------------------------------------------


def test_archived_documents_leave_default_search_and_is_archived_finds_them(home):  # type: ignore[no-untyped-def]
    """Archiving hides from a default search; ``is:archived``/``archived=only`` find it; the facet counts it."""
    d, ids = home
    note = ids["会议纪要_青松.txt"]
    assert d.archive.archive([note], MANAGER)["archived"] == [note]
    assert _found(d, "青松") == set()
    assert _found(d, "青松 is:archived") == {note}
    assert _found(d, "青松", archived="include") == {note}
    facets = d.search(SearchRequest(""), ADMIN)["facets"]
    assert {f["value"]: f["count"] for f in facets["lifecycle"]} == {"active": 2, "archived": 1}
    assert d.show(note, VIEWER)["id"] == note  # it reads as before
    assert audit_events(d, "archive")[-1].detail["documents"] == [note]
    assert d.archive.unarchive([note], ADMIN)["unarchived"] == [note]
    assert _found(d, "青松") == {note}
    assert audit_events(d, "unarchive")[-1].target_id == note


def test_an_archived_document_is_read_only(home):  # type: ignore[no-untyped-def]
    """Edits, level changes, new versions and moving to the trash say to unarchive first."""
    d, ids = home
    note = ids["会议纪要_青松.txt"]
    d.archive.archive([note], ADMIN)
    with pytest.raises(ArchivedDocument) as refused:
        d.documents.update(note, ADMIN, title="改")
    said = str(refused.value)
    assert "取消归档" in said or "unarchive" in said
    with pytest.raises(ArchivedDocument):
        d.documents.update(note, MANAGER, confidentiality="finance")
    with pytest.raises(ArchivedDocument):
        d.documents.add_version(note, "v2.txt", "新版本".encode(), ADMIN)
    with pytest.raises(ArchivedDocument):
        d.documents.delete(note, ADMIN)
    assert d.documents.permissions(note, ADMIN) == {
        "edit": False,
        "confidentiality": False,
        "delete": False,
        "archive": True,
        "archived": True,
        "pages": False,
    }


def test_parts_follow_their_container_into_and_out_of_the_archive(home):  # type: ignore[no-untyped-def]
    """Archiving an attachment archives its e-mail and the e-mail's parts; unarchiving any one brings all back."""
    d, ids = home
    mail, part = ids["红梅报价.eml"], ids["attachment"]
    assert d.archive.archive([part], MANAGER)["archived"] == sorted([mail, part])
    assert _found(d, "翠竹") == set()
    assert _found(d, "翠竹 is:archived") == {mail, part}
    assert d.archive.unarchive([mail], MANAGER)["unarchived"] == sorted([mail, part])
    assert _found(d, "翠竹") == {mail, part}


def test_only_managers_and_admins_archive(home):  # type: ignore[no-untyped-def]
    """Other roles are refused archiving and unarchiving, one document or a search's hits."""
    d, ids = home
    note = ids["会议纪要_青松.txt"]
    for who in (SALES, FINANCE, VIEWER):
        with pytest.raises(Forbidden):
            d.archive.archive([note], who)
        with pytest.raises(Forbidden):
            d.archive.archive_search(SearchRequest("青松"), who)
    assert _found(d, "青松") == {note}


def test_archiving_a_search_s_hits_and_unarchiving_them(home):  # type: ignore[no-untyped-def]
    """Every hit of a search is archived (with its family); unarchive_search brings the archived hits back."""
    d, ids = home
    done = d.archive.archive_search(SearchRequest("翠竹"), MANAGER)["archived"]
    assert done == sorted([ids["红梅报价.eml"], ids["attachment"]])
    assert _found(d, "") == {ids["会议纪要_青松.txt"]}
    assert audit_events(d, "archive")[-1].detail["query"] == "翠竹"
    assert d.archive.unarchive_search(SearchRequest(""), ADMIN)["unarchived"] == done
    assert len(_found(d, "")) == 3


def test_trashed_documents_are_not_counted_on_customer_pages_or_exported(home):  # type: ignore[no-untyped-def]
    """The records' own counts (readable_clause) leave trashed documents out too."""
    from dossier.app.folder import readable_clause

    d, ids = home
    note = ids["会议纪要_青松.txt"]
    d.documents.delete(note, ADMIN)
    with d.sessions() as session:
        visible = set(session.scalars(select(Document.id).where(readable_clause(ADMIN))))
        trashed = set(session.scalars(select(Document.id).where(readable_clause(ADMIN, in_trash=True))))
    assert note not in visible and trashed == {note}


def test_expired_trash_is_selected_by_age(home, monkeypatch):  # type: ignore[no-untyped-def]
    """The housekeeping purges only what has waited DOSSIER_TRASH_DAYS; documents under legal hold stay."""
    d, ids = home
    note, mail = ids["会议纪要_青松.txt"], ids["红梅报价.eml"]
    d.documents.delete(note, ADMIN)
    d.documents.delete(mail, ADMIN)
    erased: list[list[int]] = []
    monkeypatch.setattr(d.trash, "_erase", lambda _home, doc_ids: erased.append(list(doc_ids)))
    with d.sessions() as session:
        session.get(Document, mail).legal_hold = True
        session.commit()
    assert d.trash.purge_expired()["purged"] == []  # nothing has waited 30 days yet
    with d.sessions() as session:
        trashed_at = session.get(Document, note).trashed_at
    report = d.trash.purge_expired(now=trashed_at + timedelta(days=d.trash.days, seconds=1))
    assert report == {"purged": [note], "held": [mail]}
    assert erased == [[note]]
    event = audit_events(d, "trash_purge")[-1]
    assert event.username == "system" and event.detail["documents"][0]["id"] == note


def test_purge_erases_records_index_and_originals(home):  # type: ignore[no-untyped-def]
    """A confirmed purge by a manager erases the trashed family for good and audits titles and checksums."""
    d, ids = home
    mail, part = ids["红梅报价.eml"], ids["attachment"]
    with d.sessions() as session:
        digests = [v.sha256 for i in (mail, part) for v in session.get(Document, i).versions]
    d.documents.delete(mail, MANAGER)
    report = d.trash.purge(MANAGER, confirm=True)
    assert report == {"purged": sorted([mail, part]), "held": []}
    with d.sessions() as session:
        assert session.get(Document, mail) is None and session.get(Document, part) is None
    assert not any(d.blobs.exists(sha) for sha in digests)
    assert d.trash.entries(ADMIN) == []
    event = audit_events(d, "trash_purge")[-1]
    assert event.username == "manager1"
    assert {f["sha256"] for doc in event.detail["documents"] for f in doc["files"]} == set(digests)
    assert _found(d, "青松") == {ids["会议纪要_青松.txt"]}
