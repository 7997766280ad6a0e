"""Reasons the records keep as message ids are printed in both languages by the CLI (text and --json)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from dossier.cli import cli
from foundation.messages import load_stored
from tests.conftest import DEV

NO_REDIS = {"DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"}
LOCKED_PDF = DEV / "bad" / "加密合同_需密码.pdf"
LOCKED = "PDF 需要密码 / password-protected PDF"
EMPTY = "文件为空 / empty file"

pytestmark = pytest.mark.skipif(not LOCKED_PDF.exists(), reason="dev corpus missing")


def _run(home, *args):
    return CliRunner(env=NO_REDIS).invoke(cli, ["--home", str(home), *args], catch_exceptions=False)


def test_a_failed_files_reason_is_bilingual_in_the_cli(tmp_path):
    """GIVEN an encrypted PDF and an empty file taken by `dossier ingest` WHEN the records, `ingest`, `status`
    and `show` are read THEN the records keep message ids and the CLI prints each reason in both languages."""
    home = tmp_path / "home"
    _run(home, "init")
    empty = tmp_path / "空白.txt"
    empty.write_bytes(b"")
    summary = json.loads(_run(home, "ingest", str(LOCKED_PDF), str(empty), "--json").output)
    assert {f["error"] for f in summary["failed"]} == {LOCKED, EMPTY}

    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from records import Document

    d = Dossier.open(load_settings(environ={"DOSSIER_HOME": str(home), **NO_REDIS}, dotenv=tmp_path / "none"))
    with d.sessions() as session:
        doc = session.query(Document).filter(Document.status == "failed").one()
        doc_id = doc.id
        assert load_stored(doc.error) is not None and load_stored(doc.error).id == "ingest.pdf.encrypted"

    shown = _run(home, "show", str(doc_id))
    assert shown.exit_code == 0 and f"error: {LOCKED}" in shown.output and '{"msg"' not in shown.output
    as_json = json.loads(_run(home, "show", str(doc_id), "--json").output)
    assert as_json["error"] == LOCKED
    status = _run(home, "status", str(summary["batch"]))
    assert LOCKED in status.output and EMPTY in status.output and '{"msg"' not in status.output
    status_json = json.loads(_run(home, "status", str(summary["batch"]), "--json").output)
    assert {f["error"] for f in status_json["failures"]} == {LOCKED, EMPTY}
    again = _run(home, "ingest", str(empty))
    assert EMPTY in again.output and '{"msg"' not in again.output
