"""Versions (issue 15): every version kept, read, downloaded, compared, found by ``version:all`` and restored.

A data home on each backend (SQLite FTS5; OpenSearch when a node is configured) holds one internal
document in two versions.  New versions and restores are processed inline (no Redis), the way a
worker does it.  Permissions apply to every version: what a user may not read is "not found" from
every version path; restoring takes the rights of adding a version.
"""

from __future__ import annotations

import pytest

from foundation.errors import DossierError, Forbidden, NotFound
from index import Principal, SearchRequest
from records import Document
from tests._versions import ADMIN, FINANCE, MANAGER, SALES, V1, V2, VIEWER, build_home, process
from tests.conftest import TANTIVY, audit_events, backend_home


@pytest.fixture(
    scope="module", params=["sqlite", *TANTIVY, pytest.param("opensearch", marks=pytest.mark.opensearch)]
)
def home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The versions' data home on each backend (module-wide: the restore test runs last and changes it)."""
    with backend_home(request.param, "versions", tmp_path_factory, build_home) as built:
        yield built


def _hits(d, query: str, principal: Principal, **req) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    return [(h["id"], h["version"]) for h in d.search(SearchRequest(query, **req), principal)["hits"]]


def test_a_new_version_keeps_the_old_text(home):
    """The text version 1 had is kept with it when version 2 replaces the pages; keeping again changes nothing."""
    from pipeline.indexing import keep_version_text

    d, doc_id = home["dossier"], home["doc"]
    v1 = d.reading.version(doc_id, 1, ADMIN)
    assert v1["text_kept"] and "第一版原始条款" in v1["text"] and not v1["current"]
    v2 = d.reading.version(doc_id, 2, ADMIN)
    assert v2["current"] and "珊瑚港" in v2["text"]
    with d.sessions() as session:
        doc = session.get(Document, doc_id)
        assert len(doc.versions[0].pages) == 1  # version 1's one page, kept when version 2 came
        assert keep_version_text(doc) is doc.versions[-1]  # what a third version would keep of version 2
        assert keep_version_text(doc) is None  # once: keeping again neither duplicates nor overwrites
        assert len(doc.versions[-1].pages) == len(doc.pages)
        session.rollback()


def test_search_finds_old_text_only_on_request_and_says_which_version(home):
    """Default search finds current text; ``version:all`` (or versions="all") finds version 1's, as version 1."""
    d, doc_id = home["dossier"], home["doc"]
    assert _hits(d, "第一版原始条款", ADMIN) == []
    assert _hits(d, "第一版原始条款 version:all", ADMIN) == [(doc_id, 1)]
    assert _hits(d, "第一版原始条款", ADMIN, versions="all") == [(doc_id, 1)]
    found = d.search(SearchRequest("第一版原始条款", versions="all"), ADMIN)["hits"][0]
    assert found["filename"] == "合同_v1.txt" and "<mark>" in found["snippet"]
    assert _hits(d, "珊瑚港", ADMIN) == [(doc_id, 0)]
    both = _hits(d, "翡翠湖 version:all", ADMIN)
    assert sorted(both) == [(doc_id, 0), (doc_id, 1)]  # the document and its old version, each a hit


def test_every_version_can_be_listed_read_and_downloaded(home):
    """Versions list with who and when; each version's original comes back byte for byte; a diff shows the change."""
    d, doc_id = home["dossier"], home["doc"]
    listed = d.reading.versions(doc_id, SALES)
    assert [(v["n"], v["filename"], v["current"], v["uploaded_by"]) for v in listed] == [
        (1, "合同_v1.txt", False, "admin"),
        (2, "合同_v2.txt", True, "manager1"),
    ]
    assert d.reading.open_version(doc_id, 1, SALES) == ("合同_v1.txt", "text/plain", V1)
    assert d.reading.open_version(doc_id, 2, SALES)[2] == V2
    diff = d.reading.version_diff(doc_id, 1, 2, SALES)
    ops = {(line["op"], line["text"]) for line in diff["lines"]}
    assert ("-", "第一版原始条款：交货期三十天。") in ops and (
        "+",
        "第二版：珊瑚港补充协议，交货期四十五天。",
    ) in ops
    assert not diff["same"]
    with pytest.raises(NotFound):
        d.reading.version(doc_id, 9, ADMIN)


@pytest.mark.parametrize("principal", [VIEWER, SALES, FINANCE], ids=lambda p: p.username)
def test_who_may_not_read_gets_nothing_from_any_version(home, principal):
    """A confidential document's versions are "not found" for who may not read it: search, text, file, diff, restore."""
    d, secret = home["dossier"], home["secret"]
    assert _hits(d, "玳瑁湾 version:all", ADMIN) == [(secret, 1)]
    result = d.search(SearchRequest("玳瑁湾", versions="all"), principal)
    assert result["hits"] == [] and result["total"] == 0
    for call in (
        lambda: d.reading.versions(secret, principal),
        lambda: d.reading.version(secret, 1, principal),
        lambda: d.reading.open_version(secret, 1, principal),
        lambda: d.reading.version_diff(secret, 1, 2, principal),
        lambda: d.documents.restore_version(secret, 1, principal),
    ):
        with pytest.raises(NotFound):
            call()


def test_who_may_restore(home):
    """Restoring takes the rights of adding a version: a viewer cannot even see it, sales and finance who may not
    edit it are refused; the current version and an unknown one are refused with a reason."""
    d, doc_id = home["dossier"], home["doc"]
    with pytest.raises(NotFound):
        d.documents.restore_version(doc_id, 1, VIEWER)
    for principal in (SALES, FINANCE):
        with pytest.raises(Forbidden):
            d.documents.restore_version(doc_id, 1, principal)
    with pytest.raises(DossierError, match="已是"):
        d.documents.restore_version(doc_id, 2, MANAGER)
    with pytest.raises(NotFound):
        d.documents.restore_version(doc_id, 5, MANAGER)


def test_an_archived_document_refuses_a_restore(home):
    """An archived (or trashed) document's versions are read-only: the refusal says to restore it to active first."""
    from datetime import datetime

    d, doc_id = home["dossier"], home["doc"]
    with d.sessions() as session:
        session.get(Document, doc_id).archived_at = datetime(2026, 1, 1)
        session.commit()
    try:
        with pytest.raises(DossierError) as refused:
            d.documents.restore_version(doc_id, 1, MANAGER)
        assert "归档" in str(refused.value.message) or "archived" in str(refused.value.message)
    finally:
        with d.sessions() as session:
            session.get(Document, doc_id).archived_at = None
            session.commit()


def test_zz_restoring_a_version_makes_it_current_and_keeps_the_replaced_text(home):
    """A manager restores version 1: version 3 (restored from 1) is current, version 2's text stays findable; audited."""
    d, doc_id = home["dossier"], home["doc"]
    outcome = d.documents.restore_version(doc_id, 1, MANAGER)
    assert outcome == {"id": doc_id, "version": 3, "restored_from": 1, "status": "queued"}
    with pytest.raises(DossierError):  # one at a time: it is being processed
        d.documents.restore_version(doc_id, 2, MANAGER)
    process(d, doc_id)
    shown = d.show(doc_id, ADMIN)
    assert "第一版原始条款" in shown["text"] and shown["filename"] == "合同_v1.txt"
    assert [(v["n"], v["restored_from"], v["current"]) for v in shown["versions"]] == [
        (1, None, False),
        (2, None, False),
        (3, 1, True),
    ]
    assert _hits(d, "第一版原始条款", ADMIN) == [(doc_id, 0)]
    assert _hits(d, "珊瑚港", ADMIN) == []
    assert _hits(d, "珊瑚港 version:all", ADMIN) == [(doc_id, 2)]
    event = audit_events(d, "version_restore")[-1]
    assert (event.username, event.target_id, event.detail["version"], event.detail["restored_from"]) == (
        "manager1",
        doc_id,
        3,
        1,
    )
    assert shown["doc_type"] == "contract"  # a type given by a person stays through the restore
