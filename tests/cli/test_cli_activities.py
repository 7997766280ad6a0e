"""`dossier activities add|comment|list|timeline` and activity hits of `dossier search` (issue 16)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

NO_REDIS = {"DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"}


def _run(home: Path, *args: str):  # type: ignore[no-untyped-def]
    from dossier.cli import cli

    return CliRunner(env={**NO_REDIS, "DOSSIER_HOME": str(home)}).invoke(
        cli, list(args), catch_exceptions=False
    )


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A home with a customer owned by sales1, a sales2 and a viewer, and one internal document."""
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from records import Customer, Document, Page, User, Version, hash_password

    root = tmp_path_factory.mktemp("cli-activities")
    assert _run(root, "init").exit_code == 0
    d = Dossier.open(load_settings(environ={**NO_REDIS, "DOSSIER_HOME": str(root)}, dotenv=root / "none"))
    with d.sessions() as session:
        users = {
            n: User(username=n, role=r, password_hash=hash_password("cli-act-Passw0rd"))
            for n, r in (("sales1", "sales"), ("sales2", "sales"), ("viewer1", "viewer"))
        }
        session.add_all(users.values())
        customer = Customer(
            name="杭州明远科技有限公司", aliases=["明远科技"], contacts=[], owner=users["sales1"]
        )
        session.add(customer)
        doc = Document(
            title="明远报价单",
            doc_type="quote",
            confidentiality="internal",
            status="indexed",
            customer=customer,
            versions=[Version(number=1, sha256="0" * 64, filename="q.txt", mime="text/plain", size=1)],
            pages=[Page(number=1, text="报价单")],
        )
        session.add(doc)
        session.commit()
        ids = {"customer": customer.id, "doc": doc.id}
    d.reindex([ids["doc"]])
    d.close()
    return {"root": root, **ids}


def test_add_list_comment_and_search(home) -> None:  # type: ignore[no-untyped-def]
    root = home["root"]
    added = _run(
        root,
        "activities",
        "add",
        "--customer",
        "明远科技",
        "--kind",
        "call",
        "--when",
        "2026-12-01 10:00",
        "--with",
        "张三",
        "--with",
        "李四",
        "--subject",
        "续约电话",
        "--body",
        "客户同意续签",
        "--next-step",
        "准备合同",
        "--as",
        "sales1",
        "--json",
    )
    assert added.exit_code == 0, added.output
    call = json.loads(added.output)
    assert (call["kind"], call["author"], call["contacts"], call["occurred_at"]) == (
        "call",
        "sales1",
        ["张三", "李四"],
        "2026-12-01T10:00",
    )
    remark = _run(root, "activities", "comment", str(home["doc"]), "报价偏高", "--as", "sales2", "--json")
    assert remark.exit_code == 0, remark.output
    assert json.loads(remark.output)["customer"]["id"] == home["customer"]
    listed = json.loads(
        _run(root, "activities", "list", "--customer", str(home["customer"]), "--json").output
    )
    assert [a["kind"] for a in listed["items"]] == ["comment", "call"] and listed["total"] == 2
    plain = _run(root, "activities", "list", "--kind", "call")
    assert "续约电话" in plain.output and "张三、李四" in plain.output
    found = json.loads(_run(root, "search", "续签", "--json").output)
    assert [(h["activity"], h["kind"]) for h in found["hits"]] == [(call["id"], "call")]
    assert "[activity" in _run(root, "search", "续签").output
    timeline = json.loads(_run(root, "activities", "timeline", str(home["customer"]), "--json").output)
    assert {i["kind"] for i in timeline["items"]} == {"document", "activity", "comment"}


def test_refusals_are_clear(home) -> None:  # type: ignore[no-untyped-def]
    root = home["root"]
    cases = [
        (("--customer", "不存在的公司", "--body", "x"), "不存在的公司"),
        (("--customer", "明远科技", "--when", "2026-02-30", "--body", "x"), "2026-02-30"),
        (("--customer", "明远科技", "--body", "x", "--as", "viewer1"), "只读用户"),
        (("--customer", "明远科技", "--body", "x", "--as", "sales2"), "不是您的客户"),
        (("--customer", "明远科技", "--subject", "长" * 256), "255"),
    ]
    for args, said in cases:
        result = _run(root, "activities", "add", *args)
        assert result.exit_code == 1, (args, result.output)
        assert said in result.output, (args, result.output)


def test_edit_and_delete(home) -> None:  # type: ignore[no-untyped-def]
    root = home["root"]
    made = json.loads(
        _run(
            root, "activities", "add", "--customer", "明远科技", "--body", "初稿", "--as", "sales1", "--json"
        ).output
    )
    refused = _run(root, "activities", "edit", str(made["id"]), "--body", "改", "--as", "sales2")
    assert refused.exit_code == 1 and "记录人" in refused.output
    changed = _run(
        root,
        "activities",
        "edit",
        str(made["id"]),
        "--body",
        "定稿",
        "--with",
        "王五",
        "--as",
        "sales1",
        "--json",
    )
    assert changed.exit_code == 0, changed.output
    assert (json.loads(changed.output)["body"], json.loads(changed.output)["contacts"]) == ("定稿", ["王五"])
    assert _run(root, "activities", "delete", str(made["id"]), "--as", "sales1").exit_code == 0
    gone = _run(root, "activities", "delete", str(made["id"]))
    assert gone.exit_code == 1 and str(made["id"]) in gone.output
