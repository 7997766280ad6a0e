"""`dossier documents versions|restore-version|download` and `dossier search --versions all` (issue 15)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tests._versions import V1, build_home, process
from tests.conftest import audit_events, backend_home


@pytest.fixture
def home(tmp_path_factory: pytest.TempPathFactory):
    """A home with one document in two versions and a confidential one (:mod:`tests._versions`)."""
    with backend_home("sqlite", "cliversions", tmp_path_factory, build_home) as built:
        yield built


def _run(home: dict, *args: str):  # type: ignore[no-untyped-def]
    from dossier.cli import cli

    env = {"DOSSIER_HOME": home["settings"].get("DOSSIER_HOME"), "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"}
    return CliRunner(env=env).invoke(cli, list(args))


def test_list_download_search_and_restore_from_the_command_line(home, tmp_path):
    """The operator lists versions, writes version 1's file, finds old text with --versions all (the hit's id
    is the document's, with "version": 1) and restores version 1; --as applies the user's rights."""
    d, doc_id, secret = home["dossier"], home["doc"], home["secret"]
    listed = json.loads(_run(home, "documents", "versions", str(doc_id), "--json").output)
    assert [(v["n"], v["current"]) for v in listed["versions"]] == [(1, False), (2, True)]
    plain = _run(home, "documents", "versions", str(doc_id)).output
    assert "* v2" in plain and "  v1" in plain
    out = tmp_path / "v1.txt"
    written = _run(home, "documents", "download", str(doc_id), "--version", "1", "-o", str(out))
    assert written.exit_code == 0, written.output
    assert out.read_bytes() == V1
    assert audit_events(d, "download")[-1].detail["version"] == 1
    found = json.loads(_run(home, "search", "第一版原始条款", "--versions", "all", "--json").output)
    assert [(h["id"], h["version"]) for h in found["hits"]] == [(doc_id, 1)]
    assert json.loads(_run(home, "search", "第一版原始条款", "--json").output)["hits"] == []
    assert json.loads(_run(home, "search", "第一版原始条款 version:all", "--json").output)["total"] == 1

    hidden = _run(home, "documents", "versions", str(secret), "--as", "viewer1")
    assert hidden.exit_code != 0  # not found for who may not read it
    none = json.loads(_run(home, "search", "玳瑁湾", "--versions", "all", "--as", "sales1", "--json").output)
    assert none["total"] == 0
    refused = _run(home, "documents", "restore-version", str(doc_id), "1", "--as", "sales1")
    assert refused.exit_code != 0 and "restored_from" not in refused.output
    assert _run(home, "documents", "restore-version", str(doc_id), "1", "--as", "viewer1").exit_code != 0
    restored = _run(home, "documents", "restore-version", str(doc_id), "1", "--as", "manager1")
    assert restored.exit_code == 0, restored.output
    assert json.loads(restored.output) == {"id": doc_id, "version": 3, "restored_from": 1, "status": "queued"}
    process(d, doc_id)
    shown = json.loads(_run(home, "show", str(doc_id), "--json").output)
    assert "第一版原始条款" in shown["text"] and shown["versions"][-1]["restored_from"] == 1
    event = audit_events(d, "version_restore")[-1]
    assert (event.username, event.detail["restored_from"]) == ("manager1", 1)
