"""The customer registry: `dossier customers import|export|list|confirm|reject|merge` and schema upgrades."""

from __future__ import annotations

import csv
import io
import json

from click.testing import CliRunner
from openpyxl import load_workbook

from dossier.cli import cli
from tests.conftest import DEV

NO_REDIS = {"DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"}


def _run(home, *args):
    return CliRunner(env=NO_REDIS).invoke(cli, ["--home", str(home), *args], catch_exceptions=False)


def _init(home):
    assert _run(home, "init").exit_code == 0


def test_importing_the_corpus_registry_twice_creates_each_customer_once(tmp_path):
    """The corpus's customers.json imports every customer (and the seller as our own company); again changes nothing."""
    _init(tmp_path)
    registry = json.loads((DEV / "customers.json").read_text(encoding="utf-8"))
    first = _run(tmp_path, "customers", "import", str(DEV / "customers.json"), "--json")
    report = json.loads(first.output)
    assert first.exit_code == 0 and report["errors"] == []
    assert report["created"] == len(registry["customers"]) + 1
    again = json.loads(_run(tmp_path, "customers", "import", str(DEV / "customers.json"), "--json").output)
    assert again["created"] == 0 and again["updated"] == 0 and again["unchanged"] == report["created"]
    listed = json.loads(_run(tmp_path, "customers", "list", "--json").output)
    assert {c["name"] for c in listed} == {c["full_name"] for c in registry["customers"]}
    sample = registry["customers"][0]
    row = next(c for c in listed if c["name"] == sample["full_name"])
    assert row["customer_type"] == sample["customer_type"] and row["region"] == sample["region"]["province"]
    assert sample["short_name"] in row["aliases"]


def test_a_gbk_csv_with_chinese_headers_imports_and_bad_rows_are_reported(tmp_path):
    """Each bad row is reported with its number and reason; good rows go in; a wrong check character is kept and flagged."""
    _init(tmp_path)
    text = (
        "客户名称,简称,统一社会信用代码,客户类型,行业,省份,城市,负责人,联系人\n"
        "深圳华腾电子有限公司,华腾电子;华腾,91440300MA5DC6QX1K,潜在,电子,广东省,深圳市,罗蓉,王磊|总经理|13900001111||wl@ht.cn\n"
        ",无名,,,,,,,\n"
        "武汉光谷软件有限公司,光谷软件,91420100MA4K0XXXX,现有,软件,湖北省,武汉市,,\n"
        "南京秦淮贸易有限公司,秦淮贸易,,老客户,,,,,\n"
        "杭州西溪数据有限公司,西溪数据,91330106MA2H0ABC1X,现有,软件,浙江省,杭州市,,\n"
    )
    path = tmp_path / "客户.csv"
    path.write_bytes(text.encode("gbk"))
    result = _run(tmp_path, "customers", "import", str(path), "--json")
    report = json.loads(result.output)
    assert result.exit_code == 1  # errors make the command fail, after importing the good rows
    assert report["created"] == 2
    assert {e["row"] for e in report["errors"]} == {3, 4, 5}
    assert any("名称" in e["error"] for e in report["errors"] if e["row"] == 3)
    assert any("18" in e["error"] for e in report["errors"] if e["row"] == 4)
    assert any("客户类型" in e["error"] for e in report["errors"] if e["row"] == 5)
    assert [w["row"] for w in report["warnings"]] == [6]  # wrong check character: kept, flagged
    listed = {c["name"]: c for c in json.loads(_run(tmp_path, "customers", "list", "--json").output)}
    assert listed["深圳华腾电子有限公司"]["aliases"] == ["华腾电子", "华腾"]
    assert listed["深圳华腾电子有限公司"]["customer_type"] == "潜在客户"
    assert listed["杭州西溪数据有限公司"]["credit_code"] == "91330106MA2H0ABC1X"


def test_export_round_trips_through_csv_xlsx_and_json(tmp_path):
    """Exported files import back unchanged; CSV has a BOM and formula-like cells are neutralised."""
    _init(tmp_path)
    _run(tmp_path, "customers", "import", str(DEV / "customers.json"))
    for suffix in ("csv", "xlsx", "json"):
        out = tmp_path / f"registry.{suffix}"
        result = _run(tmp_path, "customers", "export", str(out))
        assert result.exit_code == 0, result.output
        again = json.loads(_run(tmp_path, "customers", "import", str(out), "--json").output)
        assert again["created"] == 0 and again["updated"] == 0 and again["errors"] == [], (suffix, again)
    raw = (tmp_path / "registry.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:2] == ["客户编号", "客户名称"]
    book = load_workbook(tmp_path / "registry.xlsx", read_only=True)
    assert next(book.worksheets[0].iter_rows(values_only=True))[1] == "客户名称"


def test_formula_cells_are_neutralised_on_export(tmp_path):
    """A customer named like a spreadsheet formula is exported as inert text."""
    _init(tmp_path)
    (tmp_path / "in.csv").write_text(
        '客户名称,备注\n"=HYPERLINK(""http://x"")有限公司",+1\n', encoding="utf-8"
    )
    assert _run(tmp_path, "customers", "import", str(tmp_path / "in.csv")).exit_code == 0
    _run(tmp_path, "customers", "export", str(tmp_path / "out.csv"))
    rows = list(csv.reader(io.StringIO((tmp_path / "out.csv").read_text(encoding="utf-8-sig"))))
    assert rows[1][1].startswith("'=") and rows[1][-1] == "'+1"


def test_a_registry_without_a_name_column_is_refused_with_a_reason(tmp_path):
    """A file whose header has no name column fails with one line saying so."""
    _init(tmp_path)
    (tmp_path / "bad.csv").write_text("foo,bar\n1,2\n", encoding="utf-8")
    result = _run(tmp_path, "customers", "import", str(tmp_path / "bad.csv"))
    assert result.exit_code == 1 and "客户名称" in result.output and "Traceback" not in result.output


def test_review_commands_confirm_reject_and_merge(tmp_path):
    """Suggestions from documents are listed, and confirm/merge/reject act on them from the CLI."""
    _init(tmp_path)
    _run(tmp_path, "customers", "import", str(DEV / "customers.json"))
    notes = tmp_path / "notes"
    notes.mkdir()
    for i, company in enumerate(("青岛海澜装备有限公司", "厦门鹭江软件有限公司", "大连星海港务有限公司")):
        (notes / f"n{i}.txt").write_text(
            f"客户拜访记录\n客户名称：{company}\n拜访时间：2024-05-0{i + 1}\n", encoding="utf-8"
        )
    assert _run(tmp_path, "ingest", str(notes), "--wait").exit_code == 0
    suggested = {
        c["name"]: c["id"]
        for c in json.loads(_run(tmp_path, "customers", "list", "--suggested", "--json").output)
    }
    assert set(suggested) >= {"青岛海澜装备有限公司", "厦门鹭江软件有限公司", "大连星海港务有限公司"}
    assert (
        "confirmed" in _run(tmp_path, "customers", "confirm", str(suggested["青岛海澜装备有限公司"])).output
    )
    assert "rejected" in _run(tmp_path, "customers", "reject", str(suggested["厦门鹭江软件有限公司"])).output
    target = suggested["青岛海澜装备有限公司"]
    merged = _run(
        tmp_path, "customers", "merge", str(suggested["大连星海港务有限公司"]), "--into", str(target)
    )
    assert merged.exit_code == 0
    listed = {c["name"]: c for c in json.loads(_run(tmp_path, "customers", "list", "--json").output)}
    assert "大连星海港务有限公司" in listed["青岛海澜装备有限公司"]["aliases"]
    assert listed["青岛海澜装备有限公司"]["documents"] == 2
    left = json.loads(_run(tmp_path, "customers", "list", "--suggested", "--json").output)
    assert not {c["name"] for c in left} & set(suggested)


def test_reextract_reports_counts(tmp_path):
    """`dossier reextract --json` re-runs the step on stored text and says how many documents it did."""
    _init(tmp_path)
    (tmp_path / "a.txt").write_text(
        "报价单\n报价日期：2024年3月1日\n联系人：王芳 13700001111\n", encoding="utf-8"
    )
    _run(tmp_path, "ingest", str(tmp_path / "a.txt"), "--wait")
    result = _run(tmp_path, "reextract", "--json")
    assert result.exit_code == 0 and json.loads(result.output)["documents"] == 1


def test_an_older_data_home_is_upgraded_when_opened(tmp_path):
    """A data home from before the registry opens upgraded: records migrated, entities extracted, index rebuilt."""
    from alembic import command

    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from index import IndexDocument, Principal, SearchRequest, SqliteBackend
    from records import is_migrated, make_engine
    from records._db import _alembic_config

    home = tmp_path / "old"
    engine = make_engine(f"sqlite:///{home}/dossier.db")
    command.upgrade(_alembic_config(engine), "0003")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO customers (name, aliases, created_at) VALUES ('旧客户有限公司', '[]', '2024-01-01')"
        )
        conn.exec_driver_sql(
            "INSERT INTO documents (title, doc_type, customer_id, confidentiality, status, language, warnings,"
            " created_at, updated_at) VALUES ('旧文档', 'other', 1, 'internal', 'indexed', '', '[]',"
            " '2024-01-01', '2024-01-01')"
        )
        conn.exec_driver_sql(
            "INSERT INTO pages (document_id, number, text, needs_ocr, ocr) VALUES"
            " (1, 1, '联系人：王芳　电话：13700001111　签订日期：2024年3月1日', 0, 0)"
        )
    # The index as the older version wrote it (schema 1): the new one flags it for a rebuild.
    backend = SqliteBackend(engine)
    backend.ensure_schema()
    backend.index(
        [
            IndexDocument(
                id=1, title="旧文档", text="联系人：王芳　电话：13700001111", customers=("旧客户有限公司",)
            )
        ]
    )
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE search_meta SET value = '1' WHERE key = 'schema'")
    engine.dispose()
    assert not is_migrated(engine)
    settings = load_settings(environ={"DOSSIER_HOME": str(home), **NO_REDIS}, dotenv=tmp_path / "none")
    assert settings.database_url.endswith(f"{home}/dossier.db")
    dossier = Dossier.open(settings)
    assert is_migrated(dossier.engine) and not dossier.backend.needs_reindex()
    with dossier.engine.connect() as conn:
        assert conn.exec_driver_sql(
            "SELECT document_id, customer_id, method FROM document_customers"
        ).all() == [(1, 1, "given")]
    shown = dossier.show(1, Principal.system())
    assert shown["entities"]["phone"] == ["13700001111"] and shown["date"] == "2024-03-01"
    hits = dossier.search(SearchRequest("phone:13700001111"), Principal.system())["hits"]
    assert [h["id"] for h in hits] == [1] and hits[0]["customer"] == "旧客户有限公司"


def test_a_file_without_status_or_ids_keeps_our_company_and_the_registry_ids(tmp_path):
    """Re-importing a plain name list does not turn our own company into a customer or erase registry ids."""
    _init(tmp_path)
    _run(tmp_path, "customers", "import", str(DEV / "customers.json"))
    registry = json.loads((DEV / "customers.json").read_text(encoding="utf-8"))
    with (tmp_path / "plain.csv").open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(
            [
                ["客户名称", "行业"],
                [registry["seller"]["full_name"], ""],
                [registry["customers"][0]["full_name"], "新行业"],
            ]
        )
    report = json.loads(_run(tmp_path, "customers", "import", str(tmp_path / "plain.csv"), "--json").output)
    assert report["errors"] == [] and report["updated"] == 1
    listed = {c["name"]: c for c in json.loads(_run(tmp_path, "customers", "list", "--json").output)}
    assert registry["seller"]["full_name"] not in listed  # still our own company, not a customer
    first = listed[registry["customers"][0]["full_name"]]
    assert first["industry"] == "新行业"
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from records import Customer

    dossier = Dossier.open(
        load_settings(environ={"DOSSIER_HOME": str(tmp_path), **NO_REDIS}, dotenv=tmp_path / "none")
    )
    with dossier.sessions() as session:
        row = session.query(Customer).filter_by(name=registry["customers"][0]["full_name"]).one()
        assert row.external_id == registry["customers"][0]["id"]


def test_editing_a_customer_validates_and_relinks_its_documents(tmp_path):
    """A new alias links documents that name it; bad values are refused with the reason; only reviewers may edit."""
    import pytest

    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from foundation.errors import DossierError, Forbidden
    from index import Principal, SearchRequest

    _init(tmp_path)
    (tmp_path / "note.txt").write_text(
        "拜访记录\n今天与星河动力的采购部门沟通了二期需求。\n", encoding="utf-8"
    )
    dossier = Dossier.open(
        load_settings(environ={"DOSSIER_HOME": str(tmp_path), **NO_REDIS}, dotenv=tmp_path / "none")
    )
    admin = Principal.system()
    dossier.customers.import_registry(
        _write_csv(tmp_path, [["客户名称", "行业"], ["北京星河动力科技有限公司", "航天"]])
    )
    (doc_id,) = [d["id"] for d in dossier.ingest_paths([str(tmp_path / "note.txt")])["documents"]]
    assert dossier.show(doc_id, admin)["customers"] == []
    with dossier.sessions() as session:
        from records import Customer

        cid = session.query(Customer).filter_by(name="北京星河动力科技有限公司").one().id
    result = dossier.customers.update(cid, {"aliases": ["星河动力"], "customer_type": "现有"}, admin)
    assert result["reanalysed"] == 1
    assert dossier.show(doc_id, admin)["customers"] == ["北京星河动力科技有限公司"]
    assert dossier.search(SearchRequest("", customer_types=("现有客户",)), admin)["total"] == 1
    with pytest.raises(DossierError, match="客户类型"):
        dossier.customers.update(cid, {"customer_type": "大客户"}, admin)
    with pytest.raises(DossierError, match="名称"):
        dossier.customers.update(cid, {"name": ""}, admin)
    with pytest.raises(Forbidden):
        dossier.customers.update(cid, {"stage": "签约"}, Principal(username="s", role="sales"))


def _write_csv(tmp_path, rows):
    path = tmp_path / "rows.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_editing_other_fields_keeps_the_owner_account(tmp_path):
    """The owner's user account stays linked when a save does not change the owner; a new owner re-links it."""
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from index import Principal
    from records import Customer, User, hash_password

    _init(tmp_path)
    dossier = Dossier.open(
        load_settings(environ={"DOSSIER_HOME": str(tmp_path), **NO_REDIS}, dotenv=tmp_path / "none")
    )
    with dossier.sessions() as session:
        session.add(User(username="zhang", role="sales", password_hash=hash_password("x" * 12)))
        session.commit()
    dossier.customers.import_registry(
        _write_csv(tmp_path, [["客户名称", "负责人"], ["上海启航电子有限公司", "zhang"]])
    )
    with dossier.sessions() as session:
        customer = session.query(Customer).filter_by(name="上海启航电子有限公司").one()
        cid, owner = customer.id, customer.owner_id
    assert owner is not None
    dossier.customers.update(cid, {"stage": "商务谈判", "notes": "第一行\n第二行"}, Principal.system())
    with dossier.sessions() as session:
        customer = session.get(Customer, cid)
        assert customer.owner_id == owner and customer.notes == "第一行\n第二行"
    dossier.customers.update(cid, {"owner_name": "李四"}, Principal.system())
    with dossier.sessions() as session:
        assert session.get(Customer, cid).owner_id is None


def test_customer_type_filters_accept_short_and_english_forms(tmp_path):
    """`customers list --type 潜在` and `--type prospect` both mean 潜在客户."""
    _init(tmp_path)
    _run(tmp_path, "customers", "import", str(DEV / "customers.json"))
    registry = json.loads((DEV / "customers.json").read_text(encoding="utf-8"))
    expected = {c["full_name"] for c in registry["customers"] if c["customer_type"] == "潜在客户"}
    for form in ("潜在", "prospect", "潜在客户"):
        listed = json.loads(_run(tmp_path, "customers", "list", "--type", form, "--json").output)
        assert {c["name"] for c in listed} == expected, form


def test_the_registry_works_alike_on_sqlite_and_postgresql(records_engine):
    """Records-level registry on each database: import twice, export round-trip, extraction links and
    suggests, merge moves links, the folder lists by name with readable counts."""
    from sqlalchemy import select
    from sqlalchemy.orm import sessionmaker

    from dossier.app import folder, registry
    from index import Principal
    from pipeline.extraction import Extraction
    from records import Customer, Document, DocumentCustomer, Page, migrate

    migrate(records_engine)
    sessions = sessionmaker(records_engine, expire_on_commit=False)
    corpus = json.loads((DEV / "customers.json").read_text(encoding="utf-8"))
    with sessions() as session:
        first = registry.import_customers(session, registry.read_rows(DEV / "customers.json"))
        assert first.errors == [] and first.created == len(corpus["customers"]) + 1
    with sessions() as session:
        again = registry.import_customers(session, registry.read_rows(DEV / "customers.json"))
        assert (again.created, again.updated, again.unchanged) == (0, 0, first.created)
        rows = registry.export_rows(session)
        names = [r[1] for r in rows[1:]]
        assert names == sorted(names)  # code-point order on both databases
    sample = corpus["customers"][0]
    with sessions() as session:
        doc = Document(
            title="拜访记录",
            pages=[
                Page(
                    number=1,
                    text=(
                        f"拜访记录\n客户名称：{sample['full_name']}\n陪同：青岛海澜装备有限公司 张伟\n拜访时间：2024-05-01\n"
                    ),
                )
            ],
        )
        session.add(doc)
        session.flush()
        Extraction().apply(session, doc)
        session.commit()
        linked = [c.name for c in doc.linked_customers]
        assert linked[0] == sample["full_name"]
        suggested = session.scalars(select(Customer).where(Customer.status == "suggested")).all()
        assert [c.name for c in suggested] == ["青岛海澜装备有限公司"]
        doc_id, suggestion = doc.id, suggested[0].id
        target = session.scalars(select(Customer).where(Customer.name == sample["full_name"])).one().id
    with sessions() as session:
        registry.review(session, suggestion, "merge", into_id=target)
    with sessions() as session:
        links = session.scalars(select(DocumentCustomer).where(DocumentCustomer.document_id == doc_id)).all()
        assert {link.customer_id for link in links} == {target}
        assert "青岛海澜装备有限公司" in session.get(Customer, target).aliases
        listed = folder.list_customers(session, Principal(username="admin", role="admin"))
        assert [c["name"] for c in listed] == sorted(c["name"] for c in listed)
        assert next(c for c in listed if c["id"] == target)["documents"] == 1
        page = folder.customer_page(session, target, Principal(username="admin", role="admin"))
        assert [d["id"] for d in page["documents"]] == [doc_id]


# -- the trust issue: intake names, suggestions left behind, the audit trail ------------------------------------


def _json_lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def _names(tmp_path, *flags: str) -> set[str]:
    return {c["name"] for c in json.loads(_run(tmp_path, "customers", "list", *flags, "--json").output)}


def test_a_customer_named_at_intake_resolves_to_the_registry_and_is_never_confirmed(tmp_path):
    """GIVEN the corpus registry WHEN files are ingested with --customer as a registered short name, a variant
    of the full name, a typo, the typo once rejected, and our own company's short name THEN the short name and
    the variant file under the registered customer, the typo only becomes a pending suggestion (the registry
    does not grow), the rejected name and our own company file under no customer, and each says so."""
    _init(tmp_path)
    _run(tmp_path, "customers", "import", str(DEV / "customers.json"))
    confirmed = _names(tmp_path)

    def ingest(customer: str, n: int) -> tuple[dict, dict]:
        path = tmp_path / f"备忘录{n}.txt"
        path.write_text(f"备忘录 {n}\n内容：第 {n} 次沟通纪要。\n", encoding="utf-8")
        summary = json.loads(
            _run(tmp_path, "ingest", str(path), "--customer", customer, "--wait", "--json").output
        )
        shown = json.loads(_run(tmp_path, "show", str(summary["documents"][0]["id"]), "--json").output)
        return summary["customer"], shown

    for n, typed in enumerate(("光华物流", "武汉光华物流有限责任公司", " 光华物流（武汉）有限公司 ")):
        note, shown = ingest(typed, n)
        assert note["outcome"] == "registered" and note["customer"] == "光华物流（武汉）有限公司", note
        assert shown["customers"] == ["光华物流（武汉）有限公司"]
    assert "已归入登记客户“光华物流（武汉）有限公司”" in note["message"] if note["message"] else True

    note, typo = ingest("光华物留", 10)
    assert (
        note["outcome"] == "new" and "待确认" in note["message"] and "pending suggestion" in note["message"]
    )
    assert [link["status"] for link in typo["customer_links"]] == ["suggested"]
    note, _ = ingest("光华物留", 11)
    assert note["outcome"] == "suggested"
    assert _names(tmp_path) == confirmed and "光华物留" in _names(tmp_path, "--suggested")

    suggestion = typo["customer_links"][0]["id"]
    assert "已拒绝" in _run(tmp_path, "customers", "reject", str(suggestion)).output
    assert json.loads(_run(tmp_path, "show", str(typo["id"]), "--json").output)["customer_links"] == []
    note, shown = ingest("光华物留", 12)
    assert note["outcome"] == "rejected" and note["customer"] is None and "已被拒绝" in note["message"]
    assert shown["customer_links"] == []
    assert "光华物留" not in _names(tmp_path, "--suggested") | _names(tmp_path)

    note, shown = ingest("云帆信息", 13)
    assert note["outcome"] == "self" and shown["customer_links"] == [] and "本公司" in note["message"]

    (tmp_path / "备忘录20.txt").write_text("备忘录 20\n", encoding="utf-8")
    told = _run(tmp_path, "ingest", str(tmp_path / "备忘录20.txt"), "--customer", "光华物流", "--wait")
    assert (
        told.exit_code == 0
        and "已归入登记客户" in told.output
        and "filed under the registered customer" in told.output
    )


def _ingest_notes(tmp_path, notes: dict[str, str]) -> dict[str, int]:
    folder = tmp_path / "notes"
    folder.mkdir(exist_ok=True)
    for name, text in notes.items():
        (folder / name).write_text(text, encoding="utf-8")
    summary = json.loads(_run(tmp_path, "ingest", str(folder), "--wait", "--json").output)
    return {doc["file"].rsplit("/", 1)[-1]: doc["id"] for doc in summary["documents"]}


#: Notes naming customers by their short names, our own company (the seller) and one unknown company.
NOTES = {
    "a.txt": "拜访记录\n客户名称：光华物流\n拜访人：周晨杰\n",
    "b.txt": "会议纪要\n甲方：锦程物流\n乙方：云帆信息\n",
    "c.txt": "报价单\n客户：新锐汽配\n报价方：云帆信息\n",
    "d.txt": "合同\n甲方：青岛海澜装备有限公司\n乙方：云帆信息技术有限公司\n",
}


def test_importing_the_registry_folds_the_suggestions_it_names(tmp_path):
    """GIVEN documents ingested while the registry knew only full names (so the short names and our own company
    became suggestions) WHEN the full registry is imported THEN each suggestion it names is merged into that
    customer with its documents, the ones naming us are folded into our own company (never a customer), only
    the unknown company is still suggested, and extracting again suggests none of them."""
    _init(tmp_path)
    (tmp_path / "full-names.csv").write_text(
        "客户编号,客户名称\nC028,光华物流（武汉）有限公司\nC006,锦程物流（杭州）有限公司\nC038,新锐汽车零部件（西安）有限公司\n",
        encoding="utf-8",
    )
    _run(tmp_path, "customers", "import", str(tmp_path / "full-names.csv"))
    ids = _ingest_notes(tmp_path, NOTES)
    (tmp_path / "f.txt").write_text("备忘录\n本周工作安排。\n", encoding="utf-8")
    given = json.loads(
        _run(tmp_path, "ingest", str(tmp_path / "f.txt"), "--customer", "云帆信息", "--json").output
    )
    ids["f.txt"] = given["documents"][0]["id"]
    assert _names(tmp_path, "--suggested") >= {
        "光华物流",
        "锦程物流",
        "新锐汽配",
        "云帆信息",
        "云帆信息技术有限公司",
    }

    result = _run(tmp_path, "customers", "import", str(DEV / "customers.json"), "--json")
    report = json.loads(result.output)
    assert result.exit_code == 0
    merged = {m["name"]: m for m in report["suggestions_merged"]}
    assert merged["光华物流"]["into"] == "光华物流（武汉）有限公司" and merged["光华物流"]["documents"] == 1
    assert merged["锦程物流"]["into"] == "锦程物流（杭州）有限公司"
    assert merged["新锐汽配"]["into"] == "新锐汽车零部件（西安）有限公司"
    assert (
        merged["云帆信息技术有限公司"]["self"]
        and merged["云帆信息技术有限公司"]["into"] == "杭州云帆信息技术有限公司"
    )
    assert _names(tmp_path, "--suggested") == {"青岛海澜装备有限公司"}
    listed = {c["name"]: c for c in json.loads(_run(tmp_path, "customers", "list", "--json").output)}
    assert (
        listed["光华物流（武汉）有限公司"]["documents"] == 1
        and listed["锦程物流（杭州）有限公司"]["documents"] == 1
    )
    assert "杭州云帆信息技术有限公司" not in listed
    for name in ("b.txt", "c.txt", "d.txt", "f.txt"):  # we are never among a document's customers
        shown = json.loads(_run(tmp_path, "show", str(ids[name]), "--json").output)
        assert not any("云帆" in link["name"] for link in shown["customer_links"]), shown["customer_links"]

    assert _run(tmp_path, "reextract").exit_code == 0
    assert _names(tmp_path, "--suggested") == {"青岛海澜装备有限公司"}
    (tmp_path / "notes" / "e.txt").write_text(
        "合同\n甲方：青岛海澜装备有限公司\n乙方：云帆信息技术（杭州）有限公司\n", encoding="utf-8"
    )
    _ingest_notes(tmp_path, {})
    assert _names(tmp_path, "--suggested") == {"青岛海澜装备有限公司"}


def test_merge_reports_a_merge(tmp_path):
    """`customers merge` says the suggestion was merged into the target (it used to print "rejected")."""
    _init(tmp_path)
    _run(tmp_path, "customers", "import", str(DEV / "customers.json"))
    _ingest_notes(tmp_path, {"d.txt": NOTES["d.txt"]})
    suggested = {
        c["name"]: c["id"]
        for c in json.loads(_run(tmp_path, "customers", "list", "--suggested", "--json").output)
    }
    target = {c["name"]: c["id"] for c in json.loads(_run(tmp_path, "customers", "list", "--json").output)}[
        "光华物流（武汉）有限公司"
    ]
    out = _run(
        tmp_path, "customers", "merge", str(suggested["青岛海澜装备有限公司"]), "--into", str(target)
    ).output
    assert (
        f"已合并到 [{target}] 光华物流（武汉）有限公司" in out
        and "merged into" in out
        and "rejected" not in out
    )


def test_registry_changes_are_audited_with_before_and_after(tmp_path):
    """GIVEN the CLI WHEN the registry is imported, re-imported with a change, and suggestions are confirmed,
    rejected and merged THEN each act is one audit event by `system` with counts or the changed fields'
    before and after values; an import lists at most 100 customers and says how many more."""
    _init(tmp_path)

    def events(action: str) -> list[dict]:
        return _json_lines(_run(tmp_path, "audit", "--action", action, "--json").output)

    _run(tmp_path, "customers", "import", str(DEV / "customers.json"))
    (first,) = events("customer_import")
    assert first["username"] == "system" and first["target_type"] == "registry"
    assert first["detail"]["created"] == 41 and first["detail"]["file"] == "customers.json"
    assert len(first["detail"]["customers"]["items"]) == 41 and first["detail"]["customers"]["more"] == 0

    (tmp_path / "change.csv").write_text(
        "客户编号,客户名称,行业,销售阶段\nC015,苏州金桥电气有限公司,能源,已签约\n", encoding="utf-8"
    )
    _run(tmp_path, "customers", "import", str(tmp_path / "change.csv"))
    latest = events("customer_import")[0]["detail"]
    assert (latest["created"], latest["updated"]) == (0, 1)
    (change,) = latest["customers"]["items"]
    assert change["name"] == "苏州金桥电气有限公司" and change["change"] == "updated"
    assert change["changed"]["industry"][1] == "能源" and change["changed"]["stage"] == [None, "已签约"]

    _ingest_notes(
        tmp_path,
        {
            "x.txt": "合同\n甲方：青岛海澜装备有限公司\n",
            "y.txt": "合同\n甲方：厦门鹭江软件有限公司\n",
            "z.txt": "合同\n甲方：大连星海港务有限公司\n",
        },
    )
    suggested = {
        c["name"]: c["id"]
        for c in json.loads(_run(tmp_path, "customers", "list", "--suggested", "--json").output)
    }
    _run(tmp_path, "customers", "confirm", str(suggested["青岛海澜装备有限公司"]))
    _run(tmp_path, "customers", "reject", str(suggested["厦门鹭江软件有限公司"]))
    _run(
        tmp_path,
        "customers",
        "merge",
        str(suggested["大连星海港务有限公司"]),
        "--into",
        str(suggested["青岛海澜装备有限公司"]),
    )
    (confirm,), (reject,), (merge,) = (
        events("customer_confirm"),
        events("customer_reject"),
        events("customer_merge"),
    )
    assert confirm["target_id"] == suggested["青岛海澜装备有限公司"]
    assert confirm["detail"]["changed"] == {"status": ["suggested", "confirmed"]}
    assert (
        reject["detail"]["changed"] == {"status": ["suggested", "rejected"]}
        and reject["detail"]["documents_unlinked"] == 1
    )
    assert merge["detail"]["into"] == "青岛海澜装备有限公司" and merge["detail"]["documents"] == 1
    assert merge["detail"]["into_changed"]["aliases"] == [[], ["大连星海港务有限公司"]]
    assert "大连星海港务有限公司" in merge["summary"] and "青岛海澜装备有限公司" in merge["summary"]

    rows = "\n".join(f"测试客户{i:03d}有限公司" for i in range(150))
    (tmp_path / "many.csv").write_text(f"客户名称\n{rows}\n", encoding="utf-8")
    _run(tmp_path, "customers", "import", str(tmp_path / "many.csv"))
    big = events("customer_import")[0]["detail"]
    assert big["created"] == 150 and len(big["customers"]["items"]) == 100 and big["customers"]["more"] == 50
