"""`dossier retention …`: rules, holds, the queue, and the two-person rule at the command line."""

from __future__ import annotations

import json

from click.testing import CliRunner

from tests.app.test_erasure import canary, write_note
from tests.cli.test_cli_documents import NO_REDIS, _add_user


def _run(home, *args: str):  # type: ignore[no-untyped-def]
    from dossier.cli import cli

    return CliRunner(env={**NO_REDIS, "DOSSIER_HOME": str(home)}).invoke(cli, list(args))


def test_rules_holds_and_two_people_at_the_command_line(tmp_path):
    """Rules are added and checked; a held document cannot be proposed; the proposer cannot approve, another manager
    can (named with --as); sales and viewers are refused; the queue lists it destroyed."""
    home = tmp_path / "home"
    assert _run(home, "init").exit_code == 0
    for name, role in (("boss", "manager"), ("chief", "manager"), ("sales1", "sales"), ("viewer1", "viewer")):
        _add_user(home, name, role)
    ingested = json.loads(
        _run(home, "ingest", str(write_note(tmp_path / "in", canary())), "--wait", "--json").output
    )
    doc_id = str(ingested["documents"][0]["id"])

    bad = _run(
        home, "retention", "rules", "add", "--name", "x", "--archive-after", "5y", "--destroy-after", "2y"
    )
    assert bad.exit_code == 1 and "before the archive period" in bad.output
    added = _run(
        home,
        "retention",
        "rules",
        "add",
        "--name",
        "发票",
        "--type",
        "发票",
        "--destroy-after",
        "30y",
        "--json",
    )
    assert added.exit_code == 0, added.output
    assert json.loads(added.output)["doc_type"] == "invoice"
    assert "发票" in _run(home, "retention", "rules", "list").output
    refused = _run(
        home, "retention", "rules", "add", "--name", "y", "--destroy-after", "1y", "--as", "sales1"
    )
    assert refused.exit_code == 1

    assert (
        _run(home, "retention", "hold", "--document", doc_id, "--reason", "诉讼", "--as", "boss").exit_code
        == 0
    )
    held = _run(home, "retention", "propose", doc_id, "--as", "boss")
    assert held.exit_code == 1 and "legal hold" in held.output
    assert _run(home, "retention", "release", "--document", doc_id, "--as", "chief").exit_code == 0

    assert _run(home, "retention", "propose", doc_id, "--as", "viewer1").exit_code == 1
    proposed = _run(home, "retention", "propose", doc_id, "--as", "boss", "--json")
    assert proposed.exit_code == 0, proposed.output
    destruction = str(json.loads(proposed.output)["id"])
    unnamed = _run(home, "retention", "approve", destruction, "--yes")
    assert unnamed.exit_code == 1 and "--as" in unnamed.output
    same = _run(home, "retention", "approve", destruction, "--yes", "--as", "boss")
    assert same.exit_code == 1 and "two-person" in same.output
    assert _run(home, "retention", "approve", destruction, "--yes", "--as", "sales1").exit_code == 1
    approved = _run(home, "retention", "approve", destruction, "--yes", "--as", "chief", "--json")
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.output)["status"] == "destroyed"
    queue = json.loads(_run(home, "retention", "list", "--json").output)
    assert [(r["id"], r["status"], r["decided_by"]) for r in queue] == [
        (int(destruction), "destroyed", "chief")
    ]
    assert _run(home, "show", doc_id).exit_code == 1
    ran = _run(home, "retention", "run", "--json")
    assert json.loads(ran.output) == {"archived": [], "proposed": [], "destroyed": []}
