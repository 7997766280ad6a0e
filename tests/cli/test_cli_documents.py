"""`dossier documents set|add-version|delete`: the operator's tools, and a user's rights with --as."""

from __future__ import annotations

import json

from click.testing import CliRunner

from tests.conftest import DEV

NO_REDIS = {"DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"}
INVOICE = DEV / "invoices" / "发票_Contoso_00244890.pdf"
QUOTE = DEV / "quotes" / "报价单_中盈环保_20241001.html"


def _run(home, *args: str):  # type: ignore[no-untyped-def]
    from dossier.cli import cli

    return CliRunner(env={**NO_REDIS, "DOSSIER_HOME": str(home)}).invoke(
        cli, list(args), catch_exceptions=False
    )


def _add_user(home, name: str, role: str) -> None:  # type: ignore[no-untyped-def]
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from records import User, hash_password

    d = Dossier.open(load_settings(environ={**NO_REDIS, "DOSSIER_HOME": str(home)}, dotenv=home / "none"))
    with d.sessions() as session:
        session.add(User(username=name, role=role, password_hash=hash_password("cli-docs-Passw0rd")))
        session.commit()
    d.close()


def test_set_add_version_and_delete(tmp_path):
    """The operator changes a level, a title and tags, adds a version, deletes; a sales user may not change levels."""
    home = tmp_path / "home"
    assert _run(home, "init").exit_code == 0
    ingested = json.loads(_run(home, "ingest", str(INVOICE), str(QUOTE), "--wait", "--json").output)
    ids = {doc["file"].rsplit("/", 1)[-1]: doc["id"] for doc in ingested["documents"]}
    invoice, quote = ids[INVOICE.name], ids[QUOTE.name]
    before = json.loads(_run(home, "show", str(invoice), "--json").output)
    assert before["confidentiality"] == "finance"

    changed = _run(
        home,
        "documents",
        "set",
        str(invoice),
        "--confidentiality",
        "internal",
        "--title",
        "已审核发票",
        "--tag",
        "已审核",
        "--json",
    )
    assert changed.exit_code == 0, changed.output
    assert json.loads(changed.output)["changed"] == {
        "title": [before["title"], "已审核发票"],
        "tags": [[], ["已审核"]],
        "confidentiality": ["finance", "internal"],
    }
    shown = json.loads(_run(home, "show", str(invoice), "--json").output)
    assert (shown["title"], shown["confidentiality"], shown["tags"]) == ("已审核发票", "internal", ["已审核"])
    assert "没有修改" in _run(home, "documents", "set", str(invoice), "--title", "已审核发票").output

    _add_user(home, "sales1", "sales")
    refused = _run(home, "documents", "set", str(invoice), "--confidentiality", "public", "--as", "sales1")
    assert refused.exit_code == 1 and "经理" in refused.output
    assert _run(home, "documents", "delete", str(invoice), "--yes", "--as", "sales1").exit_code == 1

    new = tmp_path / "报价_v2.txt"
    new.write_text("第二版报价：中盈环保 数据中心扩容，总价 ¥99,000.00", encoding="utf-8")
    added = _run(home, "documents", "add-version", str(quote), str(new))
    assert added.exit_code == 0 and json.loads(added.output)["status"] == "queued"
    deleted = _run(home, "documents", "delete", str(quote), "--yes")
    assert deleted.exit_code == 0 and str(quote) in deleted.output
    assert _run(home, "show", str(quote)).exit_code == 1
    found = json.loads(_run(home, "search", "中盈环保", "--json").output)
    assert quote not in [h["id"] for h in found["hits"]]


def test_add_version_as_a_user_never_names_a_duplicate_they_may_not_read(tmp_path):
    """`documents add-version --as sales1` with the bytes of a finance-only document: "already stored", no id
    (the operator, who reads everything, is told which document holds them)."""
    home = tmp_path / "home"
    assert _run(home, "init").exit_code == 0
    own_file = tmp_path / "拜访.txt"
    own_file.write_text("销售拜访记录：客户关心交付周期。", encoding="utf-8")
    ingested = json.loads(_run(home, "ingest", str(INVOICE), str(own_file), "--wait", "--json").output)
    ids = {doc["file"].rsplit("/", 1)[-1]: doc["id"] for doc in ingested["documents"]}
    invoice, own = ids[INVOICE.name], ids[own_file.name]
    assert json.loads(_run(home, "show", str(invoice), "--json").output)["confidentiality"] == "finance"
    _add_user(home, "sales1", "sales")
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from records import Version

    d = Dossier.open(load_settings(environ={**NO_REDIS, "DOSSIER_HOME": str(home)}, dotenv=home / "none"))
    with d.sessions() as session:  # sales1 brought that file in, so may add versions to it
        for version in session.query(Version).filter_by(document_id=own):
            version.uploaded_by = "sales1"
        session.commit()
    d.close()
    outcome = _run(home, "documents", "add-version", str(own), str(INVOICE), "--as", "sales1")
    shown = json.loads(outcome.output)
    assert (shown["status"], shown["id"], shown["message"]) == (
        "duplicate",
        None,
        "已存在，已由系统保存 / already stored",
    )
    assert str(invoice) not in outcome.output
    operator = json.loads(_run(home, "documents", "add-version", str(own), str(INVOICE)).output)
    assert (operator["status"], operator["id"]) == ("duplicate", invoice)
