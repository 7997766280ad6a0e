"""``POST /api/upload`` (webui/api_upload.py): who may upload through the API, and what a bad request gets."""

from __future__ import annotations

import io

import pytest

from tests._api import token_for


@pytest.fixture(scope="module")
def tokens(corpus_home) -> dict[str, str]:
    home = corpus_home["settings"].home
    return {
        "admin": token_for(home, "admin"),
        "sales": token_for(home, "apiup-sales", role="sales"),
        "viewer": token_for(home, "apiup-viewer", role="viewer"),
    }


def _post(client, token: str | None, **fields):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.post("/api/upload", data=fields, headers=headers, content_type="multipart/form-data")


def _file(text: str, name: str):
    return (io.BytesIO(text.encode()), name)


def test_a_sales_rep_uploads_and_the_batch_is_theirs_and_audited(client, tokens, corpus_home):
    answer = _post(
        client, tokens["sales"], files=[_file("接口上传 拜访记录 甲方", "api-visit.txt")], tags="接口"
    )
    assert answer.status_code == 202
    data = answer.get_json()
    assert [f["name"] for f in data["files"]] == ["api-visit.txt"]
    assert data["files"][0]["status"] == "queued" and data["files"][0]["document_id"]
    d = corpus_home["dossier"]
    from tests.conftest import audit_events

    events = [e for e in audit_events(d, "upload") if e.target_id == data["batch_id"]]
    assert len(events) == 1 and events[0].username == "apiup-sales"
    assert events[0].detail["channel"] == "api" and events[0].detail["files"] == ["api-visit.txt"]


def test_the_same_file_again_is_a_duplicate(client, tokens):
    body = "接口上传 重复 文件 内容 一致"
    first = _post(client, tokens["admin"], files=[_file(body, "dup-a.txt")])
    again = _post(client, tokens["admin"], files=[_file(body, "dup-b.txt")])
    assert first.get_json()["counts"]["queued"] == 1
    assert again.get_json()["counts"] == {"queued": 0, "duplicate": 1, "failed": 0}


@pytest.mark.parametrize(
    ("who", "fields", "status"),
    [
        ("viewer", {"files": "file"}, 403),
        # no token: a browser POST, refused for its missing CSRF token before anything else
        (None, {"files": "file"}, 400),
        ("admin", {}, 400),
        ("admin", {"files": "file", "doc_type": "no-such-type"}, 400),
    ],
    ids=["viewer", "anonymous", "no-file", "unknown-type"],
)
def test_refusals_say_why_in_json(client, tokens, who, fields, status):
    if "files" in fields:
        fields = {**fields, "files": [_file(f"拒绝 {who} {status}", "refused.txt")]}
    answer = _post(client, tokens[who] if who else None, **fields)
    assert answer.status_code == status
    assert answer.get_json()["error"]


def test_a_browser_session_needs_the_csrf_token(client, login):
    login(client)
    answer = client.post(
        "/api/upload", data={"files": [_file("会话上传", "s.txt")]}, content_type="multipart/form-data"
    )
    assert answer.status_code == 400  # no X-CSRF-Token: refused like every other session POST


def test_a_duplicate_of_a_document_the_uploader_may_not_read_is_not_named(client, tokens, corpus_home):
    """The bytes of a confidential contract (not the rep's customer's): "already stored", with no document id
    for the rep — an admin is told which document holds them."""
    from tests.webui.conftest import CORPUS, CORPUS_FILES

    contract = CORPUS / CORPUS_FILES[0]
    data = contract.read_bytes()
    rep = _post(client, tokens["sales"], files=[(io.BytesIO(data), "copy.pdf")])
    assert rep.status_code == 202
    assert rep.get_json()["files"] == [
        {"name": "copy.pdf", "status": "duplicate", "document_id": None, "error": None}
    ]
    admin = _post(client, tokens["admin"], files=[(io.BytesIO(data), "copy.pdf")])
    assert admin.get_json()["files"][0]["document_id"] == corpus_home["id_of"](contract.name)
