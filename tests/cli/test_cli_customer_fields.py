"""`dossier customers edit|list` and `search`/`export --stage --importance --ctag`: the steering fields from the shell."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

NO_REDIS = {"DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"}
MINGYUAN = "上海明远科技有限公司"
YUNFAN = "杭州云帆信息技术有限公司"


def _run(home, *args: str):  # type: ignore[no-untyped-def]
    from dossier.cli import cli

    return CliRunner(env={**NO_REDIS, "DOSSIER_HOME": str(home)}).invoke(cli, list(args))


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    from dossier.app.services import Dossier
    from foundation.config import load_settings

    root = tmp_path_factory.mktemp("cli-fields")
    assert _run(root, "init").exit_code == 0
    d = Dossier.open(load_settings(environ={**NO_REDIS, "DOSSIER_HOME": str(root)}, dotenv=root / "none"))
    for name, role in (("zhang", "sales"), ("li", "sales")):
        d.accounts.add_user(name, role, "cli-fields-Passw0rd")
    d.close()
    registry = root / "registry.csv"
    with registry.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(
            [
                ["客户名称", "负责人", "销售阶段", "重要程度"],
                [MINGYUAN, "zhang", "初步接触", "B"],
                [YUNFAN, "li", "商务谈判", "A"],
            ]
        )
    assert _run(root, "customers", "import", str(registry)).exit_code == 0
    for name, text in (("m.txt", f"{MINGYUAN} 报价单 服务器"), ("y.txt", f"{YUNFAN} 报价单 交换机")):
        (root / name).write_text(text, encoding="utf-8")
    assert _run(root, "ingest", str(root / "m.txt"), str(root / "y.txt"), "--wait").exit_code == 0
    rows = json.loads(_run(root, "customers", "list", "--json").output)
    return root, {r["name"]: r["id"] for r in rows}


def test_a_rep_edits_their_customer_from_the_shell(home):
    root, ids = home
    cid = str(ids[MINGYUAN])
    done = _run(
        root, "customers", "edit", cid, "--stage", "方案报价", "--tag", "重点", "--tags", "华东,续约",
        "--notes", "回访", "--contact", "李明,采购经理,13812345678", "--as", "zhang", "--json",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    result = json.loads(done.output)
    assert result["changed"] == ["contacts", "notes", "stage", "tags"] and result["reanalysed"] == 1
    listed = json.loads(_run(root, "customers", "list", "--tag", "华东", "--json").output)
    assert [(r["name"], r["stage"], r["tags"]) for r in listed] == [
        (MINGYUAN, "方案报价", ["重点", "华东", "续约"])
    ]
    found = json.loads(
        _run(root, "search", "报价单", "--stage", "方案报价", "--ctag", "续约", "--json").output
    )
    assert found["total"] == 1
    assert json.loads(_run(root, "search", "报价单", "--importance", "a", "--json").output)["total"] == 1


def test_a_rep_is_refused_other_fields_and_other_customers(home):
    root, ids = home
    other = _run(root, "customers", "edit", str(ids[MINGYUAN]), "--importance", "A", "--as", "zhang")
    assert other.exit_code != 0 and "销售只能修改联系人、销售阶段、客户标签和备注" in other.output
    theirs = _run(root, "customers", "edit", str(ids[YUNFAN]), "--stage", "x", "--as", "zhang")
    assert theirs.exit_code != 0 and "不由您负责" in theirs.output
    nothing = _run(root, "customers", "edit", str(ids[YUNFAN]))
    assert nothing.exit_code == 2 and "--stage" in nothing.output
    bad = _run(root, "customers", "edit", str(ids[YUNFAN]), "--importance", "Z")
    assert bad.exit_code != 0 and "A、B 或 C" in bad.output


def test_the_operator_edits_everything_and_the_list_sorts(home):
    root, ids = home
    done = _run(
        root, "customers", "edit", str(ids[YUNFAN]), "--importance", "ｃ", "--type", "流失", "--no-contacts"
    )
    assert done.exit_code == 0, done.output
    listed = json.loads(_run(root, "customers", "list", "--importance", "C", "--json").output)
    assert [r["name"] for r in listed] == [YUNFAN] and listed[0]["customer_type"] == "流失客户"
    text = _run(root, "customers", "list", "--sort", "last_activity", "--limit", "1").output
    assert "最近活动" in text and "合同金额" in text
    assert "--offset 1" in _run(root, "customers", "list", "--limit", "1").output


def test_export_has_the_steering_columns(home):
    root, _ids = home
    out = _run(root, "export", "报价单", "--stage", "方案报价", "--format", "csv", "-o", "-")
    assert out.exit_code == 0, out.output
    rows = list(csv.reader(io.StringIO(out.output.lstrip("\ufeff"))))
    head = rows[0]
    at = head.index("销售阶段 sales stage")
    assert head[at : at + 3] == ["销售阶段 sales stage", "重要性 importance", "客户标签 customer tags"]
    data = [r for r in rows[1:] if len(r) == len(head)]  # the summary line goes to stderr
    assert len(data) == 1 and data[0][at] == "方案报价" and data[0][at + 1] == "B"
    assert data[0][at + 2] == "重点; 华东; 续约"
    lines = _run(root, "export", "报价单", "--format", "jsonl", "-o", "-").output.splitlines()
    record = next(json.loads(x) for x in lines if x.startswith("{") and MINGYUAN in x)
    assert record["stages"] == ["方案报价"] and record["customer_tags"] == ["重点", "华东", "续约"]
