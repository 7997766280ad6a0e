"""Exports of search hits (issue 6): every format opened by a real reader and compared with the search.

The data home holds dev-corpus files ingested for real, plus documents written through the
records whose titles are hostile for spreadsheets and unpackers: commas, quotes, line breaks,
the formula-injection cells of ``dev/bad/客户导出_csv注入.csv``, path tricks.  Permissions are
checked on the embedded index and, with ``DOSSIER_OPENSEARCH_URL``, on OpenSearch.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import hashlib
import io
import json
import shutil
import subprocess
import uuid
import zipfile
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from foundation.messages import render_stored
from tests import _opensearch
from tests.conftest import ADMIN_PASSWORD, DEV

INJECTION_CSV = DEV / "bad" / "客户导出_csv注入.csv"
INGESTED = (
    DEV / "contracts" / "产品购销合同_Pacific Rim_HT-2024-0315.pdf",
    DEV / "quotes" / "报价单_海川物流_20240530.docx",
    DEV / "contracts" / "产品购销合同_昌隆精密_HT-2023-1213.md",
    INJECTION_CSV,
)
#: The word every records-written document contains (and no ingested one).
WORD = "珊瑚导出"
PASSWORD = "export-test-Passw0rd"


def formula_cells() -> list[str]:
    """The cells of the corpus' CSV-injection file that a spreadsheet would run as formulas."""
    with INJECTION_CSV.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    cells = [cell for row in rows[1:] for cell in row if cell[:1] in ("=", "+", "-", "@")]
    assert len(cells) >= 4, cells  # =HYPERLINK, =cmd, +SUM, @SUM, -1+1
    return cells


def tricky_titles() -> list[str]:
    """Titles that break naive CSV/XLSX/ZIP writers."""
    return [
        "报价单，含逗号, and a comma",
        '合同 "英文引号" 与 “中文引号”',
        "会议纪要\n第二行\r\n第三行",
        *formula_cells(),
        "\t=1+1 制表符开头",
        "\r=2+2 回车开头",
        "../../etc/passwd",
        "C:\\Windows\\system32\\合同",
        "CON",
        "\u202egnp.exe 伪装",
        "同名报价单",
        "同名报价单",
        "同名报价单",
        "长标题" + "很长" * 200,
    ]


def _build_home(settings) -> dict:
    """Ingest INGESTED, then write the tricky and the permission documents through the records."""
    from dossier.app.services import Dossier
    from records import Customer, Document, EntityRow, Page, Tag, User, Version, hash_password

    first = Dossier.open(settings, require_init=False)
    first.init(admin_password=ADMIN_PASSWORD)
    first.close()
    d = Dossier.open(settings)
    d.customers.import_registry(DEV / "customers.json")  # ingested documents then link to confirmed customers
    summary = d.ingest_paths([str(p) for p in INGESTED], ocr=False, tags=("导入",))
    assert summary["ingested"] == len(INGESTED), summary
    levels = {}
    with d.sessions() as session:
        sales = User(username="sales1", role="sales", password_hash=hash_password(PASSWORD))
        viewer = User(username="viewer1", role="viewer", password_hash=hash_password(PASSWORD))
        session.add_all([sales, viewer])
        owned = Customer(name="杭州明远科技有限公司", aliases=["明远"], owner=sales)
        other = Customer(name="上海澄明集团股份有限公司", aliases=["澄明"])
        tag = Tag(name="重点")
        docs = []
        plan = [(t, "internal", owned) for t in tricky_titles()] + [
            ("公开的报价单", "public", other),
            ("明远的保密合同", "confidential", owned),
            ("澄明的保密合同", "confidential", other),
            ("财务发票", "finance", other),
        ]
        for n, (title, level, customer) in enumerate(plan):
            text = f"{title}\n{WORD} 第 {n} 份。合同总价：¥{1000 + n},000.50\n"
            data = text.encode("utf-8")
            doc = Document(
                title=title,
                doc_type="quote" if "报价" in title or n % 2 else "contract",
                doc_date=f"2024-03-{n % 28 + 1:02d}",
                confidentiality=level,
                status="indexed",
                language="zh",
                customer=customer,
                versions=[
                    Version(
                        number=1,
                        sha256=d.blobs.put(data),
                        # the tricky documents' files are named like their titles (hostile names); the others 文件N
                        filename=f"{title}.txt" if n < len(tricky_titles()) else f"文件{n}.txt",
                        mime="text/plain",
                        size=len(data),
                    )
                ],
                pages=[Page(number=1, text=text)],
                tags=[tag],
                entities=[
                    EntityRow(kind="amount", value=f"{1000 + n}000.50", text="x", page=1, role="合同总价"),
                    EntityRow(kind="amount", value="1.00", text="y", page=1, role="单价"),
                ],
            )
            session.add(doc)
            docs.append(doc)
        session.commit()
        ids = [doc.id for doc in docs]
        for doc in docs:
            levels[doc.id] = (doc.confidentiality, doc.customer_id == owned.id)
    d.reindex(ids)
    d.backend.settle()
    return {"dossier": d, "ids": ids, "levels": levels, "summary": summary}


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """The export data home on the embedded index."""
    from foundation.config import load_settings

    tmp = tmp_path_factory.mktemp("export-home")
    settings = load_settings(
        environ={
            "DOSSIER_HOME": str(tmp / "home"),
            "DOSSIER_WORKERS": "1",
            "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
            "DOSSIER_PUBLIC_URL": "https://dossier.example.cn/",
        },
        dotenv=tmp / "none",
    )
    built = _build_home(settings)
    yield built
    built["dossier"].close()


@pytest.fixture(params=["sqlite", pytest.param("opensearch", marks=pytest.mark.opensearch)])
def any_home(request, home, tmp_path):
    """The same documents on each backend there is (OpenSearch needs DOSSIER_OPENSEARCH_URL)."""
    if request.param == "sqlite":
        yield home
        return
    from foundation.config import load_settings

    url = _opensearch.cluster_url()
    alias = f"dossier-test-{uuid.uuid4().hex[:10]}"
    settings = load_settings(
        environ={
            "DOSSIER_HOME": str(tmp_path / "home"),
            "DOSSIER_WORKERS": "1",
            "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
            "DOSSIER_OPENSEARCH_URL": url,
            "DOSSIER_OPENSEARCH_INDEX": alias,
        },
        dotenv=tmp_path / "none",
    )
    built = _build_home(settings)
    try:
        yield built
    finally:
        built["dossier"].close()
        _opensearch.drop(url, alias)


def _export(d, query, principal, fmt, **kw) -> bytes:
    from index import SearchRequest

    request = query if not isinstance(query, str) else SearchRequest(query)
    _plan, chunks = d.exports.stream(request, principal, fmt, **kw)
    return b"".join(chunks)


def _search_ids(d, query, principal) -> list[int]:
    from index import SearchRequest

    request = query if not isinstance(query, str) else SearchRequest(query)
    result = d.search(replace(request, limit=10000), principal)
    return [h["id"] for h in result["hits"]]


def _read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(codecs.BOM_UTF8), "CSV must start with a UTF-8 BOM for Excel"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _unneutralised(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:2] in ("=", "+", "-", "@", "\t", "\r") else cell


# -- CSV ---------------------------------------------------------------------------------------


def test_csv_has_bom_crlf_and_every_hit_in_search_order(home, admin):
    """GIVEN the tricky titles WHEN exported as CSV THEN the csv module (BOM detected) reads one row per
    hit in search order, with titles, customers and dates as the records hold them; lines end CRLF."""
    d = home["dossier"]
    data = _export(d, WORD, admin, "csv")
    rows = _read_csv(data)
    assert rows[0][:3] == ["编号 id", "标题 title", "客户 customers"]
    body = rows[1:]
    assert [int(r[0]) for r in body] == _search_ids(d, WORD, admin)
    assert len(body) == len(home["ids"])
    titles = {_unneutralised(r[1]) for r in body}
    assert set(tricky_titles()) <= titles
    assert "会议纪要\n第二行\r\n第三行" in titles  # line breaks survive inside a quoted cell
    # every record ends with CRLF (line breaks inside quoted cells are the cells' own)
    assert data.count(b"\r\n") >= len(rows)
    assert not data.replace(b"\r\n", b"").replace(b"\n", b"").endswith(b"\r")
    by_title = {_unneutralised(r[1]): r for r in body}
    row = by_title["公开的报价单"]
    assert row[2] == "上海澄明集团股份有限公司"
    assert row[4].startswith("2024-03-") and row[6] == "重点"
    assert row[5].endswith("000.50")  # the total (合同总价), not the larger-looking unit price
    assert row[12] == f"https://dossier.example.cn/documents/{row[0]}"
    assert WORD in row[11] and "<mark>" not in row[11]


def test_every_column_agrees_with_the_document_page(home, admin):
    """For every document (ingested ones with linked customers too) the CSV's customers, type, date,
    tags, file name, size and page count are what `show` says about it."""
    from ingest import DOC_TYPES

    d = home["dossier"]
    rows = _read_csv(_export(d, "", admin, "csv"))[1:]
    assert len(rows) == len(home["ids"]) + len(INGESTED)
    for r in rows:
        doc = d.show(int(r[0]), admin)
        assert _unneutralised(r[2]) == "; ".join(doc["customers"]), (r[0], r[2], doc["customers"])
        assert r[3] == DOC_TYPES[doc["doc_type"]][0] and r[4] == (doc["date"] or "")
        assert r[6] == "; ".join(doc["tags"]) and _unneutralised(r[7]) == doc["filename"]
        assert int(r[8]) == doc["size"] and int(r[9]) == len(doc["pages"])
    linked = [r for r in rows if int(r[0]) not in home["levels"] and r[2]]
    assert linked, "the ingested documents are linked to registry customers"


def test_csv_neutralises_every_formula_cell(home, admin):
    """Every title starting with = + - @ TAB or CR gets a leading ' in CSV; nothing else is touched."""
    rows = _read_csv(_export(home["dossier"], WORD, admin, "csv"))
    cells = {r[1] for r in rows[1:]}
    for title in [*formula_cells(), "\t=1+1 制表符开头", "\r=2+2 回车开头"]:
        assert "'" + title in cells, title
        assert title not in cells
    assert "报价单，含逗号, and a comma" in cells  # an ordinary title keeps no quote mark
    for row in rows[1:]:
        for cell in row[1:3] + row[6:8] + [row[11]]:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_csv_of_the_ingested_injection_file(home, admin):
    """The ingested 客户导出_csv注入.csv itself: its snippet (which starts with plain text) is exported as text."""
    d = home["dossier"]
    rows = _read_csv(_export(d, "示例客户甲", admin, "csv"))
    assert len(rows) == 2 and rows[1][7] == INJECTION_CSV.name
    assert "=HYPERLINK" in rows[1][11]


# -- XLSX --------------------------------------------------------------------------------------


def test_xlsx_types_widths_header_and_links(home, admin):
    """GIVEN the tricky titles WHEN exported as XLSX THEN openpyxl reads a bold, frozen header, dates
    as dates, amounts and sizes as numbers, formula-looking titles as text, and HYPERLINK formulas."""
    from openpyxl import load_workbook

    d = home["dossier"]
    book = load_workbook(io.BytesIO(_export(d, WORD, admin, "xlsx")))
    sheet = book["检索结果"]
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]][:2] == ["编号 id", "标题 title"] and rows[0][0].font.bold
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    assert sheet.column_dimensions["B"].width == 40 and sheet.column_dimensions["L"].width == 60
    assert [r[0].value for r in rows[1:]] == _search_ids(d, WORD, admin)
    by_title = {r[1].value: r for r in rows[1:]}
    for title in tricky_titles()[:-1]:
        cell = by_title[title][1]
        assert cell.data_type == "s", (title, cell.data_type)  # never a formula, kept as written
    long_title = tricky_titles()[-1]
    assert by_title[long_title][1].value == long_title
    row = by_title["公开的报价单"]
    assert isinstance(row[4].value, datetime) and row[4].number_format == "yyyy-mm-dd"
    assert isinstance(row[5].value, float) and row[5].number_format == "#,##0.00"
    assert isinstance(row[8].value, int) and row[8].value > 0
    url = f"https://dossier.example.cn/documents/{row[0].value}"
    assert row[12].data_type == "f" and row[12].value == f'=HYPERLINK("{url}","{url}")'
    assert row[12].style == "Hyperlink"


def test_xlsx_more_rows_than_a_sheet_holds_continue_on_a_new_sheet(home, admin, monkeypatch):
    """Past SHEET_ROWS data rows the workbook goes on with a second sheet (Excel's row limit), header again."""
    from openpyxl import load_workbook

    from dossier.app.export import _tabular

    monkeypatch.setattr(_tabular, "SHEET_ROWS", 5)
    book = load_workbook(io.BytesIO(_export(home["dossier"], WORD, admin, "xlsx")))
    assert book.sheetnames[:2] == ["检索结果", "检索结果 (2)"]
    counts = [book[name].max_row - 1 for name in book.sheetnames]
    assert all(c <= 5 for c in counts) and sum(counts) == len(home["ids"])
    assert book["检索结果 (2)"]["A1"].value == "编号 id"


# -- JSON Lines --------------------------------------------------------------------------------


def test_jsonl_one_document_per_line_with_entities(home, admin):
    """Each line is one JSON document (search order) with its entities; titles are exactly the records'."""
    d = home["dossier"]
    lines = _export(d, WORD, admin, "jsonl").decode("utf-8").split("\n")
    assert lines[-1] == ""
    docs = [json.loads(line) for line in lines[:-1]]
    assert [doc["id"] for doc in docs] == _search_ids(d, WORD, admin)
    assert {doc["title"] for doc in docs} >= set(tricky_titles())
    first = docs[0]
    assert set(first) >= {
        "id",
        "title",
        "filename",
        "customers",
        "doc_type",
        "date",
        "tags",
        "score",
        "snippet",
        "snippet_text",
        "url",
        "entities",
        "sha256",
        "size",
        "pages",
    }
    assert "1.00" in first["entities"]["amount"] and first["amount"].endswith("000.50")
    assert "<mark>" in first["snippet"] and "<mark>" not in first["snippet_text"]
    pacific = json.loads(_export(d, "HT-2024-0315", admin, "jsonl").decode("utf-8").splitlines()[0])
    assert "HT-2024-0315" in pacific["entities"]["contract_no"]


# -- ZIP ---------------------------------------------------------------------------------------


def _read_zip(data: bytes) -> tuple[zipfile.ZipFile, list[dict], list[list[str]]]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    manifest = json.loads(archive.read("manifest.json"))
    table = _read_csv(archive.read("manifest.csv"))
    return archive, manifest["files"], table


def test_zip_holds_each_original_with_its_sha256_under_safe_unique_names(home, admin, tmp_path):
    """GIVEN hostile titles WHEN exported as ZIP THEN every original is in the archive byte for byte
    (sha256 as the manifests say), under <customer>/<type>/<file name> names that are unique (also
    ignoring case), stay inside the folder when unpacked, and unzip(1) accepts the archive."""
    d = home["dossier"]
    data = _export(d, WORD, admin, "zip")
    archive, files, table = _read_zip(data)
    names = archive.namelist()
    assert names[-2:] == ["manifest.csv", "manifest.json"]
    members = names[:-2]
    assert len(members) == len(home["ids"]) == len(files)
    assert len({n.casefold() for n in members}) == len(members)
    for name in members:
        parts = name.split("/")
        assert len(parts) == 3 and all(p and p not in (".", "..") for p in parts), name
        assert not name.startswith("/") and "\\" not in name and ":" not in name
        assert not any(ch in name for ch in "\u202e\r\n\t") and len(parts[2].encode()) <= 160
    for entry in files:
        assert entry["status"] == "ok"
        content = archive.read(entry["path"])
        assert hashlib.sha256(content).hexdigest() == entry["sha256"] == d.show(entry["id"], admin)["sha256"]
    assert [e["id"] for e in files] == _search_ids(d, WORD, admin)
    paths = {e["title"]: e["path"] for e in files}
    # the original's file name, not the title
    assert paths["公开的报价单"] == f"上海澄明集团股份有限公司/报价单/文件{len(tricky_titles())}.txt"
    dupes = sorted(e["path"].rsplit("/", 1)[1] for e in files if e["title"] == "同名报价单")
    assert dupes == ["同名报价单 (2).txt", "同名报价单 (3).txt", "同名报价单.txt"]
    assert paths["CON"].endswith("/_CON.txt")
    assert paths["../../etc/passwd"].split("/")[2] == "_.._etc_passwd.txt"
    assert table[0][0].startswith("压缩包内路径") and len(table) == len(files) + 1
    assert {r[2] for r in table[1:]} >= {"'" + c for c in formula_cells()}
    # a second, independent reader, and a real unpack that stays inside its folder
    if shutil.which("unzip"):
        zpath = tmp_path / "x.zip"
        zpath.write_bytes(data)
        checked = subprocess.run(["unzip", "-tq", str(zpath)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        out = tmp_path / "out"
        subprocess.run(["unzip", "-q", str(zpath), "-d", str(out)], check=True)
        unpacked = [p for p in out.rglob("*") if p.is_file()]
        assert len(unpacked) == len(members) + 2
        assert all(out in p.resolve().parents for p in unpacked)


def test_zip_lists_a_missing_or_damaged_original_instead_of_packing_it(home, admin):
    """An original gone from the blob store (or no longer matching its sha256) is left out; the
    manifest names it with the reason, and the rest of the archive is complete."""
    d = home["dossier"]
    first, second = home["ids"][:2]
    blobs = {i: d.show(i, admin)["sha256"] for i in (first, second)}
    saved = {i: d.blobs.path(s).read_bytes() for i, s in blobs.items()}
    try:
        d.blobs.path(blobs[first]).unlink()
        d.blobs.path(blobs[second]).write_bytes(b"tampered")
        archive, files, _table = _read_zip(_export(d, WORD, admin, "zip"))
    finally:
        for i, s in blobs.items():
            d.blobs.path(s).write_bytes(saved[i])
    status = {e["id"]: e for e in files}
    assert "丢失" in status[first]["status"] and status[first]["path"] is None
    assert "校验失败" in status[second]["status"] and status[second]["path"] is None
    assert len(archive.namelist()) == len(home["ids"]) - 2 + 2
    assert json.loads(archive.read("manifest.json"))["missing"] == 2


def test_zip64_records_when_sizes_pass_the_zip_limits(home, admin, tmp_path, monkeypatch):
    """With zipfile's 4 GiB / 65,535-entry limits lowered, the same export carries Zip64 records (the
    archive a real 5 GB export would get) and both zipfile and unzip(1) read it."""
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 200)
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 3)
    d = home["dossier"]
    data = _export(d, WORD, admin, "zip")
    assert b"PK\x06\x06" in data and b"PK\x06\x07" in data  # zip64 end of central directory + locator
    archive, files, _table = _read_zip(data)
    for entry in files:
        assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
    if shutil.which("unzip"):
        zpath = tmp_path / "z64.zip"
        zpath.write_bytes(data)
        checked = subprocess.run(["unzip", "-tq", str(zpath)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr


def test_zip_keeps_original_file_names_and_uses_the_title_only_for_a_repeat_or_none():
    """Each member keeps its original's file name; a second file of the same name in the same folder is named
    by its title, a title taken too gets " (2)", and a document without a file name is named by its title."""
    from datetime import datetime

    from dossier.app.export import UniqueNames
    from dossier.app.export._rows import ExportRow
    from dossier.app.export._zip import member_path

    def row(doc_id: int, title: str, filename: str) -> ExportRow:
        fields = {f.name: None for f in dataclasses.fields(ExportRow)}
        fields.update(id=doc_id, title=title, filename=filename, mime="application/pdf", customers=["明远"])
        fields.update(doc_type="contract", uploaded_at=datetime(2026, 1, 2))
        return ExportRow(**fields)

    names = UniqueNames(reserved=("manifest.csv", "manifest.json"))
    paths = [
        member_path(names, row(1, "采购合同", "HT-2024-0315 购销合同.pdf")),
        member_path(names, row(2, "采购合同", "scan.pdf")),
        member_path(names, row(3, "采购合同 华东", "scan.PDF")),
        member_path(names, row(4, "采购合同", "scan.pdf")),
        member_path(names, row(5, "采购合同", "scan.pdf")),
        member_path(names, row(6, "没有文件名的合同", "")),
    ]
    assert paths == [
        "明远/合同/HT-2024-0315 购销合同.pdf",
        "明远/合同/scan.pdf",
        "明远/合同/采购合同 华东.pdf",  # scan.PDF is taken (letter case aside): its title
        "明远/合同/采购合同.pdf",
        "明远/合同/采购合同 (2).pdf",  # name and title both taken
        "明远/合同/没有文件名的合同.pdf",  # no file name: the title (the type gives the extension)
    ]


def test_safe_part_and_unique_names():
    """Path parts: separators, traversal, drive letters, reserved names, invisible characters, length."""
    from dossier.app.export import UniqueNames, extension_of, safe_part

    assert safe_part("../../a", "x") == "_.._a"
    assert safe_part("..", "fallback") == "fallback" and safe_part("", "fallback") == "fallback"
    assert safe_part("C:\\x\\y", "f") == "C__x_y"
    assert safe_part("nul.txt", "f") == "_nul.txt" and safe_part("LPT1", "f") == "_LPT1"
    assert safe_part("a\u202eb\u200bc\x00d", "f") == "abcd"
    assert safe_part(" 末尾点. ", "f") == "末尾点"
    clipped = safe_part("长" * 300, "f")
    assert len(clipped.encode()) <= 150 and clipped == "长" * 50
    assert extension_of("合同.PDF") == "pdf" and extension_of("noext", "application/pdf") == "pdf"
    assert extension_of("x.tar.gz") == "gz" and extension_of("evil.p/h\\p") == ""
    names = UniqueNames(reserved=("manifest.csv",))
    assert names.path(["a", "b"], "报价", "pdf") == "a/b/报价.pdf"
    assert names.path(["A", "B"], "报价", "PDF") == "A/B/报价 (2).PDF"
    assert names.path(["a", "b"], "报价 (3)", "pdf") == "a/b/报价 (3).pdf"
    assert names.path(["a", "b"], "报价", "pdf") == "a/b/报价 (4).pdf"
    assert names.path([], "manifest", "csv") == "manifest (2).csv"


# -- permissions, on both backends --------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "zip"])
def test_sales_and_viewer_exports_hold_only_what_they_may_read(any_home, fmt):
    """A sales user's export holds public, internal and their own customers' confidential documents —
    never another customer's confidential or finance ones; a viewer's holds only public ones.  The
    admin's holds everything; each equals what that user's search finds."""
    d = any_home["dossier"]
    levels = any_home["levels"]
    for username in ("sales1", "viewer1", "admin"):
        principal = d.accounts.principal_for(username)
        data = _export(d, WORD, principal, fmt)
        if fmt == "csv":
            ids = [int(r[0]) for r in _read_csv(data)[1:]]
        elif fmt == "jsonl":
            ids = [json.loads(line)["id"] for line in data.decode().splitlines()]
        else:
            ids = [e["id"] for e in _read_zip(data)[1]]
            archive = zipfile.ZipFile(io.BytesIO(data))
            assert len(archive.namelist()) == len(ids) + 2
        assert ids == _search_ids(d, WORD, principal)
        for doc_id in ids:
            level, own = levels[doc_id]
            if username == "viewer1":
                assert level == "public", (doc_id, level)
            elif username == "sales1":
                assert level in ("public", "internal") or (level == "confidential" and own), (doc_id, level)
        if username == "admin":
            assert sorted(ids) == sorted(levels)
        if username == "sales1":
            assert any(levels[i] == ("confidential", True) for i in ids)


def test_records_recheck_a_document_whose_index_entry_is_stale(home):
    """A document made finance-only in the records but not yet reindexed stays out of a sales export."""
    from records import Document

    d = home["dossier"]
    sales = d.accounts.principal_for("sales1")
    target = next(i for i, (level, _own) in home["levels"].items() if level == "public")
    with d.sessions() as session:
        doc = session.get(Document, target)  # the records changed (level and access), the index not yet
        doc.confidentiality = doc.access_level = "finance"
        session.commit()
    try:
        from index import SearchRequest

        stale = d.backend.search(SearchRequest(WORD, limit=10000), sales)
        assert target in {h.id for h in stale.hits}  # the index still says public
        assert target not in _search_ids(d, WORD, sales)  # the search's hits are checked against the records
        ids = [int(r[0]) for r in _read_csv(_export(d, WORD, sales, "csv"))[1:]]
        assert target not in ids and ids
    finally:
        with d.sessions() as session:
            doc = session.get(Document, target)
            doc.confidentiality = doc.access_level = "public"
            session.commit()


# -- limits, filters, sort, audit ----------------------------------------------------------------


def test_filters_and_sort_apply_as_in_search(home, admin):
    """Type, customer, tag and date filters and the date sort give the rows search gives, in its order."""
    from index import SearchRequest

    d = home["dossier"]
    request = SearchRequest(
        WORD, doc_types=("quote",), customers=("明远",), date_from="2024-03-05", sort="date_desc"
    )
    ids = [int(r[0]) for r in _read_csv(_export(d, request, admin, "csv"))[1:]]
    assert ids and ids == _search_ids(d, request, admin)
    dates = [d.show(i, admin)["date"] for i in ids]
    assert dates == sorted(dates, reverse=True) and min(dates) >= "2024-03-05"
    everything = [int(r[0]) for r in _read_csv(_export(d, "", admin, "csv"))[1:]]
    assert len(everything) == len(home["ids"]) + len(INGESTED)


def test_a_limit_is_refused_before_anything_is_written(home, admin, monkeypatch):
    """Over DOSSIER_EXPORT_MAX_HITS (or the ZIP file limit) the export is refused with the numbers,
    before any byte or audit event; an explicit limit exports the first N hits in order."""
    from dossier.app.export import ExportRefused, ExportService
    from index import SearchRequest
    from records import AuditEvent

    d = home["dossier"]

    def exports_under(**overrides: str) -> ExportService:
        """The export service alone, on this data home's resources under other settings."""
        resources = replace(d.resources, settings=d.settings.with_overrides(**overrides))
        return ExportService(resources, record=d.audit.record, principal_for=d.accounts.principal_for)

    with d.sessions() as session:
        before = session.query(AuditEvent).count()
    limited = exports_under(DOSSIER_EXPORT_MAX_HITS="5", DOSSIER_EXPORT_ZIP_MAX_FILES="3")
    plan = limited.plan(SearchRequest(WORD), admin, "csv")
    assert (
        not plan.allowed
        and str(len(home["ids"])) in str(plan.reason)
        and "DOSSIER_EXPORT_MAX_HITS" in str(plan.reason)
    )
    with pytest.raises(ExportRefused, match="超过导出上限 5 条"):
        limited.stream(SearchRequest(WORD), admin, "csv")
    zip_plan = limited.plan(SearchRequest(WORD), admin, "zip", limit=4)
    assert "DOSSIER_EXPORT_ZIP_MAX_FILES" in str(zip_plan.reason)
    _plan, chunks = limited.stream(SearchRequest(WORD), admin, "csv", limit=4)
    first = _read_csv(b"".join(chunks))[1:]
    assert [int(r[0]) for r in first] == _search_ids(d, WORD, admin)[:4]
    small = exports_under(DOSSIER_EXPORT_ZIP_MAX_MB="1").plan(SearchRequest(WORD), admin, "zip")
    assert small.allowed and 0 < small.zip_bytes < 1024 * 1024
    with d.sessions() as session:
        assert session.query(AuditEvent).count() == before + 1  # only the export that ran


def test_every_export_writes_one_audit_event(home):
    """Who, when, query, filters, format and hit count; an export abandoned half way says so."""
    from index import SearchRequest
    from records import AuditEvent

    d = home["dossier"]
    sales = d.accounts.principal_for("sales1")
    started = datetime.utcnow() - timedelta(seconds=5)
    request = SearchRequest(WORD, tags=("重点",), date_to="2024-12-31")
    rows = _read_csv(_export(d, request, sales, "csv", via="cli"))
    _plan, chunks = d.exports.stream(request, sales, "jsonl")
    next(chunks)
    chunks.close()  # the reader went away after the first chunk
    with d.sessions() as session:
        events = (
            session.query(AuditEvent).filter(AuditEvent.username == "sales1").order_by(AuditEvent.id).all()
        )
    full, cut = events[-2:]
    assert full.action == "export" and full.at >= started and full.target_type == "search"
    assert full.detail["query"] == WORD and full.detail["format"] == "csv" and full.detail["via"] == "cli"
    assert full.detail["filters"] == {"tags": ["重点"], "date_to": "2024-12-31"}
    assert full.detail["hits"] == len(rows) - 1 and full.detail["complete"] is True
    assert cut.detail["format"] == "jsonl" and cut.detail["complete"] is False
    assert cut.detail["hits"] <= full.detail["hits"]


def test_unknown_format_is_refused_bilingually(home, admin):
    """A format Dossier does not write is a 400 naming the ones it does."""
    from dossier.app.export import ExportFormatError
    from index import SearchRequest

    with pytest.raises(ExportFormatError, match="csv、xlsx、jsonl、zip / unknown export format") as caught:
        home["dossier"].exports.plan(SearchRequest(WORD), admin, "pdf")
    assert caught.value.status == 400


# -- background jobs ---------------------------------------------------------------------------


@pytest.fixture
def queued(tmp_path, redis_url):
    """A small data home on the test Redis with a real worker context, and its Dossier."""
    from dossier.app.services import Dossier
    from foundation.config import load_settings

    settings = load_settings(
        environ={
            "DOSSIER_HOME": str(tmp_path / "home"),
            "DOSSIER_WORKERS": "1",
            "DOSSIER_REDIS_URL": redis_url,
            "DOSSIER_EXPORT_TTL_HOURS": "2",
        },
        dotenv=tmp_path / "none",
    )
    Dossier.open(settings, require_init=False).init(admin_password=ADMIN_PASSWORD)
    d = Dossier.open(settings)
    d.ingest_paths([str(p) for p in INGESTED], ocr=False, wait=False)
    # without --wait the files only wait in the queue: process them here, as a worker would
    from workers.runner import run_worker

    run_worker(settings, burst=True)
    yield d, settings
    d.close()


def test_a_background_export_runs_on_a_worker_and_expires(queued, admin):
    """GIVEN a live worker WHEN an export is started in the background THEN it is queued, a real worker
    writes the file (progress done = total), its owner downloads it until it expires, nobody else can;
    after the expiry the file is deleted and the download says so."""
    from dossier.app.export import ExportGone
    from foundation.errors import NotFound
    from index import Principal, SearchRequest
    from records import ExportJob
    from workers.runner import run_worker

    d, settings = queued
    queue = d.queue()
    queue.mark_alive("export-test-worker")  # run_worker below is that worker; it starts after the enqueue
    job = d.exports.start_job(SearchRequest(""), admin, "csv")
    assert job["status"] == "queued" and job["total"] == len(INGESTED)
    run_worker(settings, burst=True)
    done = d.exports.job(job["id"], admin)
    assert (
        done["status"] == "done" and done["done"] == done["total"] == len(INGESTED) and done["percent"] == 100
    )
    path, name, mime = d.exports.job_file(job["id"], admin)
    assert path.parent == settings.home / "exports" and name.endswith(".csv") and mime.startswith("text/csv")
    assert (path.parent.stat().st_mode & 0o777) == 0o700 and not list(path.parent.glob("*.part"))
    rows = _read_csv(path.read_bytes())
    assert len(rows) == len(INGESTED) + 1
    expires = datetime.fromisoformat(done["expires_at"])
    assert (
        timedelta(hours=1, minutes=59)
        < expires - datetime.fromisoformat(done["finished_at"])
        <= timedelta(hours=2)
    )
    with pytest.raises(NotFound):
        d.exports.job(job["id"], Principal(username="someone", role="admin"))
    with pytest.raises(NotFound):
        d.exports.job_file(job["id"], Principal(username="someone", role="admin"))
    assert d.exports.purge_expired() == 0 and path.exists()
    assert d.exports.purge_expired(now=expires + timedelta(seconds=1)) == 1
    assert not path.exists()
    with pytest.raises(ExportGone, match="已过期"):
        d.exports.job_file(job["id"], admin)
    assert d.exports.job(job["id"], admin)["status"] == "expired"
    with d.sessions() as session:
        assert session.get(ExportJob, job["id"]).path is None


def test_a_background_export_whose_job_redis_lost_is_queued_again_and_runs_once(queued, admin):
    """GIVEN a queued background export WHEN Redis loses its data (restarted without persistence) THEN a
    worker's reconcile queues it again and it is written once; a second copy of its job does nothing."""
    from index import SearchRequest
    from workers.runner import run_worker

    d, settings = queued
    queue = d.queue()
    queue.mark_alive("export-test-worker")
    job = d.exports.start_job(SearchRequest(""), admin, "csv")
    queue.redis.flushall()  # what a restart without persistence leaves: no job, no registry
    run_worker(settings, burst=True)  # reconciles first, then drains the queue
    done = d.exports.job(job["id"], admin)
    assert done["status"] == "done" and done["done"] == len(INGESTED)
    assert d.exports.run_job(job["id"], "another-worker") == "skipped"  # a duplicate job finds it taken


def test_a_background_export_without_a_worker_is_refused_and_a_dead_workers_job_fails(queued, admin):
    """No live worker: start_export_job says to download directly.  A job left running by a worker that
    died is shown failed with the reason."""
    from index import SearchRequest
    from pipeline.queue import QueueUnavailable
    from records import ExportJob

    d, _settings = queued
    assert d.exports.worker_queue() is None
    with pytest.raises(QueueUnavailable, match="请直接下载"):
        d.exports.start_job(SearchRequest(""), admin, "csv")
    with d.sessions() as session:
        job = ExportJob(
            username="admin",
            format="csv",
            request={"query": ""},
            base_url="",
            status="running",
            claimed_by="gone-worker.1",
            total=3,
            done=1,
            size=0,
        )
        session.add(job)
        session.commit()
        job_id = job.id
    view = d.exports.job(job_id, admin)
    assert view["status"] == "failed" and "工作进程已停止" in render_stored(
        view["error"], "zh"
    )  # a stored message


def test_the_export_job_function_skips_finished_jobs_and_records_failures(queued, admin):
    """run_export_job: a done job is skipped; a job whose user no longer exists fails with the reason."""
    from records import ExportJob

    d, _settings = queued
    with d.sessions() as session:
        ghost = ExportJob(
            username="nobody",
            format="zip",
            request={"query": ""},
            base_url="",
            status="queued",
            total=0,
            done=0,
            size=0,
        )
        session.add(ghost)
        session.commit()
        ghost_id = ghost.id
    assert d.exports.run_job(ghost_id, "w1") == "failed"
    with d.sessions() as session:
        row = session.get(ExportJob, ghost_id)
        assert row.status == "failed" and "nobody" in row.error
    assert d.exports.run_job(ghost_id, "w1") == "skipped"
    assert not list((d.settings.home / "exports").glob("*"))


def test_json_round_trip_of_a_request():
    """An export job stores its search as JSON and gets the same request back."""
    from dossier.app.export import request_from_json, request_to_json
    from index import SearchRequest

    request = SearchRequest(
        "报价 -草稿",
        customers=("明远",),
        doc_types=("quote",),
        date_from="2024-01-01",
        entities=(("phone", "13812345678"),),
        sort="date_asc",
        years=("2024",),
    )
    again, limit = request_from_json(json.loads(json.dumps(request_to_json(request, 7))))
    assert again == request and limit == 7


def test_plain_snippets_find_the_words_as_search_does():
    """The tables' plain snippets: the window holds the first match — also across OCR spaces between
    Chinese characters, full-width forms, other letter case and separators — else the text's opening."""
    from dossier.app.export._snippets import PlainSnippets

    filler = "无关内容。" * 40
    snippet = PlainSnippets('明远 "HT-2024-0315"')
    assert "明 远" in snippet(filler + "甲方：杭州明 远科技。" + filler)
    assert "ＨＴ－２０２４－０３１５" in snippet(filler + "合同编号：ＨＴ－２０２４－０３１５" + filler)
    assert "ht 2024/0315" in snippet(filler + "编号 ht 2024/0315 已签" + filler)
    found = snippet(filler + "签约方明远" + filler)
    assert found.startswith("…") and found.endswith("…") and "明远" in found and len(found) <= 122
    assert snippet(filler).startswith("无关内容") and "\n" not in snippet("第一行\n\n第二行")
    assert PlainSnippets('"unbalanced').pattern is not None and PlainSnippets("type:合同").pattern is None
    assert PlainSnippets("报价").of_pages(["第一页没有", "第二页的报价单"]).startswith("第二页的报价单")


@pytest.mark.parametrize("large", [False, True], ids=["in-memory", "large-originals"])
def test_zip_of_encrypted_originals_holds_the_plaintext(tmp_path, admin, monkeypatch, large):
    """GIVEN encryption at rest (DOSSIER_BLOB_KEY) WHEN originals are exported as ZIP THEN the archive
    holds the decrypted files, byte for byte the ingested ones (sha256 as the manifest says) — also
    for originals above the in-memory size, which go through the store's private plaintext file."""
    from dossier.app.export import _zip
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from records import BlobKey

    if large:
        monkeypatch.setattr(_zip, "IN_MEMORY_MAX", 10)
    settings = load_settings(
        environ={
            "DOSSIER_HOME": str(tmp_path / "home"),
            "DOSSIER_WORKERS": "1",
            "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
            "DOSSIER_BLOB_KEY": BlobKey.generate().encoded(),
        },
        dotenv=tmp_path / "none",
    )
    Dossier.open(settings, require_init=False).init(admin_password=ADMIN_PASSWORD)
    d = Dossier.open(settings)
    try:
        files = INGESTED[:2]
        d.ingest_paths([str(p) for p in files], ocr=False)
        sealed = d.blobs.path(d.show(1, admin)["sha256"]).read_bytes()
        assert sealed != files[0].read_bytes() and sealed != files[1].read_bytes()  # really encrypted on disk
        archive, entries, _table = _read_zip(_export(d, "", admin, "zip"))
        by_name = {p.name: p.read_bytes() for p in files}
        assert sorted(e["filename"] for e in entries) == sorted(by_name)
        for entry in entries:
            content = archive.read(entry["path"])
            assert content == by_name[entry["filename"]]
            assert hashlib.sha256(content).hexdigest() == entry["sha256"]
    finally:
        d.close()


@pytest.mark.opensearch
def test_exports_on_postgresql_records_and_opensearch(postgres_url, tmp_path):
    """The scale-out profile: PostgreSQL records (ids passed as one array parameter) and the OpenSearch
    index give the same exports — every format matching search, permissions applied, originals intact."""
    from foundation.config import load_settings

    url = _opensearch.cluster_url()
    alias = f"dossier-test-{uuid.uuid4().hex[:10]}"
    settings = load_settings(
        environ={
            "DOSSIER_HOME": str(tmp_path / "home"),
            "DOSSIER_WORKERS": "1",
            "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
            "DOSSIER_DATABASE_URL": postgres_url,
            "DOSSIER_OPENSEARCH_URL": url,
            "DOSSIER_OPENSEARCH_INDEX": alias,
        },
        dotenv=tmp_path / "none",
    )
    built = _build_home(settings)
    d = built["dossier"]
    try:
        for username in ("admin", "sales1"):
            principal = d.accounts.principal_for(username)
            wanted = _search_ids(d, WORD, principal)
            assert [int(r[0]) for r in _read_csv(_export(d, WORD, principal, "csv"))[1:]] == wanted
            docs = [json.loads(x) for x in _export(d, WORD, principal, "jsonl").decode().splitlines()]
            assert [x["id"] for x in docs] == wanted and all(x["amount"] for x in docs)
            archive, files, _table = _read_zip(_export(d, WORD, principal, "zip"))
            assert [e["id"] for e in files] == wanted
            for entry in files:
                assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
        sales_ids = _search_ids(d, WORD, d.accounts.principal_for("sales1"))
        assert all(
            built["levels"][i][0] in ("public", "internal") or built["levels"][i] == ("confidential", True)
            for i in sales_ids
        )
    finally:
        d.close()
        _opensearch.drop(url, alias)
