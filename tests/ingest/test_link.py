"""Customer linking (``ingest.Registry``): credit code, name, alias, fuzzy, contact; self; suggestions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ingest import ENTITY_KINDS, Entity, Registry, RegistryEntry, distinctive_part, normalize_name
from tests.ingest.conftest import DEV, load_truth

MINGYUAN_CODE = "91310104MA1FL8Q2XK"
LANHAI_CODE = "91320505MA1N3K7P4G"
SELF_CODE = "91330201MA2H6L9U8Y"

MINGYUAN = RegistryEntry(
    1,
    "上海明远科技有限公司",
    ("明远", "明远科技"),
    MINGYUAN_CODE,
    emails=("li.ming@mingyuan-tech.cn", "mingyuan_cw@126.com"),
    phones=("13900001111", "021-55667788"),
)
LANHAI = RegistryEntry(2, "苏州澜海物流有限责任公司", ("澜海物流",), LANHAI_CODE)
XINGHE = RegistryEntry(3, "北京星河数据股份有限公司", ("星河数据",), "91110108MA01R2T5Q0")
HARBOR = RegistryEntry(
    4, "Harbor Lights Trading Co., Ltd.", ("Harbor Lights",), None, emails=("amy.chen@harborlights.com",)
)
JINCHENG = RegistryEntry(5, "锦程物流（杭州）有限公司", ("锦程物流",), None)
SELF = RegistryEntry(
    99,
    "宁波启航软件有限公司",
    ("启航软件",),
    SELF_CODE,
    is_self=True,
    emails=("sales@qihang-soft.com",),
    phones=("0574-87001234",),
)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return Registry([MINGYUAN, LANHAI, XINGHE, HARBOR, JINCHENG, SELF])


def found(
    text: str,
    kind: str,
    value: str | None = None,
    *,
    valid: bool = True,
    role: str = "",
    surface: str | None = None,
) -> Entity:
    """An entity as the finders would report it: ``surface`` located in ``text``."""
    surface = surface or value or ""
    start = text.index(surface)
    return Entity(kind, value or surface, surface, 1, start, start + len(surface), valid, role)


def test_credit_code_links_even_without_a_name(registry: Registry) -> None:
    """A credit code equal to the registered one links by code, with the code as evidence."""
    text = f"统一社会信用代码：{MINGYUAN_CODE}\n开票信息见附件。"
    result = registry.link([found(text, "uscc", MINGYUAN_CODE)], text)
    assert [(link.customer_id, link.method) for link in result.links] == [(1, "credit_code")]
    assert MINGYUAN_CODE in str(result.links[0].evidence) and "信用代码" in str(result.links[0].evidence)
    assert result.links[0].evidence.render("en") == f"credit code {MINGYUAN_CODE} matches"
    assert result.links[0].score == 1.0


def test_invalid_code_one_character_off_does_not_link_by_code(registry: Registry) -> None:
    """A flagged code that differs by one character is not the customer's code; the name still links."""
    wrong = MINGYUAN_CODE[:-1] + "Q"
    text = f"甲方：上海明远科技有限公司\n统一社会信用代码：{wrong}"
    entities = [
        found(text, "company", "上海明远科技有限公司", role="甲方"),
        found(text, "uscc", wrong, valid=False),
    ]
    result = registry.link(entities, text)
    assert [(link.customer_id, link.method) for link in result.links] == [(1, "name")]
    assert wrong not in str(result.links[0].evidence)
    only_code = registry.link([found(wrong, "uscc", wrong, valid=False)], wrong)
    assert only_code.links == ()


def test_invalid_flagged_code_equal_to_the_registered_one_links(registry: Registry) -> None:
    """The code is compared as printed: flagged but identical still identifies the customer."""
    text = f"纳税人识别号 {LANHAI_CODE}"
    result = registry.link([found(text, "uscc", LANHAI_CODE, valid=False)], text)
    assert [(link.customer_id, link.method) for link in result.links] == [(2, "credit_code")]
    assert "校验位不符" in str(result.links[0].evidence)


def test_exact_name_ignores_spaces_case_and_bracket_width(registry: Registry) -> None:
    """Half-width brackets, spaces and letter case do not stop an exact-name link."""
    text = "购货单位：锦程物流(杭州) 有限公司\n供货单位：HARBOR LIGHTS TRADING CO.,LTD"
    entities = [
        found(text, "company", "锦程物流(杭州) 有限公司"),
        found(text, "company", "HARBOR LIGHTS TRADING CO.,LTD"),
    ]
    result = registry.link(entities, text)
    assert {(link.customer_id, link.method) for link in result.links} == {(5, "name"), (4, "name")}
    assert result.links[0].customer_id == 5  # 购货单位 is the customer's role
    assert normalize_name("锦程物流（杭州）有限公司") == normalize_name("锦程物流(杭州) 有限公司")


def test_full_name_in_text_links_without_an_entity(registry: Registry) -> None:
    """A registered full name in the text links even when no finder labelled it (e.g. OCR text)."""
    result = registry.link([], "关于北京星河数据股份有限公司机房改造项目的说明")
    assert [(link.customer_id, link.method) for link in result.links] == [(3, "name")]


def test_alias_as_a_whole_word_links(registry: Registry) -> None:
    """A short name standing on its own in the text is the customer."""
    text = "本周与明远确认了交货时间，澜海物流的验收安排在下周。"
    result = registry.link([], text)
    assert {(link.customer_id, link.method) for link in result.links} == {(1, "alias"), (2, "alias")}
    assert any("「明远」" in str(link.evidence) for link in result.links)


def test_alias_inside_a_street_or_another_company_does_not_link(registry: Registry) -> None:
    """明远 in 明远路 is a street; 明远 in 北京明远物流有限公司 is another company (a suggestion)."""
    street = registry.link([], "收货地址：上海市闵行区明远路88号3号楼")
    assert street.links == ()
    text = "来函单位：北京明远物流有限公司，事由：运费对账"
    other = registry.link([found(text, "company", "北京明远物流有限公司")], text)
    assert other.links == ()
    assert other.suggestions == ("北京明远物流有限公司",)
    # the finders missed it: the longer name in the text still tells the alias apart
    assert registry.link([], text).links == ()
    # a legal suffix right after the short name is the same company
    same = registry.link([], "明远公司已回传盖章页。")
    assert [link.customer_id for link in same.links] == [1]


def test_latin_alias_needs_word_boundaries(registry: Registry) -> None:
    """Harbor Lights inside a longer word or inside an e-mail address is not a mention."""
    assert registry.link([], "Vessel: HARBOR LIGHTSHIP 7, berth 12").links == ()
    assert registry.link([], "Reply to info@harbor-lights-trading.net please").links == ()
    hit = registry.link([], "Meeting with Harbor Lights about the Q3 renewal.")
    assert [(link.customer_id, link.method) for link in hit.links] == [(4, "alias")]


def test_fuzzy_link_above_threshold(registry: Registry) -> None:
    """A legal-form variant, an OCR error outside the trade name or a left-out region link fuzzily."""
    for name in (
        "上海明远科技有限责任公司",
        "上海明远科枝有限公司",
        "明远科技有限公司",
        "苏州澜海物流有限公司",
    ):
        text = f"甲方：{name}"
        result = registry.link([found(text, "company", name, role="甲方")], text)
        assert [link.method for link in result.links] == ["fuzzy"], name
        assert result.links[0].customer_id in (1, 2)
        assert "字号" in str(result.links[0].evidence) or "公司类型" in str(result.links[0].evidence)
        assert 0 < result.links[0].score < 0.95
        assert result.suggestions == ()


def test_fuzzy_never_links_a_different_trade_name_or_below_threshold(registry: Registry) -> None:
    """明达 is not 明远 however similar the rest; 明远物流 is too far from 明远科技 (ratio 80)."""
    for name in ("上海明达科技有限公司", "上海明远物流有限公司", "北京星海数据股份有限公司"):
        text = f"乙方：{name}"
        result = registry.link([found(text, "company", name)], text)
        assert result.links == (), name
        assert result.suggestions == (name,)


def test_self_company_is_never_a_link_or_a_suggestion(registry: Registry) -> None:
    """Our own company, by name, short name, code, e-mail or phone, links nothing."""
    text = (
        f"乙方（卖方）：宁波启航软件有限公司\n统一社会信用代码：{SELF_CODE}\n"
        "启航软件 销售部 sales@qihang-soft.com 电话 0574-87001234\n宁波启航软件有限责任公司（盖章）"
    )
    entities = [
        found(text, "company", "宁波启航软件有限公司", role="乙方"),
        found(text, "uscc", SELF_CODE),
        found(text, "email", "sales@qihang-soft.com"),
        found(text, "phone", "0574-87001234"),
        found(text, "company", "宁波启航软件有限责任公司"),
    ]
    result = registry.link(entities, text)
    assert result.links == ()
    assert result.suggestions == ()


def test_unknown_company_becomes_a_suggestion(registry: Registry) -> None:
    """A company that matches no entry is suggested once, as written; a known one is linked."""
    text = (
        "甲方：深圳市蓝图智能装备有限公司\n介绍人：上海明远科技有限公司\n再次感谢深圳市蓝图智能装备有限公司"
    )
    entities = [
        found(text, "company", "深圳市蓝图智能装备有限公司", role="甲方"),
        found(text, "company", "上海明远科技有限公司"),
    ]
    entities.append(
        Entity(
            "company",
            "深圳市蓝图智能装备有限公司",
            "深圳市蓝图智能装备有限公司",
            1,
            text.rindex("深圳"),
            len(text),
        )
    )
    result = registry.link(entities, text)
    assert result.suggestions == ("深圳市蓝图智能装备有限公司",)
    assert [link.customer_id for link in result.links] == [1]


def test_two_customers_in_one_document_primary_first(registry: Registry) -> None:
    """Several customers per document; the one in the customer role (甲方) comes first."""
    text = (
        "会议纪要\n参会单位：苏州澜海物流有限责任公司、上海明远科技有限公司\n"
        "甲方：上海明远科技有限公司\n议题：澜海物流仓储系统对接；澜海物流提出接口变更。"
    )
    entities = [
        found(text, "company", "苏州澜海物流有限责任公司"),
        found(text, "company", "上海明远科技有限公司"),
    ]
    result = registry.link(entities, text)
    assert [link.customer_id for link in result.links] == [1, 2]
    assert "客户位置" in str(result.links[0].evidence)
    # without a role, the most mentioned customer is the primary one
    plain = text.replace("甲方：上海明远科技有限公司\n", "")
    assert [link.customer_id for link in registry.link(entities, plain).links] == [2, 1]


def test_contacts_link_by_address_phone_and_company_domain(registry: Registry) -> None:
    """A registered contact's e-mail or phone, or an address at the customer's own domain, links;
    another address at a free-mail provider does not."""
    cases = {
        "From: 李明 <li.ming@mingyuan-tech.cn>": ("email", "li.ming@mingyuan-tech.cn", 1),
        "抄送：wang.fang@mingyuan-tech.cn": ("email", "wang.fang@mingyuan-tech.cn", 1),
        "财务邮箱 mingyuan_cw@126.com": ("email", "mingyuan_cw@126.com", 1),
        "手机：139-0000-1111": ("phone", "13900001111", 1),
    }
    for text, (kind, value, customer) in cases.items():
        surface = text.split("：")[-1].split(" ")[-1].strip("<>")
        result = registry.link([found(text, kind, value, surface=surface)], text)
        assert [(link.customer_id, link.method) for link in result.links] == [(customer, "contact")], text
    text = "联系：somebody@126.com"
    assert registry.link([found(text, "email", "somebody@126.com")], text).links == ()


def test_shared_short_name_is_ambiguous() -> None:
    """A short name registered for two customers links neither (a person decides)."""
    reg = Registry(
        [
            RegistryEntry(1, "上海华信电子有限公司", ("华信",)),
            RegistryEntry(2, "北京华信商贸有限公司", ("华信",)),
        ]
    )
    assert reg.link([], "华信的报价已收到").links == ()
    text = "客户名称：北京华信商贸有限公司"
    assert reg.link([found(text, "company", "北京华信商贸有限公司")], text).customer_ids == (2,)


def test_distinctive_part() -> None:
    """The trade name comes from the short name, else from the name without region and legal form."""
    assert distinctive_part("上海聚星文化传媒有限公司", ["聚星传媒"]) == "聚星"
    assert distinctive_part("上海明远科技有限公司") == "明远"
    assert distinctive_part("浙江省杭州市青禾农业发展有限公司") == "青禾"
    assert distinctive_part("Harbor Lights Trading Co., Ltd.", ["Harbor Lights"]) == "harborlights"
    assert distinctive_part("The Blue Ocean Company Limited") == "blue"


def _corpus_registry() -> Registry:
    data = json.loads((DEV / "customers.json").read_text(encoding="utf-8"))
    entries = [
        RegistryEntry(
            number,
            c["full_name"],
            (c["short_name"],),
            c["uscc"],
            emails=tuple(k["email"] for k in c["contacts"] if k.get("email")),
            phones=tuple(p for k in c["contacts"] for p in (k.get("mobile"), k.get("landline")) if p),
        )
        for number, c in enumerate(data["customers"], start=1)
    ]
    seller = data["seller"]
    entries.append(
        RegistryEntry(
            0,
            seller["full_name"],
            (seller["short_name"],),
            seller["uscc"],
            is_self=True,
            emails=tuple(r["email"] for r in seller.get("sales_reps", [])),
            phones=tuple(r["mobile"] for r in seller.get("sales_reps", [])),
        )
    )
    return Registry(entries)


def _truth_entities(unit: dict) -> list[Entity]:
    """The truth's company, credit code, e-mail and phone entities as :class:`Entity` values."""
    out = []
    for kind in ("company", "email", "phone"):
        for value in unit["entities"].get(kind, []):
            out.append(Entity(kind, value, value, 1, 0, len(value)))
    for code in unit["entities"].get("uscc", []):
        out.append(Entity("uscc", code["value"], code["value"], 1, 0, 18, code["valid"]))
    return out


def test_dev_corpus_links_from_truth_entities() -> None:
    """Over the dev corpus (every file and e-mail attachment), links equal the truth customers >= 95%."""
    records = [r for r in load_truth() if r.get("expect") == "ok" and r.get("doc_type") != "hostile"]
    if not records:
        pytest.skip("dev corpus not present")
    registry = _corpus_registry()
    total = right = 0
    misses = []
    for record in records:
        for unit in [record, *(record.get("attachments") or [])]:
            result = registry.link(_truth_entities(unit), unit["text"])
            got = {link.name for link in result.links}
            total += 1
            if got == set(unit["customers"]):
                right += 1
            else:
                misses.append((record["file"], sorted(got), unit["customers"]))
            assert "杭州云帆信息技术有限公司" not in got  # the seller
    assert total > 100
    assert right / total >= 0.95, misses[:10]


BENCH = Path(__file__).resolve().parents[2] / "bench" / "entities.py"


def test_bench_entities_help_runs() -> None:
    """``bench/entities.py --help`` runs and names its options."""
    out = subprocess.run([sys.executable, str(BENCH), "--help"], capture_output=True, text=True, check=True)
    assert "--limit" in out.stdout and "--ocr" in out.stdout and "--json" in out.stdout


def test_bench_entities_json_on_five_files() -> None:
    """On 5 dev files the benchmark prints JSON with a score for every entity kind and both accuracies."""
    if not (DEV / "truth.jsonl").is_file():
        pytest.skip("dev corpus not present")
    out = subprocess.run(
        [sys.executable, str(BENCH), "--limit", "5", "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    report = json.loads(out.stdout)
    assert report["files"] == 5 and report["units"] >= 5
    assert set(report["kinds"]) == set(ENTITY_KINDS)
    for kind in ENTITY_KINDS:
        assert {"tp", "fp", "fn", "precision", "recall", "f1"} <= set(report["kinds"][kind])
    assert report["kinds"]["phone"]["tp"] > 0  # the first files are contracts with phone numbers
    assert 0.0 <= report["doc_type"]["accuracy"] <= 1.0 and report["doc_type"]["n"] == report["units"]
    assert 0.0 <= report["link"]["accuracy"] <= 1.0
    assert report["timing"]["extract_p50_ms"] > 0
