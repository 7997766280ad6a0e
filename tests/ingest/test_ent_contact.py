"""Phone numbers and e-mail addresses: surface forms, normal forms, and numbers that are not phones."""

from __future__ import annotations

import pytest

from ingest import normalize_phone
from ingest.facts._contact import find_contacts
from ingest.facts._entities import find_all


def phones(text: str) -> list[str]:
    return [f.value for f in find_all(text) if f.kind == "phone"]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("联系电话：13905718888", ["13905718888"]),
        ("手机 139-0571-8888", ["13905718888"]),
        ("Mobile: +86 139 0571 8888", ["13905718888"]),
        ("(+86)13905718888", ["13905718888"]),
        ("座机：0571-87654321", ["0571-87654321"]),
        ("电话（0571）8765-4321", ["0571-87654321"]),
        ("Tel: 0571 87654321", ["0571-87654321"]),
        ("北京总部 010-6543 2100", ["010-65432100"]),
        ("Tel: +86-21-6234 5678", ["021-62345678"]),
        ("Tel: +86 (21) 6234-5678", ["021-62345678"]),
        ("服务热线400-820-1234，投诉800 810 4321", ["4008201234", "8008104321"]),
        ("总机：0571-87654321 转 8021", ["0571-87654321"]),
        ("电话 0571-87654321分机8021", ["0571-87654321"]),
        ("Tel：0571-87654321-8021", ["0571-87654321"]),
        ("电话：0571-8765-4321", ["0571-87654321"]),
        ("对接人刘洋（13905718888）", ["13905718888"]),
        ("联系电话 13337519306,027-29109538", ["13337519306", "027-29109538"]),
        ("电话：１３９０５７１８８８８", ["13905718888"]),
        ("文三路1067号2号楼12层 -0571-65899589", ["0571-65899589"]),
        ("纳税人识别号 ; 开户行 0571 88881234", ["0571-88881234"]),
    ],
)
def test_phone_surface_forms(text: str, want: list[str]) -> None:
    """Every usual way of writing a mobile, landline or hotline gives its normal form."""
    assert phones(text) == want


def test_extension_is_dropped_from_value_not_lost_from_text() -> None:
    """An extension (转/分机) belongs to the highlighted text but not to the value."""
    text = "总机：0571-87654321 转 8021。"
    (found,) = [f for f in find_contacts(text) if f.kind == "phone"]
    assert found.value == "0571-87654321"
    assert text[found.start : found.end] == "0571-87654321 转 8021"


@pytest.mark.parametrize(
    "text",
    [
        "订单号：13800001234",
        "订单编号 15912345678",
        "银行账号：6222 0213 1234 5678 901",
        "银行账号：13812345678901234",
        "银行账号：6222 0571 8888 1234 567",
        "开户行及账号：招商银行杭州滨江支行 2299269767843255268",
        "合同号：13912345678",
        "发票号码：13512345678",
        "编号15012345678",
        "统一社会信用代码：91330106818134902E",
        "金额：¥13,912,345.00",
        "预付款13912345678元",
        "批次20240315123",
        "运单号：381186731672",
        "机器编号：593989251468",
        "校验码：56849 91310 37976 17039",
        "SN13812345678",
        "HT-13812345678",
        "Order No.: 13812345678",
        "客户编号：13812345678",
        "运单号 13812345678",
        "订单 DD13812345678",
        "0571-8888",
        "(21)62345678",
        "12345678901",
    ],
)
def test_codes_and_amounts_are_not_phones(text: str) -> None:
    """An 11-digit order, contract or invoice number, an account, a credit code or an amount is no phone."""
    assert phones(text) == []


def test_phone_label_wins_over_number_word() -> None:
    """电话号码, 手机号 and Tel No. introduce phones even though they end with a word for number."""
    assert phones("电话号码：13905718888；手机号：13705718888") == ["13905718888", "13705718888"]
    assert phones("Tel No.: 0571-87654321  Mobile No. 13905718888") == ["0571-87654321", "13905718888"]
    assert phones("客户：13905718888") == ["13905718888"]


def test_glued_landline_needs_a_phone_label() -> None:
    """057187654321 is a landline after 电话, and just a number elsewhere."""
    assert phones("电话：057187654321") == ["0571-87654321"]
    assert phones("流水 057187654321") == []


def test_phone_in_table_under_code_column_is_not_a_phone() -> None:
    """A number under an 订单号 column is an order number, under 手机 a phone."""
    text = "订单号\t客户\t手机\n13812345678\t明远科技\t13905718888\n"
    assert phones(text) == ["13905718888"]


def test_phone_inside_email_is_part_of_the_email() -> None:
    """A mobile used as a mailbox name is the e-mail address, not a second phone."""
    found = find_all("邮箱：13905718888@139.com")
    assert [(f.kind, f.value) for f in found] == [("email", "13905718888@139.com")]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("邮箱：Li.Ming@MingYuan-Tech.com.cn。", ["li.ming@mingyuan-tech.com.cn"]),
        (
            "Email: sales+cn@example.org, cc: ops_team@example.co",
            ["sales+cn@example.org", "ops_team@example.co"],
        ),
        ("From: 张伟 <zhangwei@yunfan-it.com>", ["zhangwei@yunfan-it.com"]),
        ("不是邮箱：user@localhost 和 @handle", []),
        ("To: danglüe@email.com", []),
        ("邮箱zhang@example.cn联系", ["zhang@example.cn"]),
    ],
)
def test_emails_are_lower_cased(text: str, want: list[str]) -> None:
    """E-mail addresses are found whole and lower-cased; a trailing full stop is not part of one."""
    assert [f.value for f in find_contacts(text) if f.kind == "email"] == want


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("(0571)8888-1234", "0571-88881234"),
        ("0571 88881234", "0571-88881234"),
        ("057188881234", "0571-88881234"),
        ("010-62345678", "010-62345678"),
        ("+86 21 6234 5678", "021-62345678"),
        ("400-684-0956", "4006840956"),
        ("4006840956", "4006840956"),
        ("12345", None),
        ("2024-03-15", None),
        ("", None),
    ],
)
def test_normalize_phone(raw: str, want: str | None) -> None:
    """A query such as phone:138-1234-5678 is normalised the way documents are."""
    assert normalize_phone(raw) == want


def test_a_second_local_number_shares_the_area_code() -> None:
    assert phones("电话/传真：0532-8577 1200 / 8577 1201") == ["0532-85771200", "0532-85771201"]
    assert phones("电话：020-38860011、38860012") == ["020-38860011", "020-38860012"]


def test_two_mobiles_joined_by_a_slash() -> None:
    assert phones("手机：13600001111/18922223333") == ["13600001111", "18922223333"]
