"""Customer owners follow the accounts: a registry owner name (负责人) links to the account whose login or
display name it is — whenever the account appears, is renamed or gets a display name, not only at import.

Real components: a SQLite data home, the corpus registry (owners 罗蓉, 徐云诗 …), the CLI through click's
runner, a contract ingested in process (contracts are confidential: only management and the owner read them).
"""

from __future__ import annotations

import json
import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from dossier.cli import cli
from tests.conftest import DEV, audit_events

NO_REDIS = {"DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"}
PASSWORD = "Owner-test-Passw0rd"
#: A confidential contract of 苏州金桥电气有限公司 (C015, owner 罗蓉 in the corpus registry).
CONTRACT = DEV / "contracts" / "等保整改服务协议_金桥电气_FW-2024-192.txt"
REGISTRY = json.loads((DEV / "customers.json").read_text(encoding="utf-8"))


def _run(home, *args, input=None):  # type: ignore[no-untyped-def]
    return CliRunner(env=NO_REDIS).invoke(
        cli, ["--home", str(home), *args], input=input, catch_exceptions=False
    )


def _owned_by(owner: str) -> set[str]:
    return {c["full_name"] for c in REGISTRY["customers"] if c["sales_owner"] == owner}


def _listed(home) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {c["name"]: c for c in json.loads(_run(home, "customers", "list", "--json").output)}


def _add(home, login: str, *extra: str):  # type: ignore[no-untyped-def]
    return _run(
        home, "users", "add", login, "--role", "sales", *extra, "--password-stdin", input=f"{PASSWORD}\n"
    )


def _home_with_contract(tmp_path):  # type: ignore[no-untyped-def]
    """A home with the corpus registry imported and the 金桥电气 contract ingested; returns (home, document id)."""
    assert _run(tmp_path, "init").exit_code == 0
    assert _run(tmp_path, "customers", "import", str(DEV / "customers.json")).exit_code == 0
    summary = json.loads(_run(tmp_path, "ingest", str(CONTRACT), "--wait", "--json").output)
    doc_id = summary["documents"][0]["id"]
    shown = json.loads(_run(tmp_path, "show", str(doc_id), "--json").output)
    assert shown["customers"] == ["苏州金桥电气有限公司"]
    return tmp_path, doc_id


def _reads(home, user: str, doc_id: int) -> bool:  # type: ignore[no-untyped-def]
    return _run(home, "show", str(doc_id), "--as", user, "--json").exit_code == 0


def test_an_account_added_after_the_import_owns_its_customers_at_once(tmp_path):
    """GIVEN the registry names 罗蓉 as owner and no account is hers WHEN `users add luorong --display-name 罗蓉`
    THEN her customers are hers at once (no second import): she reads their confidential contract."""
    home, doc_id = _home_with_contract(tmp_path)
    listed = _listed(home)
    row = listed["苏州金桥电气有限公司"]
    assert row["owner_account"] is None and row["owner_warning"] == "no_account"
    added = _add(home, "luorong", "--display-name", "罗蓉")
    assert added.exit_code == 0, added.output
    assert f"{len(_owned_by('罗蓉'))} customer(s)" in added.output
    listed = _listed(home)
    assert {n for n, c in listed.items() if c["owner_account"] == "luorong"} == _owned_by("罗蓉")
    assert listed["苏州金桥电气有限公司"]["owner_warning"] is None
    assert _reads(home, "luorong", doc_id)
    _add(home, "xuyunshi")  # another rep without a display name: owns nothing of 罗蓉's
    assert not _reads(home, "xuyunshi", doc_id)


def test_a_login_equal_to_the_owner_name_matches_after_normalisation(tmp_path):
    """An owner name matches a login too, whatever its width, case and spaces (NFKC, case folded)."""
    assert _run(tmp_path, "init").exit_code == 0
    (tmp_path / "r.csv").write_text(
        "客户名称,简称,负责人\n杭州西溪数据有限公司,西溪数据,Ｌｉ Ｌｅｉ\n", encoding="utf-8"
    )
    assert _run(tmp_path, "customers", "import", str(tmp_path / "r.csv")).exit_code == 0
    assert _listed(tmp_path)["杭州西溪数据有限公司"]["owner_account"] is None
    assert _add(tmp_path, "lilei").exit_code == 0
    assert _listed(tmp_path)["杭州西溪数据有限公司"]["owner_account"] == "lilei"


def test_a_display_name_set_later_links_and_a_changed_one_keeps_the_customers(tmp_path):
    """`users set-display-name` links the customers of that owner name; changing it again unlinks nothing."""
    home, doc_id = _home_with_contract(tmp_path)
    assert _add(home, "luorong").exit_code == 0
    assert not _reads(home, "luorong", doc_id)
    result = _run(home, "users", "set-display-name", "luorong", "罗蓉")
    assert result.exit_code == 0 and "now owns" in result.output
    assert _reads(home, "luorong", doc_id)
    assert _run(home, "users", "set-display-name", "luorong", "罗蓉（华东）").exit_code == 0
    assert _reads(home, "luorong", doc_id)
    users = [json.loads(line) for line in _run(home, "users", "list", "--json").output.splitlines()]
    assert next(u for u in users if u["username"] == "luorong")["display_name"] == "罗蓉（华东）"


def test_a_renamed_account_keeps_its_customers_and_everything_that_names_its_login(tmp_path):
    """`users rename` carries the login to uploads and batches; the customers stay; audit events stay as written."""
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from records import IngestBatch, Version

    home, doc_id = _home_with_contract(tmp_path)
    assert _add(home, "luorong", "--display-name", "罗蓉").exit_code == 0
    d = Dossier.open(load_settings(environ={"DOSSIER_HOME": str(home), **NO_REDIS}, dotenv=home / "no.env"))
    d.ingest_upload(
        "纪要.txt",
        "会议纪要\n客户：苏州金桥电气有限公司\n".encode(),
        principal=d.accounts.principal_for("luorong"),
    )
    result = _run(home, "users", "rename", "luorong", "rong.luo")
    assert result.exit_code == 0, result.output
    assert _reads(home, "rong.luo", doc_id)
    assert {n for n, c in _listed(home).items() if c["owner_account"] == "rong.luo"} == _owned_by("罗蓉")
    with d.sessions() as session:
        assert {v.uploaded_by for v in session.query(Version)} == {"system", "rong.luo"}
        assert "luorong" not in {b.created_by for b in session.query(IngestBatch)}
    renamed = audit_events(d, "user_rename")[-1]
    assert renamed.detail["from"] == "luorong" and renamed.detail["to"] == "rong.luo"
    assert renamed.detail["carried"]["versions"] == 1
    assert any(
        e.detail["username"] == "luorong" for e in audit_events(d, "user_add")
    )  # the trail stays as written
    assert _run(home, "show", str(doc_id), "--as", "luorong", "--json").exit_code != 0
    refused = _run(home, "users", "rename", "admin", "root")
    assert refused.exit_code != 0 and "admin" in refused.output
    assert _add(home, "other").exit_code == 0
    taken = _run(home, "users", "rename", "other", "Rong.Luo")
    assert taken.exit_code != 0 and "已存在" in taken.output
    assert _run(home, "users", "rename", "other", "system").exit_code != 0


def test_unmatched_and_ambiguous_owner_names_are_warned_about(tmp_path):
    """`customers list` and `status` (and their --json) name each owner name that matches no account, or two
    (an ambiguous name links to neither)."""
    home = tmp_path
    assert _run(home, "init").exit_code == 0
    assert _add(home, "zhanghan1", "--display-name", "张晗").exit_code == 0
    assert _add(home, "zhanghan2", "--display-name", "张晗").exit_code == 0
    assert _run(home, "customers", "import", str(DEV / "customers.json")).exit_code == 0
    text = _run(home, "customers", "list").output
    for owner in ("罗蓉", "徐云诗", "冯清强", "周晨杰"):
        assert f"负责人“{owner}”没有对应账户" in text and f"owner “{owner}” matches no account" in text
    assert "负责人“张晗”同时匹配多个账户（zhanghan1、zhanghan2）" in text
    listed = _listed(home)
    assert {listed[n]["owner_warning"] for n in _owned_by("张晗")} == {"ambiguous"}
    status = json.loads(_run(home, "status", "--json").output)
    by_owner = {u["owner"]: u for u in status["unmatched_owners"]}
    assert by_owner["罗蓉"]["reason"] == "no_account" and by_owner["罗蓉"]["count"] == len(_owned_by("罗蓉"))
    assert by_owner["张晗"]["reason"] == "ambiguous" and by_owner["张晗"]["accounts"] == [
        "zhanghan1",
        "zhanghan2",
    ]
    assert "负责人“罗蓉”没有对应账户" in _run(home, "status").output
    assert (
        _run(home, "users", "set-display-name", "zhanghan2", "").exit_code == 0
    )  # no longer ambiguous: linked
    assert {listed[n]["owner_account"] for n in _owned_by("张晗")} == {None}
    assert {c["owner_account"] for n, c in _listed(home).items() if n in _owned_by("张晗")} == {"zhanghan1"}
    assert _add(home, "luorong", "--display-name", "罗蓉").exit_code == 0
    owners = {u["owner"] for u in json.loads(_run(home, "status", "--json").output)["unmatched_owners"]}
    assert owners == {"徐云诗", "冯清强", "周晨杰"}


def test_an_owner_changed_by_an_import_or_an_edit_follows_the_new_name(tmp_path):
    """A registry import or an edit that gives a customer another owner links it to that owner's account."""
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from index import Principal

    home, doc_id = _home_with_contract(tmp_path)
    for login, shown in (("luorong", "罗蓉"), ("xuyunshi", "徐云诗")):
        assert _add(home, login, "--display-name", shown).exit_code == 0
    (tmp_path / "move.csv").write_text(
        "客户编号,客户名称,负责人\nC015,苏州金桥电气有限公司,徐云诗\n", encoding="utf-8"
    )
    assert _run(home, "customers", "import", str(tmp_path / "move.csv")).exit_code == 0
    assert _listed(home)["苏州金桥电气有限公司"]["owner_account"] == "xuyunshi"
    assert _reads(home, "xuyunshi", doc_id) and not _reads(home, "luorong", doc_id)
    d = Dossier.open(load_settings(environ={"DOSSIER_HOME": str(home), **NO_REDIS}, dotenv=home / "no.env"))
    customer_id = _listed(home)["苏州金桥电气有限公司"]["id"]
    d.customers.update(customer_id, {"owner_name": "罗蓉"}, Principal.system())
    assert _listed(home)["苏州金桥电气有限公司"]["owner_account"] == "luorong"
    assert _reads(home, "luorong", doc_id) and not _reads(home, "xuyunshi", doc_id)
    edit = audit_events(d, "customer_edit")[-1]
    assert edit.detail["changed"]["owner_name"] == ["徐云诗", "罗蓉"]
    assert edit.detail["changed"]["owner_account"] == ["xuyunshi", "luorong"]


@pytest.fixture(params=["sqlite", "postgresql"])
def service(request: pytest.FixtureRequest, tmp_path):  # type: ignore[no-untyped-def]
    """An initialised Dossier on SQLite, and on PostgreSQL records (with the OpenSearch index that profile needs)."""
    from tests import _opensearch
    from tests.app.test_accounts import _dossier

    env: dict[str, str] = {}
    url = None
    if request.param == "postgresql":
        env["DOSSIER_OPENSEARCH_URL"] = _opensearch.cluster_url()
        env["DOSSIER_OPENSEARCH_INDEX"] = f"dossier-test-{uuid.uuid4().hex[:10]}"
        url = request.getfixturevalue("postgres_url")
    d = _dossier(tmp_path, url, **env)
    yield d
    d.close()


def test_the_services_link_keep_and_carry_on_both_record_databases(service):
    """The calls behind the commands: an account added with a display name (spaces do not count) owns its
    customers; a rename keeps them and carries the login to its uploads; status lists the other owners."""
    from records import Version

    d = service
    d.customers.import_registry(DEV / "customers.json")
    added = d.accounts.add_user("luorong", "sales", PASSWORD, display_name="罗 蓉")
    assert set(added["linked"]) == _owned_by("罗蓉")
    d.ingest_upload("纪要.txt", "会议纪要 金桥电气\n".encode(), principal=d.accounts.principal_for("luorong"))
    assert d.accounts.rename_user("luorong", "rong.luo") == {"linked": []}
    assert len(d.accounts.principal_for("rong.luo").owned_customer_ids) == len(_owned_by("罗蓉"))
    with d.sessions() as session:
        assert session.scalars(select(Version.uploaded_by)).all() == ["rong.luo"]
    owners = {u["owner"] for u in d.status()["unmatched_owners"]}
    assert owners == {"徐云诗", "冯清强", "周晨杰", "张晗"}
