"""Person names: labels, lists, job titles, table columns, e-mail headers and signatures."""

from __future__ import annotations

import pytest

from ingest.facts._persons import find_persons, is_cn_name, is_en_name, is_personal_en


def persons(text: str) -> list[str]:
    return [f.value for f in find_persons(text)]


# --- persons -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("联系人：张三 13800138000", ["张三"]),
        ("联系人：李四（销售经理）", ["李四"]),
        ("联系人：王先生\n负责人：待定\n经办人：张家港\n主持人：李总\n联系人：陈经理", []),
        ("参会人员：张伟、李娜、王芳（客户方）；赵磊（我方）", ["张伟", "李娜", "王芳", "赵磊"]),
        ("出席：总经理王明、财务总监李华", ["王明", "李华"]),
        ("法定代表人/授权代表：周鑫怡", ["周鑫怡"]),
        ("法定代表人或授权代表（签字）：\n日期：", []),
        ("技术负责人：韩梅梅", ["韩梅梅"]),
        ("联系人    刘洋    电话    13900000000", ["刘洋"]),
        ("联系人：\n欧阳娜娜\n联系电话：\n13800000000", ["欧阳娜娜"]),
        (
            "参会人员：客户方：彭斌（技术总监）、熊丹家（项目经理）；我方：徐云诗（销售总监）、\n周晨杰（售前工程师）",
            ["彭斌", "熊丹家", "徐云诗", "周晨杰"],
        ),
        (
            "Attn: John Smith\nContact: Procurement Department\nAttn: Mr. Robert Brown",
            ["John Smith", "Robert Brown"],
        ),
        (
            "Customer contact\t马天强, Procurement Manager\nPrepared by 周晨杰, Jan 11, 2024",
            ["马天强", "周晨杰"],
        ),
        ("张三（采购经理）表示同意。王经理表示需要内部审批。", ["张三"]),
        ("该客户目前为流失客户，由张晗负责，计划下周安排拜访。", ["张晗"]),
        ("• 周晨杰  售前工程师\n• 手机：15816310066", ["周晨杰"]),
        ("收件人：杭州明远科技有限公司 张三", ["张三"]),
        ("联系人：方案\n负责人：全体成员\n审核：通过", []),
    ],
)
def test_labelled_persons(text: str, expected: list[str]) -> None:
    """Names stand after labels, in lists, before a job title; titles and 先生/女士 are not names."""
    assert persons(text) == expected


def test_persons_in_a_table_column() -> None:
    """Cells under 姓名/负责人 hold names; a compound surname makes a 4-character name."""
    text = "姓名\t职务\t电话\n王小明\t采购经理\t13800000000\n欧阳娜娜\t财务\t13900000000\n"
    assert persons(text) == ["王小明", "欧阳娜娜"]
    text = "| 序号 | 事项 | 负责人 | 完成时间 |\n|---|---|---|---|\n| 1 | 提交报价 | 罗蓉 | 2024-08-17 |\n"
    assert persons(text) == ["罗蓉"]


def test_email_display_names_and_signature() -> None:
    """From/To/Cc display names and the name under a closing are persons; bare addresses are not."""
    text = (
        'From: "Wang Fang" <wang.fang@example.com>\n'
        "To: sales@example.com; Li Lei <lilei@example.com>\n"
        "Cc: 陈晓明 <cxm@example.cn>\n\nDear Li,\n\nBest regards,\n徐云诗\n销售总监\n"
    )
    assert persons(text) == ["Wang Fang", "Li Lei", "陈晓明", "徐云诗"]
    assert {f.role for f in find_persons(text)} == {"From", "To", "Cc", "署名"}


def test_a_customer_or_product_name_label_is_not_a_person_label() -> None:
    """``Name:`` after Customer/Client/Company/Product names a thing; after Contact or alone a person."""
    assert persons("Customer Name: Pacific Rim\nClient Name: Acme Trading\nProduct Name: Data Box") == []
    assert persons("Contact Name: Mark Clark\nName: Kevin Johnson") == ["Mark Clark", "Kevin Johnson"]
    assert persons("Contact: Kevin Johnson\nAttn: Mary Lee") == ["Kevin Johnson", "Mary Lee"]


@pytest.mark.parametrize(
    ("name", "personal"),
    [
        ("John Smith", True),
        ("Mary Lee", True),
        ("Mr. Robert Brown", True),
        ("Wang Fang", True),
        ("Zhang Xiaoming", True),
        ("Ouyang Na", True),
        ("Pacific Rim", False),
        ("Acme Trading", False),
        ("Silver Lake", False),
        ("Golden Gate", False),
    ],
)
def test_an_individual_name_in_latin_script(name: str, personal: bool) -> None:
    """A given name first, a form of address, or romanised Chinese throughout reads as an individual."""
    assert is_personal_en(name) is personal


def test_name_shapes() -> None:
    """Surname + given name in 2–4 characters; dictionary words, places and titles are not names."""
    assert is_cn_name("张伟") and is_cn_name("欧阳娜娜") and is_cn_name("周晨杰")
    assert not is_cn_name("方案") and not is_cn_name("张家港") and not is_cn_name("王经理")
    assert is_en_name("Kevin Johnson") and not is_en_name("Procurement Department")


# --- held-out findings ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("值班负责人：信息部 汪海波（手机 13911112222）", ["汪海波"]),
        ("列席：人事部 俞婷", ["俞婷"]),
        ("提货人：葛建军 13522223333", ["葛建军"]),
        ("工程方现场代表：祁志明    电话：0931-8888 1234", ["祁志明"]),
        ("买方代表（签字）Authorized Signature：施晓东", ["施晓东"]),
        ("参会：裴勇、蒋丽、卢志刚（线上）", ["裴勇", "蒋丽", "卢志刚"]),
        ("Our team: 邹凯, 齐悦", ["邹凯", "齐悦"]),
        ("客户方出席：设备科科长 龚建平。", ["龚建平"]),
        ("Met with: Linda Ma (CFO), Mr. Zhao Peng (IT Lead)", ["Linda Ma", "Zhao Peng"]),
    ],
)
def test_more_person_contexts(text: str, expected: list[str]) -> None:
    """A department before the name, any X人 label, a bracketed phone, a title before the name,
    an English gloss before the colon, and lists of names."""
    assert persons(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Ship To: Dock 5, Yantian Free Trade Port, Shenzhen",
        "Bill To: Pacific Harbor Storage, 9 Bay Road",
        "城市：北京、上海、杭州",
        "请联系王总（手机 13800001111）",
    ],
)
def test_not_persons(text: str) -> None:
    """Ship To/Bill To are not e-mail headers; place lists and 王总 are no names."""
    assert persons(text) == []
