"""Company and person names: legal suffixes, labels, short names, titles, and the dev corpus truth."""

from __future__ import annotations

import pytest

from ingest.facts._names import find_companies, find_names
from tests.ingest.conftest import load_truth


def companies(text: str) -> list[str]:
    return [f.value for f in find_companies(text)]


# --- companies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "本合同由北京明远科技有限公司（以下简称“甲方”）与上海星河数据服务有限公司（以下简称“乙方”）签订。",
            ["北京明远科技有限公司", "上海星河数据服务有限公司"],
        ),
        ("会上顺带讨论了杭州同和科技有限公司的跟进情况。", ["杭州同和科技有限公司"]),
        ("我们与华为技术有限公司签订了框架协议。", ["华为技术有限公司"]),
        ("阿里巴巴（中国）网络技术有限公司参与了投标。", ["阿里巴巴（中国）网络技术有限公司"]),
        ("客户为宁波东方电子有限公司的采购部。", ["宁波东方电子有限公司"]),
        ("我们拜访了苏州工业园区明德科技有限公司。", ["苏州工业园区明德科技有限公司"]),
        ("TCL科技集团股份有限公司发布公告", ["TCL科技集团股份有限公司"]),
        ("张家港保税区华东物流有限公司", ["张家港保税区华东物流有限公司"]),
        (
            "起草单位：西部金属材料股份有限公司、中国船舶重工集团公司",
            ["西部金属材料股份有限公司", "中国船舶重工集团公司"],
        ),
        ("中国移动通信集团浙江有限公司杭州分公司", ["中国移动通信集团浙江有限公司杭州分公司"]),
        ("昌隆精密制造（上海）有限公司", ["昌隆精密制造（上海）有限公司"]),
    ],
)
def test_chinese_full_names_start_where_the_name_starts(text: str, expected: list[str]) -> None:
    """A name ends at its legal suffix and starts after the words before it (与, 由, 讨论了 …)."""
    assert companies(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "开户银行：中国建设银行股份有限公司上海浦东支行",
        "任何一方均可将争议提交上海仲裁委员会仲裁，或向杭州市西湖区人民法院起诉。",
        "国家税务总局杭州市税务局第一税务分局",
        "甲方向乙方采购服务器。我公司与贵公司长期合作，该公司信誉良好。",
        "数据中心机房建设项目由客户服务中心负责，会议在上海国际会议中心举行。",
        "地址：武汉市江汉区新华路914号中心大厦1708室",
        "本合同（以下简称“本合同”）由双方（以下简称“甲方”“乙方”）签署。",
    ],
)
def test_organisations_and_generic_words_are_not_companies(text: str) -> None:
    """Banks, courts, arbitration commissions, tax offices, 我公司 and 数据中心 are no companies."""
    assert companies(text) == []


def test_english_company_names() -> None:
    """Co., Ltd., Inc., LLC and upper-case forms; leading words and copyright years are not the name."""
    text = (
        "To: Contoso Pharma (Suzhou) Co., Ltd.\tAttn: Kevin Johnson\n"
        "We thank Globex Corporation and Initech LLC for supporting HANGZHOU YUNFAN INFORMATION TECHNOLOGY CO., LTD.\n"
        "© 2022, Amazon Web Services, Inc. All rights reserved."
    )
    assert companies(text) == [
        "Contoso Pharma (Suzhou) Co., Ltd.",
        "Globex Corporation",
        "Initech LLC",
        "HANGZHOU YUNFAN INFORMATION TECHNOLOGY CO., LTD.",
        "Amazon Web Services, Inc.",
    ]


def test_roles_come_from_the_party_label() -> None:
    """The label that introduces a company is its role: 甲方, 乙方, 购买方 (invoice), 供应商."""
    text = (
        "甲方（买方）：上海明远科技有限公司\n"
        "乙方（卖方）：杭州云帆信息技术有限公司\n"
        "购买方\t名称：宁波海天精工有限公司\t密码区\n"
        "供应商：深圳市汇川技术股份有限公司\n"
    )
    roles = {f.value: f.role for f in find_companies(text)}
    assert roles == {
        "上海明远科技有限公司": "甲方",
        "杭州云帆信息技术有限公司": "乙方",
        "宁波海天精工有限公司": "购买方",
        "深圳市汇川技术股份有限公司": "供应商",
    }


def test_short_names_only_where_labelled_or_declared() -> None:
    """客户：明远科技 and 以下简称“腾讯” are companies; a person after 客户： is not."""
    assert companies("客户：明远科技\n联系人：王先生") == ["明远科技"]
    assert companies("客户名称 | 坤元保理\n客户类型 | 现有客户") == ["坤元保理"]
    assert companies("深圳市腾讯计算机系统有限公司（以下简称“腾讯”）") == [
        "深圳市腾讯计算机系统有限公司",
        "腾讯",
    ]
    assert companies("客户：张晓明\n客户：个人客户\n客户：销售部") == []
    assert companies('made by Globex Inc. (hereinafter referred to as "Party A")') == ["Globex Inc."]
    assert companies("Customer: Contoso\nCustomer: John Smith") == ["Contoso"]
    assert companies("订单号\t客户名称\t下单日期\nDD001\t明远科技\t2024-01-05") == ["明远科技"]


@pytest.mark.parametrize(
    ("text", "value", "role"),
    [
        ("Customer: Pacific Rim\n", "Pacific Rim", "Customer"),
        ("Client: Acme Trading\n", "Acme Trading", "Client"),
        ("- **Customer**: Harbour Bridge\n", "Harbour Bridge", "Customer"),
        ("Customer Name: Pacific Rim\n", "Pacific Rim", "Customer Name"),
        ("Client Name\tNorth Star Freight\n", "North Star Freight", "Client Name"),
        ("| Customer | Silver Lake |\n", "Silver Lake", "Customer"),
        ("客户：Pacific Rim\n", "Pacific Rim", "客户"),
        ("客户名称：Blue Harbor\n", "Blue Harbor", "客户名称"),
        ("Order\tCustomer\tStatus\tOwner\nSO-1\tGolden Gate\tOpen\t-\n", "Golden Gate", "Customer"),
        ("Buyer: Acme Trading\n", "Acme Trading", "Buyer"),
    ],
)
def test_two_english_words_after_a_customer_label_are_a_company(text: str, value: str, role: str) -> None:
    """Two capitalised words after Customer:/Client:/客户 name the customer (a short company name,
    role = the label), not a person; a business word (Trading) does so after any party label."""
    found = [(f.kind, f.value, f.role) for f in find_names(text)]
    assert found == [("company", value, role)]


def test_an_individual_after_a_customer_label_is_not_a_company() -> None:
    """An individual's name after a customer label (a given name first, Mr./Ms., romanised Chinese)
    is neither a company nor a person; a contact label after it still yields the person."""
    for text in (
        "Customer: John Smith",
        "Customer: Wang Fang",
        "Client: Mr. Robert Brown",
        "Customer Name: Mary Lee",
    ):
        assert find_names(text) == [], text
    found = find_names("Customer: Pacific Rim\nContact: Kevin Johnson\nAttn: Mary Lee\n")
    assert [(f.kind, f.value, f.role) for f in found] == [
        ("company", "Pacific Rim", "Customer"),
        ("person", "Kevin Johnson", "Contact"),
        ("person", "Mary Lee", "Attn"),
    ]


def test_short_name_in_a_title_line() -> None:
    """A title naming the customer by its short form (字号 + 行业) counts; the same words in the body do not."""
    text = (
        "明远科技园区网络升级项目沟通会议纪要\n"
        "会议时间：2024-03-01\n"
        "一、背景\n上海明远科技有限公司计划升级园区网络。为什么选择云帆信息？\n"
    )
    assert companies(text) == ["明远科技", "上海明远科技有限公司"]
    # a 字号 + 行业 opening a proposal title, with no full name on the page
    assert companies("博雅租赁服务器维保续约解决方案\nMaintenance Renewal Proposal") == ["博雅租赁"]
    # a topic is not a 字号
    assert companies("数据备份与存储解决方案\n园区网络升级方案") == []
    # the short name after the dash of an e-mail subject, and a short form of a full name
    assert companies("Subject: 等保整改报价单-云帆信息\nFrom: 张晗 <h@x.com>") == ["云帆信息"]
    text = "2023年4季度重点客户订单汇总（凌云保理、Contoso）\n订单号\t客户名称\nD1\t南京凌云商业保理有限公司\nD2\tContoso Pharma (Suzhou) Co., Ltd.\n"
    assert companies(text) == [
        "凌云保理",
        "Contoso",
        "南京凌云商业保理有限公司",
        "Contoso Pharma (Suzhou) Co., Ltd.",
    ]


def test_found_text_is_the_value() -> None:
    """Every company and person value is exactly the text at its span."""
    text = "甲方：北京明远科技有限公司\n联系人：张伟（采购经理）\nTo: Acme Trading Co., Ltd.\nAttn: Mr. John Smith\n"
    found = find_names(text)
    assert found
    for f in found:
        assert text[f.start : f.end] == f.value


def test_a_company_is_not_read_as_a_person() -> None:
    """``To: Acme Trading, Inc.`` names a company; its words are not a person's name."""
    found = find_names("To: Acme Trading, Inc.\nAttn: Kevin Johnson")
    assert [(f.kind, f.value) for f in found] == [
        ("company", "Acme Trading, Inc."),
        ("person", "Kevin Johnson"),
    ]


# --- the dev corpus ----------------------------------------------------------------------

TRUTH = [r for r in load_truth() if r["doc_type"] != "hostile"]


def _units(record: dict) -> list[tuple[list[str], dict]]:
    units = [(record.get("pages") or [record["text"]], record["entities"])]
    for att in record.get("attachments", []):
        units.append((att.get("pages") or [att["text"]], att["entities"]))
    return units


def _f1(kind: str) -> float:
    tp = fp = fn = 0
    for record in TRUTH:
        for pages, truth in _units(record):
            got = {f.value for page in pages for f in find_names(page) if f.kind == kind}
            want = set(truth[kind])
            tp, fp, fn = tp + len(got & want), fp + len(got - want), fn + len(want - got)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


@pytest.mark.skipif(not TRUTH, reason="dev corpus not present")
def test_dev_corpus_company_f1() -> None:
    """Company names over the dev truth: F1 >= 0.93 (sets of values per document)."""
    assert _f1("company") >= 0.93


@pytest.mark.skipif(not TRUTH, reason="dev corpus not present")
def test_dev_corpus_person_f1() -> None:
    """Person names over the dev truth: F1 >= 0.90 (sets of values per document)."""
    assert _f1("person") >= 0.90


def test_ocr_glued_cells() -> None:
    """OCR that drops the gaps between cells still yields the names (labels are not swallowed)."""
    text = (
        "客户名称：北京启明进出口有限公司联系人：欧阳健桂\n"
        "收款人：何文玉复核：曹瑞欣\n开票人：孔家晓销售方：（章）\n"
        "拜访人员周晨杰（售前工程师）\n"
        "甲方（盖章）：北京华信商贸有限公司乙方（盖章杭州云帆信息技术有限公司\n"
        "客户名称光华物流（武汉）有限公司\n"
    )
    found = find_names(text)
    assert [f.value for f in found if f.kind == "company"] == [
        "北京启明进出口有限公司", "北京华信商贸有限公司", "杭州云帆信息技术有限公司", "光华物流（武汉）有限公司",
    ]  # fmt: skip
    assert [f.value for f in found if f.kind == "person"] == [
        "欧阳健桂",
        "何文玉",
        "曹瑞欣",
        "孔家晓",
        "周晨杰",
    ]


def test_letter_spaced_text() -> None:
    """``联 系 人：张 伟`` reads as 联系人 张伟; the span still covers the spaced text."""
    text = "甲 方：上海明远科技有限公司\n联 系 人：张 伟\n参会人员：李娜 王芳"
    found = find_names(text)
    assert [(f.kind, f.value, text[f.start : f.end]) for f in found] == [
        ("company", "上海明远科技有限公司", "上海明远科技有限公司"),
        ("person", "张伟", "张 伟"),
        ("person", "李娜", "李娜"),
        ("person", "王芳", "王芳"),
    ]
    assert found[0].role == "甲方"


# --- held-out findings ----------------------------------------------------------------------


def test_short_form_of_a_full_name_anywhere_on_the_page() -> None:
    text = "致：成都蓉西天府电子科技有限公司\n\n一、背景\n天府电子现有两条产线……\n地址：蓉西电子园A区"
    assert companies(text) == ["成都蓉西天府电子科技有限公司", "天府电子"]


def test_placeholders_and_declared_product_names_are_not_companies() -> None:
    assert companies("填写客户名称（如“某某科技有限公司”）") == []
    assert companies("甲方拥有“星图ERP”软件（以下简称“许可软件”）的著作权") == []
    # a company's declared short name still counts
    assert "星图软件" in companies("甲方：杭州星图软件有限公司（以下简称“星图软件”）")


def test_job_title_before_an_english_company_in_a_signature() -> None:
    text = "Best regards,\nAmy Lin\nAccount Manager, Bluepeak Robotics (Suzhou) Co., Ltd."
    assert companies(text) == ["Bluepeak Robotics (Suzhou) Co., Ltd."]
