"""Amounts in yuan: currency marks, 元/万元, 大写, table money cells, and numbers that are not money."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ingest import parse_amount
from ingest.facts._entities import find_all
from ingest.facts._money import parse_upper


def amounts(text: str) -> list[str]:
    return [f.value for f in find_all(text) if f.kind == "amount"]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("壹万零伍佰元", "10500"),
        ("壹拾贰万元整", "120000"),
        ("人民币壹万零伍佰元", "10500"),
        ("叁仟元零伍分", "3000.05"),
        ("贰佰万元整", "2000000"),
        ("拾万元整", "100000"),
        ("壹拾捌万肆仟捌佰伍拾元整", "184850"),
        ("叁拾伍万零柒佰元整", "350700"),
        ("壹亿贰仟万元整", "120000000"),
        ("捌拾玖万玖仟玖佰玖拾玖元玖角玖分", "899999.99"),
        ("柒拾贰万捌仟贰佰伍拾玖元捌角整", "728259.8"),
        ("玖角捌分", "0.98"),
        ("壹佰零伍元", "105"),
        ("（大写）ⓧ肆万玖仟贰佰元整", "49200"),
    ],
)
def test_upper_amounts(text: str, want: str) -> None:
    """大写 amounts are read exactly, 零 and 角/分 included."""
    assert parse_upper(text) == Decimal(want)


@pytest.mark.parametrize("text", ["壹拾捌万肆仟捌伍拾元整", "仟元", "肆佰仟元", "元整", "壹拾贰万"])
def test_unreadable_upper_amounts(text: str) -> None:
    """A 大写 amount that lost a unit (OCR) or has none reads as nothing rather than a wrong value."""
    assert parse_upper(text) is None


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("¥1,000.00", "1000.00"),
        ("￥ 500", "500.00"),
        ("RMB 3,000", "3000.00"),
        ("CNY 635,700.00", "635700.00"),
        ("人民币120,775.00元", "120775.00"),
        ("人民币3.12万元", "31200.00"),
        ("55,455.00元", "55455.00"),
        ("50万元", "500000.00"),
        ("1.2亿元", "120000000.00"),
        ("１２，０００．００元", "12000.00"),
        ("壹万零伍佰元整", "10500.00"),
        ("五十万元", "500000.00"),
        ("29,800.00", "29800.00"),
        ("十三", None),
        ("abc", None),
        ("", None),
    ],
)
def test_parse_amount_surface_forms(text: str, want: str | None) -> None:
    """parse_amount reads every amount form and gives yuan with two places."""
    got = parse_amount(text)
    assert (str(got) if got is not None else None) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("合同金额：128,000", ["128000.00"]),
        ("总价: 5000元", ["5000.00"]),
        ("Total: 12,000", ["12000.00"]),
        ("价税合计(大写) 伍拾贰圆柒角 (小写?52.70", ["52.70", "52.70"]),
        ("合计：5台", []),
        ("预算：30%", []),
    ],
)
def test_plain_figure_after_money_label(text: str, want: list[str]) -> None:
    """A figure without currency mark counts right after a money label, not when a unit or % follows."""
    assert amounts(text) == want


def test_upper_and_figure_on_one_line_agree() -> None:
    """A contract total in 大写 and in figures gives one value, found twice."""
    text = "合同总金额（含税）：人民币壹拾贰万伍仟伍佰壹拾元整（¥125,510.00）。"
    found = [f for f in find_all(text) if f.kind == "amount"]
    assert [f.value for f in found] == ["125510.00", "125510.00"]
    assert [text[f.start : f.end] for f in found] == ["人民币壹拾贰万伍仟伍佰壹拾元整", "¥125,510.00"]


def test_unreadable_upper_takes_the_figure_on_its_line() -> None:
    """When OCR garbles the 大写 amount, the figure printed on the same line gives its value."""
    text = "价税合计（大写）ⓧ柒万玖仟捌玖佰元整（小写）¥79,800.00"
    assert amounts(text) == ["79800.00", "79800.00"]


def test_table_money_cells() -> None:
    """Bare figures under 单价/金额 columns and in the 合计 row count; quantities and 序号 do not."""
    text = (
        "序号\t产品名称\t单位\t数量\t单价（元）\t金额（元）\n"
        "1\t防火墙\t台\t500\t2,780.00\t1,390,000.00\n"
        "2\t实施服务\t人天\t15\t2390\t35850\n"
        "合计\t1,425,850.00\n"
    )
    assert amounts(text) == ["2780.00", "1390000.00", "2390.00", "35850.00", "1425850.00"]


def test_column_unit_and_currency() -> None:
    """A 万元 column multiplies its cells; a USD column holds no yuan amounts."""
    text = "序号\t产品\t单价（万元）\t金额(USD)\n1\t服务器\t12.5\t1,000.00\n"
    assert amounts(text) == ["125000.00"]


def test_markdown_and_xlsx_total_rows() -> None:
    """A 合计 row keeps its columns when empty cells are there (XLSX, Markdown)."""
    text = "序号\t产品\t数量\t单价\t金额\n1\t服务\t2\t100.00\t200.00\n合计\t\t514\t\t1,532,300.00\n"
    assert amounts(text) == ["100.00", "200.00", "1532300.00"]
    md = "| 序号 | 产品 | 数量 | 金额（元） |\n|---|---|---|---|\n| 1 | 服务 | 20 | 614,000.00 |\n| 合计 |  |  | 614,000.00 |\n"
    assert amounts(md) == ["614000.00", "614000.00"]


def test_garbled_upper_takes_the_figure_not_its_tail() -> None:
    """An OCR-garbled 大写 amount is never read as its readable tail (玖佰元整); the figure decides."""
    text = "合同总金额：人民币业万参什玖佰元整（Y73,900.00）"
    assert set(amounts(text)) == {"73900.00"}
    assert amounts("人民币业万参什玖佰元整") == []
    assert amounts("服务费叁仟元整") == ["3000.00"]


def test_ocr_joined_cells() -> None:
    """OCR joins cells with spaces: two-decimal figures on a money line still count; 13% and 1.92T do not."""
    text = "1 服务器 2xXeon/4x1.92T 台 1 29,716.98 29,716.98 13% 704.72\n"
    assert amounts(text) == ["29716.98", "29716.98", "704.72"]
    assert amounts("2 实施服务 人天 20 2,280.00 45;600.00.") == ["2280.00", "45600.00"]


@pytest.mark.parametrize(
    "text",
    [
        "增值税税率13%",
        "违约金按0.5‰计算",
        "可用性99.9%",
        "Dell R750 2×Xeon 4314/256G/4×1.92T",
        "USD 12,000.00",
        "12,000.00美元",
        "$1,200.00",
        "一元化管理，二元结构",
        "第3条第2款",
        "￥67,A47.38",
        "¥67/447.38",
        "版本 V2.10",
    ],
)
def test_not_amounts(text: str) -> None:
    """Percentages, specs, foreign currency and words with 元 are not yuan amounts."""
    assert amounts(text) == []


# --- held-out findings ----------------------------------------------------------------------


def test_discount_lines_keep_their_minus_sign() -> None:
    text = (
        "品名\t数量\t单价\t金额\n服务器\t1\t30,000.00\t30,000.00\n折扣\t\t\t-1,500.00\n商务优惠：-¥800.00\n"
    )
    assert amounts(text).count("-1500.00") == 1
    assert "-800.00" in amounts(text)
    assert "1500.00" not in amounts(text) and "800.00" not in amounts(text)


def test_a_dash_after_a_digit_is_no_minus_sign() -> None:
    assert amounts("预算区间：1,000.00-2,000.00元") == ["1000.00", "2000.00"]


def test_wan_figures_with_more_decimals() -> None:
    """单价0.128万元 is 1,280 yuan; more than two decimals only before 万/亿."""
    assert amounts("单价0.128万元，小计3.84万元") == ["1280.00", "38400.00"]


def test_space_joined_table_rows_under_a_money_header() -> None:
    """OCR joins an invoice's cells with spaces: two-decimal figures under 单价/金额/税额 count."""
    text = (
        "项目名称 规格型号 单位 数量 单价 金额 税率 税额\n"
        "*软件*财务软件 V2 套 2 4424.78 8849.56 13% 1150.44\n"
        "\n"
        "版本 2.10 发布\n"
    )
    assert amounts(text) == ["4424.78", "8849.56", "1150.44"]
