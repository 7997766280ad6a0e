"""Document types: content first, the file name as weak evidence, and the reason shown to users."""

from __future__ import annotations

import pytest

import ingest
from ingest import DOC_TYPES, ParsedDocument, guess_doc_type
from ingest._model import Page
from tests.ingest.conftest import DEV, load_truth


def doc(text: str, fmt: str = "txt", title: str = "", pages: list[str] | None = None) -> ParsedDocument:
    texts = pages if pages is not None else [text]
    return ParsedDocument(
        mime="text/plain", format=fmt, pages=tuple(Page(i + 1, t) for i, t in enumerate(texts)), title=title
    )


CONTRACT = """技术服务合同
合同编号：JS-2025-031
签订日期：2025年3月2日
甲方：宁波东方电子有限公司
乙方：杭州云帆信息技术有限公司
第一条 服务内容
乙方为甲方提供机房运维服务。
第二条 违约责任
任何一方违约的，应赔偿对方损失。
甲方（盖章）：　　　　乙方（盖章）：
"""

QUOTE = """杭州云帆信息技术有限公司
首页 | 客户管理 | 商机 | 合同 | 报表
报 价 单
报价单号：BJ20250301-02　　报价日期：2025-03-01
客户名称：宁波东方电子有限公司
序号\t产品名称\t数量\t单价\t金额
1\t防火墙\t2\t30,000.00\t60,000.00
合计\t60,000.00
备注：报价有效期30天；合同签订后30日内交货；付款方式：合同签订后预付30%。
"""

INVOICE = """浙江增值税电子普通发票
发票代码：033002300111\t发票号码：12345678
开票日期：2025年3月1日
购买方\t名称：宁波东方电子有限公司
纳税人识别号：91330200MA2XXXXXX0
价税合计（大写）\t陆万元整\t（小写）¥60,000.00
开票人：孔家晓
"""

MEETING = """东方电子机房改造项目沟通会议纪要
会议时间：2025年3月3日 14:00-15:30
会议地点：客户会议室
参会人员：客户方：李娜（IT经理）；我方：罗蓉
一、议题
讨论机房改造方案及报价。乙方将在合同签订后两周内进场。
二、待办事项
序号\t事项\t负责人\t完成时间
1\t提交报价单\t罗蓉\t2025-03-05
"""

VISIT = """客户走访记录
客户名称\t宁波东方电子有限公司
拜访日期\t2025年3月4日
拜访人员\t罗蓉
拜访目的\t了解备份需求，准备报价
下一步计划\t提交方案
"""

ORDER = """销售订单明细
订单编号\tPO-2025-0012
下单日期\t2025-03-06
序号\t产品名称\t数量\t单价\t金额
1\t防火墙\t2\t30,000.00\t60,000.00
"""

PROFILE = """客户信息表 - 东方电子
客户简称：东方电子
所属行业：制造业
重要程度：A类
跟进记录
2025-03-01\t电话\t沟通报价
"""

EMAIL_TXT = """主题：关于机房改造的报价
发件人：罗蓉 <luorong@example.com>
收件人：李娜 <lina@example.com>

李经理您好，附件为报价单，请查收。
"""


@pytest.mark.parametrize(
    ("parsed", "code"),
    [
        (doc(CONTRACT), "contract"),
        (doc(QUOTE, "html"), "quote"),
        (doc(INVOICE, "pdf"), "invoice"),
        (doc(MEETING, "docx"), "meeting"),
        (doc(VISIT, "docx"), "visit"),
        (doc(ORDER, "xlsx"), "order"),
        (doc(PROFILE, "html"), "profile"),
        (doc(EMAIL_TXT), "email"),
        (
            doc(
                "发件人：许志强 <xuzq@example.com>\n发送时间：2025年3月13日 9:30\n收件人：李明\n主题：锅炉监控系统方案\n\n李总您好："
            ),
            "email",
        ),
        (
            doc(
                "致：宁波港集团有限公司 采购部 王经理\n报价方：杭州数联科技有限公司\n报价日期：2025年1月8日\n我司很荣幸向贵司报价如下："
            ),
            "quote",
        ),
        (
            doc(
                "买卖合同\n出卖人：苏州恒信精密机械有限公司\n买受人：上海申通物流股份有限公司\n三、违约责任\n出卖人（签章）："
            ),
            "contract",
        ),
        (
            doc(
                "",
                "pptx",
                pages=[
                    "东方电子机房改造解决方案\n2025年3月",
                    "项目背景\n• 机房老旧",
                    "总体方案\n• 模块化机房",
                    "实施计划",
                ],
            ),
            "proposal",
        ),
        (
            doc(
                "QUOTATION\nQuotation No.: Q-2025-01\nTo: Acme Ltd.\nValidity: 30 days\nTotal amount: USD 1,000.00"
            ),
            "quote",
        ),
        (
            doc(
                "MINUTES OF MEETING\nDate/Time: 2025-03-01 10:00\nAttendees: John Smith, Li Na\nAction items:\n1. Send quote"
            ),
            "meeting",
        ),
        (
            doc("SERVICE AGREEMENT\nThis Agreement is made between Party A and Party B.\nGoverning law: PRC"),
            "contract",
        ),
        (doc("今天天气很好，我们去公园散步。"), "other"),
    ],
)
def test_types_from_content(parsed: ParsedDocument, code: str) -> None:
    """Each kind of document is recognised from its title and its structure, without a file name."""
    assert guess_doc_type(parsed).code == code


def test_a_quote_that_mentions_contracts_stays_a_quote() -> None:
    """合同签订后30日内交货 in a quote's terms and a 合同 menu item do not make it a contract."""
    assert guess_doc_type(doc(QUOTE, "html"), "报价单_东方电子.html").code == "quote"
    assert guess_doc_type(doc(MEETING, "docx"), "纪要.docx").code == "meeting"


def test_the_file_name_is_only_supporting_evidence() -> None:
    """A contract saved as 报价单_最终版.docx is a contract; a bare text gets its type from the name only when nothing else speaks."""
    assert guess_doc_type(doc(CONTRACT, "docx"), "报价单_最终版.docx").code == "contract"
    assert guess_doc_type(doc(INVOICE, "pdf"), "合同扫描件.pdf").code == "invoice"
    weak = doc("请见附件。", "docx")
    assert guess_doc_type(weak, "会议纪要_0301.docx").code in ("meeting", "other")


def test_a_stale_stored_title_does_not_outweigh_the_content() -> None:
    """A template's leftover metadata title ("报价单模板") loses against a contract's own first line and clauses."""
    assert guess_doc_type(doc(CONTRACT, "docx", title="报价单模板")).code == "contract"


def test_mail_formats_are_email() -> None:
    """.eml and .msg files are e-mails whatever they talk about."""
    parsed = doc(CONTRACT, "eml")
    guess = guess_doc_type(parsed, "合同草稿请审阅.eml")
    assert guess.code == "email"
    assert guess.reason.render("zh") == "文件格式为邮件（eml）"
    assert guess.reason.render("en") == "e-mail file (eml)"


def test_a_manual_that_mentions_order_numbers_is_not_an_order() -> None:
    """Words deep inside a long document are no evidence of its type."""
    body = (
        "第一章 编码规范\n"
        + "这是一段关于编码风格的说明。\n" * 400
        + "反例：订单号大于16位时会出现精度问题。订单状态有待发货、已发货。\n"
    )
    assert guess_doc_type(doc(body, "pdf")).code == "other"


def test_reason_is_in_both_languages() -> None:
    """The reason names the strongest evidence in each language; printed, Chinese first, English after " / "."""
    guess = guess_doc_type(doc(CONTRACT))
    zh, en = guess.reason.render("zh"), guess.reason.render("en")
    assert "标题含“技术服务合同”" in zh and "title" not in zh
    assert "title says" in en
    assert str(guess.reason) == f"{zh} / {en}"
    assert guess_doc_type(doc("你好")).reason.render("en") == "no type evidence found"


def test_entities_add_evidence() -> None:
    """Callers may pass the extracted entities; an invoice code and number point to an invoice."""
    parsed = doc("开票信息\n发票代码：033002300111\n发票号码：12345678\n", "pdf")
    entities = ingest.extract_entities([p.text for p in parsed.pages])
    assert guess_doc_type(parsed, "", entities).code == "invoice"


def test_doc_types_unchanged() -> None:
    """The type codes are a stable contract."""
    assert list(DOC_TYPES) == [
        "contract", "quote", "invoice", "meeting", "visit", "email", "order", "proposal", "profile", "other",
    ]  # fmt: skip


TRUTH = [r for r in load_truth() if r["doc_type"] != "hostile"]


@pytest.mark.slow
@pytest.mark.skipif(not TRUTH, reason="dev corpus not present")
def test_dev_corpus_accuracy() -> None:
    """Over the dev files (parsed for real; scans through their truth text) >= 95% get their type."""
    right = 0
    wrong = []
    for record in TRUTH:
        name = record["file"].rsplit("/", 1)[-1]
        if record.get("scanned"):
            parsed = doc("", record["format"], pages=record.get("pages") or [record["text"]])
        else:
            parsed = ingest.parse_file(DEV / record["file"], filename=name)
        entities = ingest.extract_entities([p.text for p in parsed.pages])
        guess = guess_doc_type(parsed, name, entities)
        if guess.code == record["doc_type"]:
            right += 1
        else:
            wrong.append((record["file"], guess.code, guess.reason))
    assert right / len(TRUTH) >= 0.95, wrong


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("销售周报（第8周）\n汇报人：孔明\n一、本周工作\n1. 拜访客户两家，确认下次拜访时间。\n", "other"),
        ("关于国庆节放假安排的通知\n各部门：\n根据有关规定，现将放假安排通知如下。\n", "other"),
        ("客户回访记录\n回访日期：2023-10-12\n回访人：孔明\n回访方式：电话\n", "visit"),
    ],
)
def test_other_genres_and_follow_up_visits(text: str, code: str) -> None:
    """A weekly report or a notice is none of the types; a 回访记录 is a visit."""
    assert guess_doc_type(doc(text)).code == code
