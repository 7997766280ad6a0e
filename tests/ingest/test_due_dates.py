"""Due dates found in documents: the labelled set, and what each found date carries."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

import records
from ingest import DUE_DATE_KINDS, DueDateFound, extract_due_dates


def _load(name: str) -> list[dict]:
    text = (Path(__file__).parent / "data" / name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


#: The labelled set the extractor was developed against, and 40 texts written apart from it.
CASES = _load("due_dates.jsonl")
HELDOUT = _load("due_dates_heldout.jsonl")


def _pairs(found: list[DueDateFound]) -> set[tuple[str, str]]:
    return {(f.kind, f.due_on.isoformat()) for f in found}


def test_the_labelled_set_is_big_and_varied():
    """At least 150 sentences, with negatives and every kind."""
    assert len(CASES) >= 150
    assert sum(1 for c in CASES if not c["expect"]) >= 40
    assert {e["kind"] for c in CASES for e in c["expect"]} == set(DUE_DATE_KINDS)


@pytest.mark.parametrize("case", CASES, ids=[f"{i:03d}" for i in range(len(CASES))])
def test_labelled_case(case):
    """Each labelled text gives exactly its expected (kind, date) pairs."""
    found = extract_due_dates([case["text"]], doc_date=case["doc_date"], doc_type=case["doc_type"])
    assert _pairs(found) == {(e["kind"], e["date"]) for e in case["expect"]}


def test_the_held_out_texts_reach_the_targets():
    """Precision and recall of the (kind, date) pairs over the held-out texts are at least 0.95 each."""
    tp = fp = fn = 0
    for case in HELDOUT:
        found = extract_due_dates([case["text"]], doc_date=case["doc_date"], doc_type=case["doc_type"])
        got, want = _pairs(found), {(e["kind"], e["date"]) for e in case["expect"]}
        tp, fp, fn = tp + len(got & want), fp + len(got - want), fn + len(want - got)
    assert len(HELDOUT) >= 40 and tp / (tp + fp) >= 0.95 and tp / (tp + fn) >= 0.95


def test_the_kinds_are_the_records_kinds():
    """ingest and records keep the same kinds (neither imports the other)."""
    assert tuple(records.DUE_DATE_KINDS) == DUE_DATE_KINDS


def test_a_found_date_carries_its_sentence_page_and_offsets():
    pages = [
        "第一页\n合同编号：HT-2024-001",
        "第二条 合同期限\n本合同有效期自２０２４年３月１日至２０２６年２月２８日。第三条 其他。",
    ]
    (found,) = extract_due_dates(pages, doc_type="contract")
    assert found == DueDateFound(
        kind="contract_end",
        due_on=dt.date(2026, 2, 28),
        sentence="本合同有效期自２０２４年３月１日至２０２６年２月２８日。",
        basis="explicit",
        page=2,
        start=9,
        end=37,
    )
    assert pages[1][found.start : found.end] == found.sentence


def test_a_range_across_a_line_break_joins_the_sentence():
    text = "合同有效期自2024年9月14日起至\n2025年9月13日止。"
    (found,) = extract_due_dates([text], doc_type="contract")
    assert found.due_on == dt.date(2025, 9, 13)
    assert found.sentence == "合同有效期自2024年9月14日起至2025年9月13日止。"
    assert (found.start, found.end) == (0, len(text))


def test_a_counted_term_ends_the_day_before_its_anniversary():
    """end = start + period − 1 day; basis "from"; the signing date comes from the text."""
    (found,) = extract_due_dates(["签订日期：2024年3月1日\n合同期限为两年，自签订之日起计算。"])
    assert (found.kind, found.due_on, found.basis) == ("contract_end", dt.date(2026, 2, 28), "from")
    assert found.sentence == "合同期限为两年，自签订之日起计算。"


def test_a_renewal_notice_counts_back_from_the_contract_end_on_another_page():
    pages = ["本合同于2025年12月31日到期。", "合同期满前60日，双方应就续签事宜进行协商。"]
    found = extract_due_dates(pages, doc_type="contract")
    assert [(f.kind, f.due_on, f.page) for f in found] == [
        ("contract_end", dt.date(2025, 12, 31), 1),
        ("renewal", dt.date(2025, 11, 1), 2),
    ]


def test_the_same_kind_and_date_comes_once():
    text = "本合同于2025年6月30日到期。\n合同到期日：2025年6月30日\n合同期限自2024年7月1日至2025年6月30日。"
    found = extract_due_dates([text], doc_type="contract")
    assert [(f.kind, f.due_on) for f in found] == [("contract_end", dt.date(2025, 6, 30))]
    assert found[0].sentence == "本合同于2025年6月30日到期。"


@pytest.mark.parametrize(
    "text",
    [
        "合同到期日：2025年2月30日",
        "有效期自2025年3月1日至2024年2月28日。",
        "报价有效期30天。",  # no reference date at all
        "付款期限：收到发票后 天内",
        "",
        "有效期" * 400,
        "至" * 1000 + "2024年1月1日",
        "\ue000\ue001有效期至\ue005",  # private-use characters from a PDF font
    ],
)
def test_bad_input_gives_nothing_and_never_fails(text):
    assert extract_due_dates([text], doc_type="quote") == []


def test_a_bad_document_date_is_ignored():
    assert extract_due_dates(["报价有效期30天。"], doc_date="2024-02-30", doc_type="quote") == []


def test_sentences_are_at_most_500_characters():
    text = "甲方" * 600 + "，合同到期日：2025年1月31日"
    (found,) = extract_due_dates([text], doc_type="contract")
    assert len(found.sentence) <= 500
    assert found.due_on == dt.date(2025, 1, 31)
    assert found.sentence.endswith("合同到期日：2025年1月31日")
    assert text[found.start : found.end] == found.sentence


def test_private_use_characters_in_the_text_are_not_dates():
    (found,) = extract_due_dates(
        ["\ue003合同有效期自2024年3月1日至2026年2月28日\ue000。"], doc_type="contract"
    )
    assert found.due_on == dt.date(2026, 2, 28)
