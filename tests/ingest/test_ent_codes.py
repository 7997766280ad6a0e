"""Credit codes (GB 32100-2015) and document numbers: contract, quote, order, invoice."""

from __future__ import annotations

import pytest

from ingest import uscc_is_valid
from ingest.facts._codes import find_codes
from ingest.facts._entities import find_all

# Made-up codes whose check characters were computed under GB 32100-2015.
VALID = "91330106MA2H4K7R3E"
VALID_DIGITS = "91440300708461136T"
VALID_2 = "12100000400000662B"


def values(text: str, kind: str) -> list[str]:
    return [f.value for f in find_all(text) if f.kind == kind]


@pytest.mark.parametrize(
    "code", [VALID, VALID_DIGITS, VALID_2, VALID.lower(), "９１３３０１０６ＭＡ２Ｈ４Ｋ７Ｒ３Ｅ"]
)
def test_check_character_accepts_right_codes(code: str) -> None:
    """A code whose 18th character matches the weighted sum mod 31 is valid (any case, full width)."""
    assert uscc_is_valid(code)


@pytest.mark.parametrize(
    "code",
    [VALID[:-1] + "F", VALID[:5] + "8" + VALID[6:], VALID[:-1], VALID + "0", "91330106MA2H4K7RIE", ""],
)
def test_check_character_rejects_wrong_codes(code: str) -> None:
    """One changed character, a wrong length, or a letter outside the code alphabet (I, O, S, V, Z) fails."""
    assert not uscc_is_valid(code)


def test_labelled_code_with_wrong_check_is_kept_and_flagged() -> None:
    """A wrong check character is flagged valid=False and the code kept exactly as printed."""
    wrong = VALID[:-1] + "F"
    (found,) = [f for f in find_codes(f"统一社会信用代码：{wrong}") if f.kind == "uscc"]
    assert (found.value, found.valid, found.role) == (wrong, False, "统一社会信用代码")


@pytest.mark.parametrize(
    "text",
    [
        f"纳税人识别号：{VALID}",
        f"税号 {VALID}",
        f"社会统一信用代码：{VALID}",
        f"- **统一社会信用代码**：{VALID}",
        f"统一社会信用代码\t{VALID}",
        f"统一社会信用代码：\n{VALID}",
        f"统 一 社 会 信 用 代 码：{VALID}",
        "统一社会信用代码：9133 0106 MA2H 4K7R 3E",
        f"USCC: {VALID.lower()}",
    ],
)
def test_labelled_code_forms(text: str) -> None:
    """Labels in their usual forms, OCR spaces inside the code and lower case all give the code."""
    assert [(f.value, f.valid) for f in find_codes(text) if f.kind == "uscc"] == [(VALID, True)]


def test_bare_code_counts_only_when_it_checks() -> None:
    """Without a label, an 18-character code counts only with a right check character."""
    assert values(f"乙方 {VALID} 盖章", "uscc") == [VALID]
    assert values(f"乙方 {VALID[:-1]}F 盖章", "uscc") == []
    assert values("批次 ABCDEFGH12345678XY", "uscc") == []


def test_bare_all_digit_code_is_not_taken() -> None:
    """An unlabelled 18-digit number (an ID card or account number) is no credit code, even if it checks."""
    digits_only = "330106199001011239"
    assert values(f"身份证号：{digits_only}", "uscc") == []
    assert values(f"备注 {digits_only}", "uscc") == []


def test_code_in_table_column() -> None:
    """A code under a 统一社会信用代码 column counts, with its check result."""
    text = f"客户\t统一社会信用代码\n明远科技\t{VALID}\n云帆信息\t{VALID[:-1]}F\n"
    assert [(f.value, f.valid) for f in find_codes(text) if f.kind == "uscc"] == [
        (VALID, True),
        (VALID[:-1] + "F", False),
    ]


@pytest.mark.parametrize(
    ("text", "kind", "want"),
    [
        ("合同编号：HT-2024-0315", "contract_no", "HT-2024-0315"),
        ("合同号: XS/2024/0088", "contract_no", "XS/2024/0088"),
        ("合 同 编 号 ：FW-2023-196", "contract_no", "FW-2023-196"),
        ("Contract No.: SC20240315-02", "contract_no", "SC20240315-02"),
        ("协议编号【GX-2024-07】", "contract_no", "GX-2024-07"),
        ("合同编号：No.HT-2024-0315", "contract_no", "HT-2024-0315"),
        ("合同编号：云帆销字〔2024〕第015号", "contract_no", "云帆销字〔2024〕第015号"),
        ("合同编号：HT-2024-0315（以下简称本合同）", "contract_no", "HT-2024-0315"),
        ("合同草稿请审阅：HT-2024-1118", "contract_no", "HT-2024-1118"),
        ("报价单号：BJ20240312-08", "quote_no", "BJ20240312-08"),
        ("Quotation No.: Q-2024-0057", "quote_no", "Q-2024-0057"),
        ("报价编号\nBJ20241010-04", "quote_no", "BJ20241010-04"),
        ("订单号：DD20231006059", "order_no", "DD20231006059"),
        ("PO No. 4500123456", "order_no", "4500123456"),
        ("采购订单编号 | PO-2024-00354 |", "order_no", "PO-2024-00354"),
        ("您的订单DD20240409099已发货", "order_no", "DD20240409099"),
        ("发票代码：033002392511", "invoice_code", "033002392511"),
        ("发票代码 3300231130", "invoice_code", "3300231130"),
        ("发票号码：00244890", "invoice_no", "00244890"),
        ("发票号码：24332000000012345678", "invoice_no", "24332000000012345678"),
        ("票号码 : 79523745", "invoice_no", "79523745"),
        ("纳税人识别号 ; 91330106MA2H4K7R3E", "uscc", VALID),
    ],
)
def test_document_numbers_by_label(text: str, kind: str, want: str) -> None:
    """Document numbers come from their labels (also spaced, bracketed or on the next line)."""
    assert values(text, kind) == [want]


def test_plain_number_label_takes_the_kind_of_the_document() -> None:
    """A bare 编号 in a contract is the contract number; in a quote, the quote number."""
    assert values("技术服务合同\n编号：JS-2024-031\n甲方：……", "contract_no") == ["JS-2024-031"]
    assert values("产品报价单\n编号：Q2024-117\n客户：……", "quote_no") == ["Q2024-117"]


def test_order_numbers_in_table_column() -> None:
    """Cells under an 订单号 column are order numbers; other columns are not."""
    text = "订单号\t客户名称\t数量\t运单号\nDD20231006059\t明远科技\t60\t381186731672\nPO-2023-00649\t云帆\t1\t9\n"
    assert values(text, "order_no") == ["DD20231006059", "PO-2023-00649"]


@pytest.mark.parametrize(
    "text",
    [
        "发票代码：0330024866",  # 10 digits is fine, but here glued to more digits below
        "合同编号：待定",
        "发票号码：1234567",
        "发票代码：12345678901",
        "编号：HT-2024-0315",  # no document kind in the head
        "参见合同第3条",
    ],
)
def test_no_document_number_without_a_real_one(text: str) -> None:
    """Placeholders, wrong lengths and a 编号 of unknown kind give no document number."""
    kinds = {"contract_no", "quote_no", "order_no", "invoice_no"}
    if text.startswith("发票代码：0330024866"):
        assert values(text + "1", "invoice_code") == []
        return
    assert [f for f in find_all(text) if f.kind in kinds | {"invoice_code"}] == []


def test_date_inside_a_document_number_is_not_a_date() -> None:
    """BJ20240312-08 and HT-2024-03-15-01 hold no date: the number wins."""
    found = find_all("报价单号：BJ20240312-08 合同编号：HT-2024-03-15-01")
    assert [(f.kind, f.value) for f in found] == [
        ("quote_no", "BJ20240312-08"),
        ("contract_no", "HT-2024-03-15-01"),
    ]


# --- held-out findings: number shapes and labels seen outside the dev corpus ---------------


@pytest.mark.parametrize(
    ("text", "kind", "want"),
    [
        ("合同编号：（2023）粤采字第0456号\n", "contract_no", ["（2023）粤采字第0456号"]),
        ("请按合同〔2024〕沪服字第18号的约定付款。", "contract_no", ["〔2024〕沪服字第18号"]),
        ("备注\t维保合同No.20231108-02 第二期", "contract_no", ["20231108-02"]),
        ("2023-11-08 签订框架合同 KJ/2023/118，金额", "contract_no", ["KJ/2023/118"]),
        ("1. 合同金额以报价单QX-BJ-231101-05为准", "quote_no", ["QX-BJ-231101-05"]),
        ("Re: Quotation AB-Q-2023-0912 - freight", "quote_no", ["AB-Q-2023-0912"]),
        ("Please ship against PO KLM-PO-23118 asap.", "order_no", ["KLM-PO-23118"]),
    ],
)
def test_document_number_shapes(text: str, kind: str, want: list[str]) -> None:
    """Year-first official numbers, a kind word glued to No., slashes and letter groups; the
    nearest kind word decides (合同金额以报价单… is a quote number)."""
    assert values(text, kind) == want
    others = {"contract_no", "quote_no", "order_no"} - {kind}
    assert not any(values(text, other) for other in others)


def test_no_after_another_word_is_not_a_document_number() -> None:
    """Account No., Item No. are not the document's own number, whatever the title says."""
    text = "Quotation\nBank: Bank of Example\nAccount No.: 6217 0012 3456 7890\nItem No. 3344\n"
    assert values(text, "quote_no") == []
