"""Editing the fields a sales team steers by: who edits what, tags, audit before/after, change history, search follows."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from dossier.app.customer_fields import clean_tags
from dossier.app.services import Dossier
from dossier.cli import cli
from foundation.config import load_settings
from foundation.errors import DossierError, Forbidden, NotFound, RegistryError
from index import Principal, SearchRequest
from records import AuditEvent, Customer, CustomerChange

NO_REDIS = {"DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"}
PASSWORD = "correct horse battery"
MINGYUAN = "上海明远科技有限公司"
YUNFAN = "杭州云帆信息技术有限公司"


def _csv(path, rows):
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def _settings(root):
    return load_settings(environ={"DOSSIER_HOME": str(root), **NO_REDIS}, dotenv=root / "none")


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A home with two reps (each owning one customer), a manager, finance and a viewer, and one document per customer.

    Built once; each test works on a copy of it (the tests change customers).
    """
    root = tmp_path_factory.mktemp("fields-template") / "home"
    assert CliRunner(env=NO_REDIS).invoke(cli, ["--home", str(root), "init"]).exit_code == 0
    dossier = Dossier.open(_settings(root))
    for name, role in (
        ("zhang", "sales"),
        ("li", "sales"),
        ("boss", "manager"),
        ("fin", "finance"),
        ("vi", "viewer"),
    ):
        dossier.accounts.add_user(name, role, PASSWORD)
    dossier.customers.import_registry(
        _csv(
            root.parent / "registry.csv",
            [
                ["客户名称", "负责人", "销售阶段", "重要程度", "客户类型"],
                [MINGYUAN, "zhang", "初步接触", "b", "潜在"],
                [YUNFAN, "li", "商务谈判", "A", "现有"],
            ],
        )
    )
    for name, text in (("m.txt", f"{MINGYUAN} 报价单 服务器"), ("y.txt", f"{YUNFAN} 报价单 交换机")):
        (root.parent / name).write_text(text, encoding="utf-8")
    dossier.ingest_paths([str(root.parent / "m.txt"), str(root.parent / "y.txt")])
    with dossier.sessions() as session:
        ids = {c.name: c.id for c in session.scalars(select(Customer))}
    dossier.close()
    return root, ids


@pytest.fixture
def home(template, tmp_path):
    root, ids = template
    copy = tmp_path / "home"
    shutil.copytree(root, copy)
    dossier = Dossier.open(_settings(copy))
    yield dossier, ids
    dossier.close()


def _who(dossier, name):
    return dossier.accounts.principal_for(name)


def _changes(dossier, cid):
    with dossier.sessions() as session:
        rows = session.scalars(
            select(CustomerChange).where(CustomerChange.customer_id == cid).order_by(CustomerChange.id)
        )
        return [(r.username, r.field, r.before, r.after) for r in rows]


def _edits(dossier, cid):
    with dossier.sessions() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "customer_edit", AuditEvent.target_id == cid)
        )
        return [(e.username, e.detail) for e in rows]


def _total(dossier, **req):
    return dossier.search(SearchRequest("报价单", **req), Principal.system())["total"]


def test_the_import_normalises_importance_and_keeps_no_history_for_new_customers(home):
    dossier, ids = home
    with dossier.sessions() as session:
        assert session.get(Customer, ids[MINGYUAN]).importance == "B"
    assert _changes(dossier, ids[MINGYUAN]) == []
    assert _total(dossier, stages=("初步接触",)) == 1
    assert _total(dossier, importance=("a",)) == 1


def test_a_rep_edits_stage_tags_contacts_and_notes_of_their_own_customer(home):
    dossier, ids = home
    cid = ids[MINGYUAN]
    result = dossier.customers.update(
        cid,
        {
            "stage": "方案报价",
            "tags": "重点客户， 华东 ,重点客户",
            "contacts": [{"name": "李明", "mobile": "13812345678"}],
            "notes": "下周回访",
        },
        _who(dossier, "zhang"),
    )
    assert result["changed"] == ["contacts", "notes", "stage", "tags"]
    assert result["reanalysed"] == 1  # its document's search fields follow
    with dossier.sessions() as session:
        c = session.get(Customer, cid)
        assert (c.stage, c.tags, c.notes) == ("方案报价", ["重点客户", "华东"], "下周回访")
        assert c.contacts[0]["name"] == "李明" and c.contacts[0]["mobile"] == "13812345678"
    assert _changes(dossier, cid) == [("zhang", "stage", "初步接触", "方案报价")]
    ((user, detail),) = _edits(dossier, cid)
    assert user == "zhang"
    assert detail["changed"]["stage"] == ["初步接触", "方案报价"]
    assert detail["changed"]["tags"] == [[], ["重点客户", "华东"]]
    assert detail["changed"]["contacts"][0] == []
    assert detail["changed"]["contacts"][1][0]["name"] == "李明"
    assert detail["changed"]["notes"] == [None, "下周回访"]
    assert _total(dossier, stages=("方案报价",)) == 1
    assert _total(dossier, customer_tags=("华东",)) == 1
    assert dossier.search(SearchRequest("ctag:重点客户 stage:方案报价"), Principal.system())["total"] == 1


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"importance": "A"}, "importance"),
        ({"stage": "x", "owner_name": "zhang2"}, "owner_name"),
        ({"name": "改名有限公司"}, "name"),
    ],
)
def test_a_rep_may_not_edit_other_fields(home, fields, words):
    dossier, ids = home
    with pytest.raises(Forbidden) as caught:
        dossier.customers.update(ids[MINGYUAN], fields, _who(dossier, "zhang"))
    assert words in str(caught.value) and "销售只能修改联系人、销售阶段、客户标签和备注" in str(caught.value)
    with dossier.sessions() as session:
        assert session.get(Customer, ids[MINGYUAN]).stage == "初步接触"
    assert _edits(dossier, ids[MINGYUAN]) == []


def test_a_rep_may_not_edit_another_reps_customer(home):
    dossier, ids = home
    with pytest.raises(Forbidden) as caught:
        dossier.customers.update(ids[YUNFAN], {"stage": "已签约"}, _who(dossier, "zhang"))
    assert "不由您负责" in str(caught.value) and "ask a manager" in str(caught.value)


@pytest.mark.parametrize("user", ["fin", "vi"])
def test_finance_and_viewers_edit_nothing(home, user):
    dossier, ids = home
    with pytest.raises(Forbidden):
        dossier.customers.update(ids[MINGYUAN], {"notes": "x"}, _who(dossier, user))


def test_an_unknown_customer_is_not_found_for_everyone(home):
    dossier, _ = home
    for user in ("zhang", "boss"):
        with pytest.raises(NotFound):
            dossier.customers.update(99999, {"stage": "x"}, _who(dossier, user))


def test_a_manager_edits_every_field_and_each_steering_change_is_kept(home):
    dossier, ids = home
    cid = ids[YUNFAN]
    result = dossier.customers.update(
        cid,
        {"importance": "ｃ", "customer_type": "流失", "owner_name": "zhang", "stage": "", "tags": ["续约"]},
        _who(dossier, "boss"),
    )
    assert set(result["changed"]) >= {"importance", "customer_type", "owner_name", "stage", "tags"}
    assert sorted(_changes(dossier, cid)) == sorted(
        [
            ("boss", "importance", "A", "C"),
            ("boss", "customer_type", "现有客户", "流失客户"),
            ("boss", "owner_name", "li", "zhang"),
            ("boss", "stage", "商务谈判", None),
        ]
    )
    assert _total(dossier, importance=("C",)) == 1 and _total(dossier, stages=("商务谈判",)) == 0
    assert _total(dossier, customer_types=("流失客户",)) == 1
    # zhang owns it now and may edit it; li no longer may
    dossier.customers.update(cid, {"notes": "接手"}, _who(dossier, "zhang"))
    with pytest.raises(Forbidden):
        dossier.customers.update(cid, {"notes": "还是我的"}, _who(dossier, "li"))


def test_a_stage_longer_than_32_characters_is_refused_not_cut(home):
    dossier, ids = home
    with pytest.raises(RegistryError) as caught:
        dossier.customers.update(ids[YUNFAN], {"stage": "阶" * 33}, _who(dossier, "li"))
    assert "最多 32 个字符" in str(caught.value)


def test_an_importance_other_than_a_b_c_is_refused(home):
    dossier, ids = home
    with pytest.raises(RegistryError) as caught:
        dossier.customers.update(ids[YUNFAN], {"importance": "D"}, _who(dossier, "boss"))
    assert "A、B 或 C" in str(caught.value)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ([f"t{i}" for i in range(21)], "最多 20 个"),
        (["x" * 33], "最多 32 个字符"),
        (["华东/华南"], "分隔符"),
        ("a,b;c", None),
        ([" 重点 ", "重点", "ＶＩＰ", "vip"], None),
        ([], None),
    ],
)
def test_customer_tags_are_checked(value, error):
    if error is None:
        tags = clean_tags(value)
        assert len(tags) == len(set(tags)) and all(t == t.strip() for t in tags)
        return
    with pytest.raises(RegistryError) as caught:
        clean_tags(value)
    assert error in str(caught.value)


def test_clean_tags_keeps_the_first_of_duplicates():
    assert clean_tags([" 重点 ", "重点", "ＶＩＰ", "vip", "a  b"]) == ["重点", "ＶＩＰ", "a b"]
    assert clean_tags("a，b；c、d") == ["a", "b", "c", "d"]


def test_a_bad_tag_changes_nothing(home):
    dossier, ids = home
    with pytest.raises(DossierError):
        dossier.customers.update(
            ids[MINGYUAN], {"stage": "新阶段", "tags": ["x" * 40]}, _who(dossier, "zhang")
        )
    with dossier.sessions() as session:
        assert session.get(Customer, ids[MINGYUAN]).stage == "初步接触"
    assert _changes(dossier, ids[MINGYUAN]) == []


def test_a_registry_import_that_changes_steering_fields_keeps_their_history(home, tmp_path):
    dossier, ids = home
    dossier.customers.import_registry(
        _csv(tmp_path / "again.csv", [["客户名称", "销售阶段", "重要程度"], [MINGYUAN, "已签约", "A"]]),
        actor="boss",
    )
    assert sorted(_changes(dossier, ids[MINGYUAN])) == [
        ("boss", "importance", "B", "A"),
        ("boss", "stage", "初步接触", "已签约"),
    ]
    assert _total(dossier, stages=("已签约",), importance=("A",)) == 1


def test_with_a_queue_the_reindex_is_a_job_for_the_workers(home, redis_url):
    from workers import run_worker

    dossier, ids = home
    queued = Dossier.open(dossier.settings.with_overrides(DOSSIER_REDIS_URL=redis_url))
    try:
        result = queued.customers.update(ids[MINGYUAN], {"tags": ["排队"]}, _who(queued, "zhang"))
        assert result["reanalysed"] == 1
        assert _total(queued, customer_tags=("排队",)) == 0  # waiting for a worker
        run_worker(queued.settings, burst=True)
        assert _total(queued, customer_tags=("排队",)) == 1
    finally:
        queued.close()


def test_the_registry_file_carries_customer_tags_and_round_trips(home, tmp_path):
    dossier, ids = home
    dossier.customers.update(ids[MINGYUAN], {"tags": ["重点", "华东"]}, _who(dossier, "zhang"))
    out = tmp_path / "registry.csv"
    dossier.customers.export_registry(out)
    with out.open(encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    assert "客户标签" in rows[0]
    column = rows[0].index("客户标签")
    assert next(r for r in rows if r[rows[0].index("客户名称")] == MINGYUAN)[column] == "重点；华东"
    again = dossier.customers.import_registry(out)
    assert again["updated"] == 0 and again["errors"] == []
    # a file without the tags keeps them; one with tags replaces them; a bad tag is that row's error
    dossier.customers.import_registry(_csv(tmp_path / "a.csv", [["客户名称", "备注"], [MINGYUAN, "x"]]))
    dossier.customers.import_registry(
        _csv(tmp_path / "b.csv", [["客户名称", "标签"], [YUNFAN, "新客户,华南"]])
    )
    bad = dossier.customers.import_registry(
        _csv(tmp_path / "c.csv", [["客户名称", "客户标签"], [YUNFAN, "x" * 40]])
    )
    assert len(bad["errors"]) == 1 and "最多 32 个字符" in bad["errors"][0]["error"]
    with dossier.sessions() as session:
        assert session.get(Customer, ids[MINGYUAN]).tags == ["重点", "华东"]
        assert session.get(Customer, ids[YUNFAN]).tags == ["新客户", "华南"]
    assert _total(dossier, customer_tags=("华南",)) == 1  # the import re-analysed its documents


def test_a_background_export_keeps_the_steering_filters():
    """A queued export stores its request as JSON: the stage, importance and tag filters survive the trip."""
    from dossier.app.export import filters_of, request_from_json, request_to_json

    request = SearchRequest("报价", stages=("商务谈判",), importance=("A",), customer_tags=("重点", "华东"))
    back, limit = request_from_json(json.loads(json.dumps(request_to_json(request, 5))))
    assert (back.stages, back.importance, back.customer_tags, limit) == (
        ("商务谈判",),
        ("A",),
        ("重点", "华东"),
        5,
    )
    assert filters_of(request) == {
        "stages": ["商务谈判"],
        "importance": ["A"],
        "customer_tags": ["重点", "华东"],
    }
