"""`dossier show` prints the due dates a document sets, with their sentences (also in --json)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from dossier.cli import cli

NO_REDIS = {"DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"}

QUOTE = "报价单\n报价日期：2028年10月10日\n备注：本报价有效期30天。\n"


def _run(home, *args):
    return CliRunner(env=NO_REDIS).invoke(cli, ["--home", str(home), *args], catch_exceptions=False)


def test_show_prints_the_due_dates(tmp_path):
    home = tmp_path / "home"
    _run(home, "init")
    path = tmp_path / "报价.txt"
    path.write_text(QUOTE, encoding="utf-8")
    ingested = json.loads(_run(home, "ingest", str(path), "--json").output)
    doc_id = ingested["documents"][0]["id"]
    shown = json.loads(_run(home, "show", str(doc_id), "--json").output)
    (due,) = shown["due_dates"]
    assert (due["kind"], due["date"], due["sentence"], due["page"]) == (
        "quote_valid",
        "2028-11-09",
        "备注：本报价有效期30天。",
        1,
    )
    human = _run(home, "show", str(doc_id)).output
    assert "quote_valid: 2028-11-09" in human and "备注：本报价有效期30天。" in human
