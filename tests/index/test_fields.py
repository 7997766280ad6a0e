"""Field queries: ``phone:``, ``合同号:``, ``客户类型:`` … parse to normalised filters and select exactly."""

from __future__ import annotations

import pytest

from index import QuerySyntaxError, _sqlite
from index._query import parse_query

MINGYUAN = "上海明远科技有限公司"


@pytest.fixture
def docs(add):
    """Four documents with entities, as intake hands them over."""
    add(
        1,
        "销售合同 甲方上海明远科技有限公司 联系电话 138-1234-5678 合同编号 HT-2024-0315",
        title="销售合同",
        doc_type="contract",
        customers=(MINGYUAN,),
        customer_ids=(1,),
        date="2024-03-15",
        entities=(
            ("phone", "13812345678"),
            ("phone", "021-62345678"),
            ("email", "zhang.wei@mingyuan.com.cn"),
            ("uscc", "91310115MA1K3YJ95X"),
            ("contract_no", "HT-2024-0315"),
            ("amount", "120000.00"),
            ("date", "2024-03-15"),
            ("date", "2024-04-30"),
            ("company", MINGYUAN),
            ("person", "张伟"),
        ),
    )
    add(
        2,
        "报价单 明远 电话 13812345678 报价单号 BJ20240301-02",
        title="报价单",
        doc_type="quote",
        customers=(MINGYUAN,),
        customer_ids=(1,),
        date="2024-03-01",
        entities=(("phone", "13812345678"), ("quote_no", "BJ20240301-02"), ("amount", "10500.00")),
    )
    add(
        3,
        "增值税电子普通发票 发票代码 033002304111 发票号码 00244890 订单号 DD20231006059",
        title="发票",
        doc_type="invoice",
        date="2023-10-08",
        entities=(
            ("invoice_code", "033002304111"),
            ("invoice_no", "00244890"),
            ("order_no", "DD20231006059"),
            ("amount", "10500.00"),
            ("date", "2023-10-08"),
            ("phone", "4008208820"),
        ),
    )
    add(4, "会议纪要 没有实体", title="会议纪要", doc_type="meeting", date="2024-05-20")


# -- parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "pair"),
    [
        ("phone:138-1234-5678", ("phone", "13812345678")),
        ("电话：13812345678", ("phone", "13812345678")),
        ('手机:"+86 138 1234 5678"', ("phone", "13812345678")),  # quoted: a space would end the value
        ("tel:(021)62345678", ("phone", "021-62345678")),
        ("email:Zhang.Wei@MingYuan.com.cn", ("email", "zhang.wei@mingyuan.com.cn")),
        ("邮箱:ＺＨＡＮＧ@ｍｉｎｇｙｕａｎ.com", ("email", "zhang@mingyuan.com")),
        ("uscc:91310115ma1k3yj95x", ("uscc", "91310115MA1K3YJ95X")),
        ("信用代码:91310115MA1K3YJ95X", ("uscc", "91310115MA1K3YJ95X")),
        ("contract:ht-2024-0315", ("contract_no", "HT-2024-0315")),
        ("合同号:HT－2024－0315", ("contract_no", "HT-2024-0315")),
        ("合同编号:HT–2024–0315", ("contract_no", "HT-2024-0315")),  # en dashes
        ("quote:bj20240301-02", ("quote_no", "BJ20240301-02")),
        ("报价单号:BJ20240301-02", ("quote_no", "BJ20240301-02")),
        ("order:DD20231006059", ("order_no", "DD20231006059")),
        ("订单号:dd20231006059", ("order_no", "DD20231006059")),
        ("invoice:00244890", ("invoice_no", "00244890")),
        ("发票号:No.00244890", ("invoice_no", "00244890")),
        ("发票号码:００２４４８９０", ("invoice_no", "00244890")),
        ("invoice_code:033002304111", ("invoice_code", "033002304111")),
        ("发票代码:033002304111", ("invoice_code", "033002304111")),
        ("amount:120000", ("amount", "120000.00")),
        ("金额:¥120,000.00", ("amount", "120000.00")),
        ("金额:壹拾贰万元整", ("amount", "120000.00")),
        ("金额:12万", ("amount", "120000.00")),
        ("金额:壹万零伍佰元", ("amount", "10500.00")),
        ("date:2024-03-15", ("date", "2024-03-15")),
        ("日期:2024年3月15日", ("date", "2024-03-15")),
        ("日期:2024/3/15", ("date", "2024-03-15")),
        ("date:2024-03", ("date", "2024-03")),
        ("日期:2024年3月", ("date", "2024-03")),
        ("company:上海明远科技有限公司", ("company", "上海明远科技有限公司")),
        ("联系人:张伟", ("person", "张伟")),
    ],
)
def test_entity_fields_parse_to_normalised_values(query, pair):
    """Each entity field and its Chinese aliases give the normalised (kind, value) pair."""
    assert parse_query(query).entities == [[pair]]


@pytest.mark.parametrize(
    ("query", "attr", "values"),
    [
        ("year:2024", "years", ["2024"]),
        ("年份:2024年", "years", ["2024"]),
        ("date:2024", "years", ["2024"]),
        ("日期:2023年", "years", ["2023"]),
        ("customer_type:潜在", "customer_types", ["潜在客户"]),
        ("客户类型:现有客户", "customer_types", ["现有客户"]),
        ("客户类型:流失", "customer_types", ["流失客户"]),
        ("customer_type:prospect", "customer_types", ["潜在客户"]),
        ("industry:制造业", "industries", ["制造业"]),
        ("行业:金融", "industries", ["金融"]),
        ("region:浙江", "regions", ["浙江"]),
        ("地区:上海市", "regions", ["上海市"]),
        ("省份:江苏省", "regions", ["江苏省"]),
        ("客户:明远", "customers", ["明远"]),
        ("type:合同", "doc_types", ["contract"]),
        ("标签:重要", "tags", ["重要"]),
    ],
)
def test_filter_fields_parse(query, attr, values):
    """Year, customer type (short forms too), industry and region fields become filters."""
    parsed = parse_query(query)
    assert getattr(parsed, attr) == values
    assert parsed.groups == [] and parsed.entities == []


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("phone:abc", "电话号码"),
        ("电话:12345", "phone number"),
        ("email:zhang", "邮箱地址"),
        ("uscc:9131", "统一社会信用代码"),
        ("发票号码:ABC", "发票号码"),
        ("发票代码:12-34", "invoice code"),
        ("金额:很多", "金额"),
        ("date:明天", "日期"),
        ("日期:2024-13", "日期"),
        ("year:24", "年份"),
        ("客户类型:大客户", "客户类型"),
        ("合同号:、、", "合同编号"),
    ],
)
def test_values_that_cannot_be_normalised_are_syntax_errors(query, needle):
    """A field value that is not what the field holds is a 400 with a bilingual message naming it."""
    with pytest.raises(QuerySyntaxError) as err:
        parse_query(query)
    message = str(err.value)
    assert err.value.status == 400
    assert needle in message and " / " in message
    assert query.split(":", 1)[-1].split("：", 1)[-1] in message


def test_entity_or_groups_and_exclusions_parse():
    """OR between two entity fields makes alternatives; -field:value is an exclusion; text terms stay."""
    p = parse_query(
        "报价 phone:13812345678 OR phone:021-62345678 合同号:HT-2024-0315 -type:invoice -电话:4008208820"
    )
    assert [[t.text for t in g] for g in p.groups] == [["报价"]]
    assert p.entities == [
        [("phone", "13812345678"), ("phone", "021-62345678")],
        [("contract_no", "HT-2024-0315")],
    ]
    assert p.excluded_fields == [("type", "invoice"), ("phone", "4008208820")]


def test_or_between_terms_still_works_around_fields():
    """A field between terms does not break term alternatives, and never joins a term's OR group."""
    p = parse_query("明远 OR 云帆 phone:13812345678 OR 报价")
    assert [[t.text for t in g] for g in p.groups] == [["明远", "云帆"], ["报价"]]
    assert p.entities == [[("phone", "13812345678")]]


def test_unknown_field_is_searched_as_text():
    """A colon that is not a known field (a time, a URL) stays a text term."""
    p = parse_query("10:30 https://example.com")
    assert [g[0].text for g in p.groups] == ["10:30", "https://example.com"]


# -- searching ---------------------------------------------------------------------------------


def test_phone_forms_find_the_same_documents(docs, find):
    """phone:138-1234-5678 and phone:13812345678 mean the same: both documents with that number."""
    assert sorted(find("phone:138-1234-5678")) == [1, 2]
    assert sorted(find("phone:13812345678")) == [1, 2]
    assert find("电话：021-62345678") == [1]
    assert find("phone:400-820-8820") == [3]
    assert find("phone:13912345678") == []


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("email:Zhang.Wei@MingYuan.com.cn", [1]),
        ("uscc:91310115ma1k3yj95x", [1]),
        ("合同号:ht-2024-0315", [1]),
        ("报价单号:BJ20240301-02", [2]),
        ("订单号:DD20231006059", [3]),
        ("发票号码:00244890", [3]),
        ("发票代码:033002304111", [3]),
        ("金额:¥120,000.00", [1]),
        ("金额:壹万零伍佰元", [2, 3]),
        ("联系人:张伟", [1]),
        ("公司:上海明远科技有限公司", [1]),
    ],
)
def test_each_entity_field_selects_exactly(docs, find, query, ids):
    """An entity field finds the documents holding that entity, whatever surface form was typed."""
    assert sorted(find(query)) == ids


def test_entity_values_match_exactly_not_by_fragment(docs, find):
    """A part of an entity value is not a match (exact filters), and a value of another kind is not either."""
    assert find("合同号:HT-2024") == []
    assert find("金额:120000.01") == []
    assert find("invoice:033002304111") == []  # that is the invoice *code*


def test_date_field_day_month_and_year(docs, find):
    """date:DAY matches a mentioned date or the document date; date:MONTH any day of it; date:YEAR the year."""
    assert find("日期:2024年4月30日") == [1]  # mentioned, not the document date
    assert find("date:2024-03-01") == [2]  # document date, no date entity
    assert sorted(find("date:2024-03")) == [1, 2]
    assert sorted(find("date:2024")) == [1, 2, 4]
    assert find("year:2023") == [3]
    assert sorted(find("年份:2023 OR 年份:2024")) == [1, 2, 3, 4]  # years are alternatives


@pytest.mark.parametrize("narrow_limit", [0, 300])
def test_entity_filter_combines_with_text_query(docs, find, monkeypatch, narrow_limit):
    """Text terms and entity filters must both hold; several entity filters all must hold.

    The same whether FTS5 walks every match of the text or looks up the few filtered ids.
    """
    monkeypatch.setattr(_sqlite, "NARROW_LIMIT", narrow_limit)
    assert find("报价 phone:13812345678") == [2]
    assert find("合同 phone:13812345678") == [1]
    assert find("发票 phone:13812345678") == []
    assert find("phone:13812345678 金额:120000") == [1]
    assert sorted(find("phone:13812345678 OR phone:4008208820 金额:10500")) == [2, 3]
    assert find("phone:021-62345678 OR 订单号:DD20231006059 type:invoice") == [3]


def test_excluded_fields(docs, find):
    """-field:value removes what the filter would select."""
    assert sorted(find("-phone:13812345678")) == [3, 4]
    assert sorted(find("-type:合同 -year:2023")) == [2, 4]
    assert find("报价 -customer:明远") == []


def test_request_entities_are_anded_and_normalised(docs, find):
    """SearchRequest.entities: each pair must match; values are normalised like field queries."""
    assert sorted(find("", entities=(("phone", "138 1234 5678"),))) == [1, 2]
    assert find("", entities=(("phone", "13812345678"), ("quote_no", "bj20240301-02"))) == [2]
    assert find("", entities=(("phone", "13812345678"), ("invoice_no", "00244890"))) == []
    assert find("", entities=(("date", "2023"),)) == [3]
    assert find("", entities=(("phone", "not a phone"),)) == []  # compared as written, never an error


def test_bad_field_value_is_refused_by_search(docs, backend):
    """The backend raises the syntax error (a 400) instead of silently matching nothing; highlighting copes."""
    from index import Principal, SearchRequest, highlight

    with pytest.raises(QuerySyntaxError):
        backend.search(SearchRequest("phone:abc"), Principal.system())
    assert highlight("报价 <b>", "报价 phone:abc") == "报价 &lt;b&gt;"


def test_entity_strings_in_extra_rank_like_metadata(add, find):
    """Entity strings put into ``extra`` are found by plain queries and rank above a body-only mention."""
    add(1, "附件提到张伟一次。" + "其他内容" * 40, created_at="2024-06-01")
    add(2, "正文无关", extra=("张伟", "13812345678", "138-1234-5678"), created_at="2024-01-01")
    assert find("张伟") == [2, 1]
    assert find("13812345678") == [2]
