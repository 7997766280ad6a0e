"""Addresses and the (province, city) they name."""

from __future__ import annotations

import pytest

from ingest import region_of
from ingest.facts._places import _REGION_DATA, find_addresses, region_prefix
from tests.ingest.conftest import load_truth


def addresses(text: str) -> list[str]:
    return [f.value for f in find_addresses(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("地址：上海市浦东新区张江路88号", ["上海市浦东新区张江路88号"]),
        ("注册地址：浙江省杭州市滨江区网商路699号1号楼，邮编310052", ["浙江省杭州市滨江区网商路699号1号楼"]),
        ("地址、电话：北京市海淀区中关村大街1号 010-12345678", ["北京市海淀区中关村大街1号"]),
        (
            "收货地址\t江苏省苏州市工业园区星湖街1246号产业园12幢14楼203室\n",
            ["江苏省苏州市工业园区星湖街1246号产业园12幢14楼203室"],
        ),
        (
            "收货地址：\n广州市黄埔区科学大道370号创新大厦C座6楼103室\n",
            ["广州市黄埔区科学大道370号创新大厦C座6楼103室"],
        ),
        ("公司位于深圳市南山区科技园南区高新南七道12号。", ["深圳市南山区科技园南区高新南七道12号"]),
        (
            "1. 货物送至：\n江苏省南京市江宁区将军大道100号。运输费用由乙方承担。",
            ["江苏省南京市江宁区将军大道100号"],
        ),
        (
            "Address: Room 1201, No. 88 Zhangjiang Road, Pudong, Shanghai 201203\nTel: 021-1234",
            ["Room 1201, No. 88 Zhangjiang Road, Pudong, Shanghai 201203"],
        ),
        ("签订地点：浙江省杭州市", []),
        ("上海市场部负责华东区销售，北京市政府采购项目", []),
        ("会议地点：明远科技大会议室", []),
    ],
)
def test_addresses(text: str, expected: list[str]) -> None:
    """Labelled and unlabelled addresses end before a phone, a postcode clause or a sentence end."""
    assert addresses(text) == expected


def test_address_role_and_span() -> None:
    """The label is the role (地址、电话 reads as 地址) and the value is the text at the span."""
    text = "地址、电话：北京市海淀区中关村大街1号 010-12345678"
    (found,) = find_addresses(text)
    assert found.role == "地址"
    assert text[found.start : found.end] == found.value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("浙江省杭州市西湖区文三路1067号", ("浙江省", "杭州市")),
        ("杭州市滨江区江南大道1028号", ("浙江省", "杭州市")),
        ("上海市徐汇区田林路168号", ("上海市", "上海市")),
        ("北京市朝阳区东三环中路562号", ("北京市", "北京市")),  # 朝阳区 is not 朝阳市 (辽宁)
        ("朝阳市双塔区", ("辽宁省", "朝阳市")),
        ("广东深圳南山区", ("广东省", "深圳市")),
        ("吉林省吉林市船营区", ("吉林省", "吉林市")),
        ("吉林市船营区", ("吉林省", "吉林市")),
        ("内蒙古呼和浩特市赛罕区", ("内蒙古自治区", "呼和浩特市")),
        ("广西南宁市青秀区", ("广西壮族自治区", "南宁市")),
        ("海南藏族自治州共和县", ("青海省", "海南藏族自治州")),
        ("海南省海口市美兰区", ("海南省", "海口市")),
        ("延边朝鲜族自治州延吉市", ("吉林省", "延边朝鲜族自治州")),
        ("香港中环", ("香港特别行政区", "香港特别行政区")),
        ("成都高新区天府大道", ("四川省", "成都市")),
        ("江苏省昆山市", ("江苏省", "")),
        ("南京凌云商业保理有限公司", ("江苏省", "南京市")),
        ("Room 1201, Shanghai", None),
        ("", None),
    ],
)
def test_region_of(text: str, expected: tuple[str, str] | None) -> None:
    """Province and prefecture-level city in full official form; municipalities are their own city."""
    assert region_of(text) == expected


def test_region_table_has_34_divisions() -> None:
    """The built-in table covers all 34 provincial-level divisions."""
    assert len(_REGION_DATA.strip().splitlines()) == 34


def test_region_prefix() -> None:
    """The place name that opens a company name, as written."""
    assert region_prefix("浙江省杭州市西湖区") == "浙江省杭州市"
    assert region_prefix("上海海川物流") == "上海"
    assert region_prefix("南京市永信新能源") == "南京市"
    assert region_prefix("光华物流（武汉）") == ""


TRUTH = [r for r in load_truth() if r["doc_type"] != "hostile"]


@pytest.mark.skipif(not TRUTH, reason="dev corpus not present")
def test_dev_corpus_addresses() -> None:
    """Addresses over the dev truth: F1 >= 0.90 (sets of values per document)."""
    tp = fp = fn = 0
    for record in TRUTH:
        got = {f.value for page in record.get("pages") or [record["text"]] for f in find_addresses(page)}
        want = set(record["entities"]["address"])
        tp, fp, fn = tp + len(got & want), fp + len(got - want), fn + len(want - got)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert 2 * precision * recall / (precision + recall) >= 0.90
