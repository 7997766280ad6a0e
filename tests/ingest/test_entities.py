"""The entity facade: finders over pages, overlaps, entity_values, document_date, and the dev corpus."""

from __future__ import annotations

from collections import Counter

import pytest

from ingest import ENTITY_KINDS, Entity, document_date, entity_values, extract_entities
from ingest.facts._common import Found, cell_header, role_before, table_cells
from ingest.facts._entities import resolve_overlaps

from .conftest import REAL, load_truth

CONTRACT_P1 = """产品购销合同
合同编号：HT-2024-0315
签订日期：2024年3月15日\t签订地点：浙江省杭州市
甲方（买方）：上海明远科技有限公司
统一社会信用代码：91330106MA2H4K7R3E
联系电话：13905718888
电子邮箱：Li.Ming@mingyuan-tech.com
序号\t产品名称\t数量\t单价（元）\t金额（元）
1\t防火墙\t5\t29,800.00\t149,000.00
合计\t149,000.00
合同总金额：人民币壹拾肆万玖仟元整（¥149,000.00）。
"""
CONTRACT_P2 = """乙方应于2024/3/25前交货。
技术支持热线400-684-0956。
甲方（盖章）：\t乙方（盖章）：
日期：      年    月    日
"""


def test_extract_entities_over_pages() -> None:
    """Entities carry page numbers from 1, positions into their page, and come in reading order."""
    pages = [CONTRACT_P1, CONTRACT_P2]
    ents = extract_entities(pages)
    assert all(isinstance(e, Entity) for e in ents)
    for e in ents:
        assert pages[e.page - 1][e.start : e.end] == e.text
    order = [(e.page, e.start) for e in ents]
    assert order == sorted(order)
    values = entity_values(ents)
    assert values["contract_no"] == ["HT-2024-0315"]
    assert values["date"] == ["2024-03-15", "2024-03-25"]
    assert values["phone"] == ["13905718888", "4006840956"]
    assert values["email"] == ["li.ming@mingyuan-tech.com"]
    assert values["uscc"] == ["91330106MA2H4K7R3E"]
    assert values["amount"] == ["29800.00", "149000.00"]
    assert {e.page for e in ents if e.kind == "phone"} == {1, 2}


def test_roles_name_the_label() -> None:
    """The role of an entity is the label that introduced it."""
    ents = extract_entities([CONTRACT_P1])
    roles = {(e.kind, e.role) for e in ents}
    assert ("contract_no", "合同编号") in roles
    assert ("date", "签订日期") in roles
    assert ("phone", "联系电话") in roles
    assert ("uscc", "统一社会信用代码") in roles
    assert role_before("甲方（买方）：明远", 7) == "甲方（买方）"
    assert role_before("今天是2024年", 3) == ""


def test_entity_values_has_every_kind_once() -> None:
    """entity_values lists every kind, each value once, in first-seen order."""
    ents = extract_entities(["电话 13905718888，再拨 139-0571-8888；邮箱 a@b.cn"])
    values = entity_values(ents)
    assert list(values) == list(ENTITY_KINDS)
    assert values["phone"] == ["13905718888"]
    assert values["company"] == []


def test_empty_pages() -> None:
    """No text, no entities, no date."""
    assert extract_entities([]) == ()
    assert extract_entities(["", "   "]) == ()
    assert document_date((), []) is None


def test_overlap_prefers_priority_then_length() -> None:
    """Among overlapping candidates the higher priority wins, then the longer span."""
    phone = Found("phone", "13301068181", 2, 13)
    uscc = Found("uscc", "91330106818134902E", 0, 18, priority=2)
    date = Found("date", "2024-03-15", 20, 28)
    code = Found("contract_no", "HT20240315", 18, 28, priority=2)
    short = Found("amount", "1.00", 30, 32)
    long = Found("amount", "12.00", 30, 33)
    assert resolve_overlaps([phone, uscc, date, code, short, long]) == [uscc, code, long]


def test_phone_inside_credit_code_is_not_a_phone() -> None:
    """Digits of a credit code never come out as a phone too."""
    ents = extract_entities(["税号91330106818134902E"])
    assert [(e.kind, e.value) for e in ents] == [("uscc", "91330106818134902E")]


def test_table_headers() -> None:
    """Cells map to their column header; a 合计 row without empty cells lines up from the right."""
    text = "序号\t产品\t数量\t金额\n1\t服务\t3\t300.00\n合计\t300.00\n\n无表格 12"
    cells = {text[c.start : c.end]: c.header for c in table_cells(text) if c.header}
    assert cells == {"1": "序号", "3": "数量", "300.00": "金额"}
    assert cell_header(text, text.rindex("300.00")) == "金额"
    assert cell_header(text, text.rindex("12")) is None


@pytest.mark.parametrize(
    ("pages", "want"),
    [
        (["交货期：2024-04-30前\n签订日期：2024年3月15日\n有效期至2025年3月14日"], "2024-03-15"),
        (["报价单\n报价日期：2024/10/10\n有效期30天（至2024/11/9）"], "2024-10-10"),
        (["会议纪要\n会议时间：2023/8/2 15:00-16:30\n下次会议时间：2023/8/12"], "2023-08-02"),
        (["Subject: Hi\nDate: Thu, 14 Mar 2024 08:49:54 +0800\n\nThank you for Mar 13, 2024."], "2024-03-14"),
        (["方案书\n2023年9月28日\n期望在2023/12/27前完成"], "2023-09-28"),
        (["服务期限：2024年1月1日至2024年12月31日\n签约时间：2023年12月20日"], "2023-12-20"),
        (["INVOICE\nDue date: 2024-04-30\nIssue date: 2024-03-31"], "2024-03-31"),
        (["员工信息\n出生日期：1985-03-02\n入职日期：2021-06-01"], "2021-06-01"),
        (["付款节点：2025-12-31\n交货日期：2025-06-30"], None),
        (["第一页没有日期", "附件\n2024年1月2日"], "2024-01-02"),
    ],
)
def test_document_date(pages: list[str], want: str | None) -> None:
    """The document's own date: a signing/issue/meeting label first, never a due or birth date."""
    assert document_date(extract_entities(pages), pages) == want


# ---------------------------------------------------------------------------------------------
# The dev corpus: per kind precision and recall over the truth texts.

CORE_KINDS = ("phone", "email", "uscc", "amount", "date", "contract_no")
OTHER_KINDS = ("quote_no", "order_no", "invoice_code", "invoice_no")


def _units() -> list[tuple[list[str], dict]]:
    units: list[tuple[list[str], dict]] = []
    for rec in load_truth():
        if rec.get("doc_type") == "hostile" or rec.get("expect") != "ok":
            continue
        for unit in [rec, *(rec.get("attachments") or [])]:
            units.append((unit.get("pages") or [unit.get("text", "")], unit))
    return units


def _scores() -> dict[str, tuple[float, float]]:
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for pages, unit in _units():
        ents = extract_entities(pages)
        for kind in CORE_KINDS + OTHER_KINDS:
            if kind == "uscc":
                truth = {(d["value"], d["valid"]) for d in unit["entities"][kind]}
                got = {(e.value, e.valid) for e in ents if e.kind == kind}
            else:
                truth = {(v, True) for v in unit["entities"][kind]}
                got = {(e.value, True) for e in ents if e.kind == kind}
            tp[kind] += len(truth & got)
            fp[kind] += len(got - truth)
            fn[kind] += len(truth - got)
    return {
        kind: (tp[kind] / max(1, tp[kind] + fp[kind]), tp[kind] / max(1, tp[kind] + fn[kind]))
        for kind in CORE_KINDS + OTHER_KINDS
    }


@pytest.fixture(scope="module")
def corpus_scores() -> dict[str, tuple[float, float]]:
    if not _units():
        pytest.skip("dev corpus truth not present")
    return _scores()


@pytest.mark.parametrize("kind", CORE_KINDS)
def test_dev_corpus_core_kinds(corpus_scores: dict[str, tuple[float, float]], kind: str) -> None:
    """Phones, e-mails, credit codes (with validity), amounts, dates and contract numbers: F1 >= 0.97."""
    precision, recall = corpus_scores[kind]
    f1 = 2 * precision * recall / max(1e-9, precision + recall)
    assert f1 >= 0.97, (kind, precision, recall)


@pytest.mark.parametrize("kind", OTHER_KINDS)
def test_dev_corpus_document_numbers(corpus_scores: dict[str, tuple[float, float]], kind: str) -> None:
    """Quote, order and invoice numbers and invoice codes: F1 >= 0.93."""
    precision, recall = corpus_scores[kind]
    f1 = 2 * precision * recall / max(1e-9, precision + recall)
    assert f1 >= 0.93, (kind, precision, recall)


def test_dev_corpus_document_date() -> None:
    """Where the truth date is printed in the text, document_date picks it for nearly every document."""
    reachable = right = 0
    for rec in load_truth():
        if rec.get("doc_type") == "hostile" or not rec.get("date"):
            continue
        pages = rec.get("pages") or [rec["text"]]
        ents = extract_entities(pages)
        if rec["date"] not in {e.value for e in ents if e.kind == "date"}:
            continue
        reachable += 1
        right += document_date(ents, pages) == rec["date"]
    if not reachable:
        pytest.skip("dev corpus truth not present")
    assert right / reachable >= 0.95, (right, reachable)


@pytest.mark.ocr
def test_real_scanned_invoice_through_rapidocr() -> None:
    """A real 增值税电子普通发票 image, read by RapidOCR: codes, issue date, seller credit code and total."""
    path = REAL / "invoice" / "vat_e_invoice_tianjin.png"
    if not path.is_file():
        pytest.skip("real invoice not present")
    from ingest import ocr_pages

    pages = [p.text for p in ocr_pages(path.read_bytes(), path.name, engine="rapidocr")]
    ents = extract_entities(pages)
    values = entity_values(ents)
    assert values["invoice_code"] == ["012001800311"]
    assert values["invoice_no"] == ["33207675"]
    assert values["uscc"] == ["91120222079642398Y"]
    assert all(e.valid for e in ents if e.kind == "uscc")
    assert "52.70" in values["amount"]  # 价税合计 伍拾贰圆柒角
    assert document_date(ents, pages) == "2019-05-08"
