"""The extraction step in the pipeline: entities, dates, types and customer links, kept in the records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from foundation.messages import load_stored
from index import Principal, SearchRequest

ADMIN = Principal(username="admin", role="admin")

#: A registry in the import format (JSON, like the corpus's customers.json).
REGISTRY = {
    "seller": {
        "full_name": "杭州云帆信息技术有限公司",
        "short_name": "云帆信息",
        "uscc": "91330106818134902E",
    },
    "customers": [
        {
            "id": "K01",
            "full_name": "上海明远科技有限公司",
            "short_name": "明远科技",
            "uscc": "91310115MA1K3YQJ4N",
            "industry": "制造业",
            "customer_type": "现有客户",
            "region": {"province": "上海市", "city": "上海市"},
            "importance": "A",
            "sales_owner": "张晗",
            "contacts": [
                {"name": "李春明", "title": "采购经理", "mobile": "13812345678", "email": "li@mingyuan.cn"}
            ],
        },
        {
            "id": "K02",
            "full_name": "成都锦程物流股份有限公司",
            "short_name": "锦程物流",
            "industry": "物流",
            "customer_type": "潜在客户",
            "region": {"province": "四川省", "city": "成都市"},
        },
    ],
}

CONTRACT = """销售合同
合同编号：HT-2024-0315
签订日期：2024年3月15日
甲方（买方）：上海明远科技有限公司
统一社会信用代码：91310115MA1K3YQJ4N
联系人：李春明　电话：138-1234-5678
电子邮箱：Li@MingYuan.cn
乙方（卖方）：杭州云帆信息技术有限公司
合同总金额：人民币壹拾贰万元整（¥120,000.00）
甲方（盖章）                乙方（盖章）
"""

NOTE = """客户拜访记录
拜访时间：2024-05-20
客户名称：苏州恒泰精密机械有限公司
被拜访人：周建国（设备部经理）
拜访目的：了解产线改造需求，明远科技推荐。
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def registry_file(tmp_path: Path) -> Path:
    path = tmp_path / "customers.json"
    path.write_text(json.dumps(REGISTRY, ensure_ascii=False), encoding="utf-8")
    return path


def _ingest(dossier, *paths: Path, **options) -> list[int]:
    summary = dossier.ingest_paths([str(p) for p in paths], wait=True, **options)
    return [d["id"] for d in summary["documents"]]


def test_a_contract_gets_its_entities_date_type_and_customer(dossier, registry_file, tmp_path):
    """GIVEN the registry WHEN a contract naming a customer is ingested THEN show has its normalised entities and customer."""
    dossier.customers.import_registry(registry_file)
    (doc_id,) = _ingest(dossier, _write(tmp_path, "合同.txt", CONTRACT))
    shown = dossier.show(doc_id, ADMIN)
    entities = shown["entities"]
    assert "13812345678" in entities["phone"]
    assert "li@mingyuan.cn" in entities["email"]
    assert "91310115MA1K3YQJ4N" in entities["uscc"]
    assert "120000.00" in entities["amount"]
    assert "2024-03-15" in entities["date"]
    assert "HT-2024-0315" in entities["contract_no"]
    assert shown["date"] == "2024-03-15"
    assert shown["doc_type"] == "contract" and shown["doc_type_reason"]
    assert shown["customers"] == ["上海明远科技有限公司"]
    link = shown["customer_links"][0]
    assert link["name"] == "上海明远科技有限公司" and link["primary"] and link["evidence"]
    # our own company is never a customer, nor a suggestion
    assert all(link["name"] != "杭州云帆信息技术有限公司" for link in shown["customer_links"])
    mention = next(m for m in shown["entity_mentions"] if m["kind"] == "phone")
    page_text = shown["pages"][mention["page"] - 1]["text"]
    assert page_text[mention["start"] : mention["end"]] == mention["text"] == "138-1234-5678"


def test_entity_fields_filters_and_facets_find_the_document(dossier, registry_file, tmp_path):
    """Field queries use normalised values; customer type, industry and region are filters with facet counts."""
    dossier.customers.import_registry(registry_file)
    (doc_id,) = _ingest(dossier, _write(tmp_path, "合同.txt", CONTRACT))
    for query in ("phone:13812345678", "phone:138-1234-5678", "customer:明远", "type:合同", "13812345678"):
        result = dossier.search(SearchRequest(query), ADMIN)
        assert [h["id"] for h in result["hits"]] == [doc_id], query
    result = dossier.search(
        SearchRequest("", customer_types=("现有客户",), industries=("制造业",), regions=("上海市",)), ADMIN
    )
    assert [h["id"] for h in result["hits"]] == [doc_id]
    facets = {name: {f["value"]: f["count"] for f in values} for name, values in result["facets"].items()}
    assert facets["customer_type"] == {"现有客户": 1}
    assert facets["industry"] == {"制造业": 1} and facets["region"] == {"上海市": 1}
    assert dossier.search(SearchRequest("", customer_types=("潜在客户",)), ADMIN)["total"] == 0


def test_an_unknown_company_becomes_one_suggested_customer(dossier, registry_file, tmp_path):
    """Two documents naming an unknown company make one suggestion; it is not a search customer until confirmed."""
    from dossier.app import folder

    dossier.customers.import_registry(registry_file)
    first, second = _ingest(
        dossier,
        _write(tmp_path, "拜访1.txt", NOTE),
        _write(tmp_path, "拜访2.txt", NOTE.replace("2024-05-20", "2024-06-02")),
    )
    with dossier.sessions() as session:
        suggested = folder.list_customers(session, ADMIN, status="suggested")
    assert [s["name"] for s in suggested] == ["苏州恒泰精密机械有限公司"]
    shown = dossier.show(first, ADMIN)
    assert "苏州恒泰精密机械有限公司" not in shown["customers"]
    assert any(link["status"] == "suggested" for link in shown["customer_links"])
    assert dossier.search(SearchRequest("", customers=("苏州恒泰精密机械有限公司",)), ADMIN)["total"] == 0

    result = dossier.customers.confirm(suggested[0]["id"], ADMIN)
    assert result["status"] == "confirmed" and result["reanalysed"] == 2
    hits = dossier.search(SearchRequest("", customers=("苏州恒泰精密机械有限公司",)), ADMIN)["hits"]
    assert sorted(h["id"] for h in hits) == sorted([first, second])


def test_a_rejected_suggestion_is_unlinked_and_never_suggested_again(dossier, tmp_path):
    """Rejecting removes the links; re-extraction does not suggest the name again."""
    from dossier.app import folder

    (doc_id,) = _ingest(dossier, _write(tmp_path, "拜访.txt", NOTE))
    with dossier.sessions() as session:
        (suggested,) = [
            s
            for s in folder.list_customers(session, ADMIN, status="suggested")
            if s["name"] == "苏州恒泰精密机械有限公司"
        ]
    dossier.customers.reject(suggested["id"], ADMIN)
    dossier.customers.reextract([doc_id])
    shown = dossier.show(doc_id, ADMIN)
    assert all(link["name"] != "苏州恒泰精密机械有限公司" for link in shown["customer_links"])
    with dossier.sessions() as session:
        names = [s["name"] for s in folder.list_customers(session, ADMIN, status="suggested")]
    assert "苏州恒泰精密机械有限公司" not in names


def test_merging_a_suggestion_keeps_its_name_as_an_alias(dossier, registry_file, tmp_path):
    """A suggestion merged into a confirmed customer moves its documents there; the name then links by alias."""
    dossier.customers.import_registry(registry_file)
    (doc_id,) = _ingest(dossier, _write(tmp_path, "拜访.txt", NOTE))
    shown = dossier.show(doc_id, ADMIN)
    suggested = next(link for link in shown["customer_links"] if link["status"] == "suggested")
    target = dossier.search(SearchRequest("", customers=("成都锦程物流股份有限公司",)), ADMIN)  # empty before
    assert target["total"] == 0
    with dossier.sessions() as session:
        from records import Customer

        jincheng = session.query(Customer).filter_by(name="成都锦程物流股份有限公司").one().id
    dossier.customers.merge(suggested["id"], jincheng, ADMIN)
    shown = dossier.show(doc_id, ADMIN)
    assert "成都锦程物流股份有限公司" in shown["customers"]
    (other,) = _ingest(dossier, _write(tmp_path, "拜访3.txt", NOTE.replace("2024-05-20", "2024-07-01")))
    assert "成都锦程物流股份有限公司" in dossier.show(other, ADMIN)["customers"]


def test_importing_the_registry_after_ingest_relinks_the_documents(dossier, registry_file, tmp_path):
    """Documents ingested before their customer was registered are re-analysed by the import."""
    (doc_id,) = _ingest(dossier, _write(tmp_path, "合同.txt", CONTRACT))
    assert "上海明远科技有限公司" not in dossier.show(doc_id, ADMIN)["customers"]
    report = dossier.customers.import_registry(registry_file)
    assert report["reanalysed"] >= 1
    assert dossier.show(doc_id, ADMIN)["customers"] == ["上海明远科技有限公司"]
    hits = dossier.search(SearchRequest("", customers=("上海明远科技有限公司",)), ADMIN)["hits"]
    assert [h["id"] for h in hits] == [doc_id]


def test_a_customer_given_at_intake_is_found_by_its_alias_and_stays_primary(dossier, registry_file, tmp_path):
    """`--customer 明远科技` names the registered customer by its short name; extraction keeps that choice first."""
    dossier.customers.import_registry(registry_file)
    (doc_id,) = _ingest(dossier, _write(tmp_path, "纪要.txt", NOTE), customer="明远科技")
    shown = dossier.show(doc_id, ADMIN)
    assert shown["customer"] == "上海明远科技有限公司"
    assert shown["customer_links"][0]["method"] == "given"
    dossier.customers.reextract([doc_id])
    assert dossier.show(doc_id, ADMIN)["customer_links"][0]["method"] == "given"


def test_a_failing_extractor_costs_a_warning_not_the_document(dossier, tmp_path, monkeypatch):
    """An extractor bug (simulated: it cannot be produced on demand) leaves the document indexed with a warning."""
    import ingest

    def broken(pages):
        raise RuntimeError("boom")

    monkeypatch.setattr(ingest, "extract_entities", broken)
    (doc_id,) = _ingest(dossier, _write(tmp_path, "合同.txt", CONTRACT))
    shown = dossier.show(doc_id, ADMIN)
    assert shown["status"] == "indexed"
    assert any("实体抽取失败" in _said(w) and "boom" in _said(w) for w in shown["warnings"])
    assert dossier.search(SearchRequest("明远科技"), ADMIN)["total"] == 1
    monkeypatch.undo()
    dossier.customers.reextract([doc_id])  # fixed: the step runs again and the warning goes
    shown = dossier.show(doc_id, ADMIN)
    assert (
        not any("实体抽取失败" in _said(w) for w in shown["warnings"])
        and "13812345678" in shown["entities"]["phone"]
    )


def test_a_bare_trade_name_beside_its_full_name_is_one_suggestion(dossier, tmp_path):
    """`Customer: Google` and `Google Inc.` in one document suggest only the full name; a branch keeps its head office."""
    from dossier.app import folder

    text = (
        "Quotation\nCustomer: Google\nBill To: Google Inc.\n"
        "另：宝钛集团有限公司与宝钛集团有限公司北京分公司均为潜在客户。\n"
    )
    _ingest(dossier, _write(tmp_path, "quote.txt", text))
    with dossier.sessions() as session:
        names = {s["name"] for s in folder.list_customers(session, ADMIN, status="suggested")}
    assert "Google Inc." in names and "Google" not in names
    assert "宝钛集团有限公司" in names


def _said(text: str | None) -> str:
    """A stored reason as the CLI says it (both languages); plain text as written."""
    return str(load_stored(text) or text or "")


def test_a_type_a_person_chose_is_known_in_both_stored_forms():
    """type_given recognises the reasons as stored now (message ids) and as older versions wrote them."""
    from pipeline.extraction import GIVEN_AT_INTAKE, GIVEN_BY_PERSON, type_given

    assert type_given(GIVEN_AT_INTAKE) and type_given(GIVEN_BY_PERSON)
    assert type_given("导入时指定 / given at intake") and type_given("人工指定 / set by a person")
    assert type_given(GIVEN_AT_INTAKE, by_person=False) and not type_given(GIVEN_BY_PERSON, by_person=False)
    assert not type_given("人工指定 / set by a person", by_person=False)
    assert not type_given(None) and not type_given("标题含“合同” / title says '合同'")


def _entry(dossier, doc_id: int) -> tuple[str, str]:
    """The embedded index's stored (text, words stream) of one document."""
    import sqlite3

    from index._sqlite_entry import unpack

    with sqlite3.connect(dossier.settings.home / "dossier.db") as conn:
        (blob,) = conn.execute("SELECT content FROM search_body WHERE id = ?", (doc_id,)).fetchone()
    return unpack(blob)


def test_the_document_that_names_a_new_company_is_indexed_with_its_name_as_one_word(dossier, tmp_path):
    """GIVEN a company no customer or document named before WHEN the first document naming it is ingested THEN
    its index entry already segments the name as one word: the entry a rebuild from the records makes.

    (A name learnt only after the document was indexed left the live entry different from a restored or
    reindexed one, so the same search ranked differently after a restore.)
    """
    name = "宁波澄湖精工机械有限公司"  # used by no other test: jieba's dictionary is per process
    note = NOTE.replace("苏州恒泰精密机械有限公司", name)
    (doc_id,) = _ingest(dossier, _write(tmp_path, "拜访.txt", note))
    text, stream = _entry(dossier, doc_id)
    assert name in text and name in stream.split()
    dossier.reindex()
    assert _entry(dossier, doc_id) == (text, stream)
