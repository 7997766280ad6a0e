"""`dossier export`: through click's runner, and once as the real process writing to a pipe."""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
import subprocess
import sys
import zipfile

import pytest
from click.testing import CliRunner

from dossier.cli import cli
from tests.conftest import DEV

NO_REDIS = {"DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"}
FILES = (
    DEV / "quotes" / "报价单_海川物流_20240530.docx",
    DEV / "quotes" / "报价单_澄明集团_20240103.docx",
    DEV / "contracts" / "产品购销合同_昌隆精密_HT-2023-1213.md",
    DEV / "bad" / "客户导出_csv注入.csv",
)


def _run(home, *args, env=None):
    runner = CliRunner(env={**NO_REDIS, **(env or {})})
    return runner.invoke(cli, ["--home", str(home), *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """An initialised data home with FILES ingested (in-process) and a viewer user."""
    home = tmp_path_factory.mktemp("cli-export")
    assert _run(home, "init").exit_code == 0
    summary = json.loads(_run(home, "ingest", *map(str, FILES), "--wait", "--json").output)
    assert summary["ingested"] == len(FILES)
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from records import User, hash_password

    d = Dossier.open(load_settings(environ={"DOSSIER_HOME": str(home), **NO_REDIS}, dotenv=home / "none"))
    with d.sessions() as session:
        session.add(User(username="viewer1", role="viewer", password_hash=hash_password("viewer-Passw0rd")))
        session.commit()
    d.close()
    return home


def _search_ids(home, *args) -> list[int]:
    result = json.loads(_run(home, "search", *args, "--limit", "100", "--json").output)
    return [h["id"] for h in result["hits"]]


def test_export_csv_file_matches_search_json(home, tmp_path):
    """`dossier export 报价 --type quote -o x.csv` writes the rows `search --json` finds, in order."""
    out = tmp_path / "报价.csv"
    result = _run(home, "export", "报价", "--type", "quote", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "已导出" in result.output and "exported" in result.output
    data = out.read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [int(r[0]) for r in rows[1:]] == _search_ids(home, "报价", "--type", "quote")
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize("fmt", ["xlsx", "jsonl", "zip"])
def test_format_from_the_extension_and_json_summary(home, tmp_path, fmt):
    """Without --format the extension decides; --json prints {"file","format","hits","total","bytes"}."""
    from openpyxl import load_workbook

    out = tmp_path / f"all.{fmt}"
    result = _run(home, "export", "-o", str(out), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["format"] == fmt and summary["hits"] == summary["total"] == len(FILES)
    assert summary["bytes"] == out.stat().st_size
    if fmt == "xlsx":
        assert load_workbook(out).active.max_row == len(FILES) + 1
    elif fmt == "jsonl":
        assert len(out.read_text(encoding="utf-8").splitlines()) == len(FILES)
    else:
        with zipfile.ZipFile(out) as archive:
            assert archive.testzip() is None and len(archive.namelist()) == len(FILES) + 2


def test_limit_as_user_and_refusals(home, tmp_path):
    """--limit takes the first N; --as exports what that user may read; a broken limit, an unknown
    extension or a binary format to a terminal fail with one bilingual line and write nothing."""
    out = tmp_path / "two.csv"
    assert _run(home, "export", "-o", str(out), "--limit", "2").exit_code == 0
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) == 3
    viewer = _run(home, "export", "-o", str(tmp_path / "v.jsonl"), "--as", "viewer1", "--json")
    assert json.loads(viewer.output)["hits"] == len(_search_ids(home, "--as", "viewer1", ""))
    refused = _run(home, "export", "-o", str(tmp_path / "big.csv"), env={"DOSSIER_EXPORT_MAX_HITS": "2"})
    assert (
        refused.exit_code == 1
        and "超过导出上限 2 条" in refused.output
        and "DOSSIER_EXPORT_MAX_HITS" in refused.output
    )
    assert not (tmp_path / "big.csv").exists() and not (tmp_path / "big.csv.part").exists()
    unknown = _run(home, "export", "-o", str(tmp_path / "x.txt"))
    assert unknown.exit_code == 1 and "--format" in unknown.output


def test_real_process_streams_csv_and_jsonl_to_stdout(home):
    """`-o -` streams to standard output (a pipe here), the summary goes to stderr."""
    env = {**os.environ, **NO_REDIS, "DOSSIER_HOME": str(home)}
    for fmt in ("csv", "jsonl"):
        proc = subprocess.run(
            [sys.executable, "-m", "dossier", "export", "-o", "-", "--format", fmt],
            capture_output=True,
            env=env,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr.decode()
        if fmt == "csv":
            assert proc.stdout.startswith(codecs.BOM_UTF8) and proc.stdout.count(b"\r\n") >= len(FILES) + 1
        else:
            assert [json.loads(x)["id"] for x in proc.stdout.decode().splitlines()]
        assert "exported" in proc.stderr.decode()
