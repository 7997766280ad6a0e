"""The embedded index's grams column built as arrays equals the per-token stream, character for character."""

from __future__ import annotations

import json
import random

import pytest

from index import _gramstream
from index._analysis import grams_and_joined, normalize_text
from index._gramstream import grams_stream
from tests.conftest import DEV


def _per_token(text: str) -> str:
    grams, joined = grams_and_joined(text)
    return " ".join(grams + joined)


@pytest.fixture
def arrays_always(monkeypatch):
    """Every text through the arrays, short ones included."""
    monkeypatch.setattr(_gramstream, "ARRAYS_FROM", 0)


def _dev_texts() -> list[str]:
    rows = [json.loads(line) for line in (DEV / "truth.jsonl").read_text(encoding="utf-8").splitlines()]
    return [text for row in rows for text in (row.get("text") or "", row.get("title") or "") if text]


def test_dev_corpus_texts_give_the_same_stream(arrays_always):
    """GIVEN every text and title of the dev corpus THEN the arrays give the per-token stream exactly."""
    texts = _dev_texts()
    assert texts
    for text in texts:
        assert grams_stream(text) == _per_token(text), text[:80]
        assert grams_stream(text, normalize_text(text)) == _per_token(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "，。！",
        "合",
        "合同金额",
        "签订合同。陪同金主。总金额",
        "合 同\n金\t额 abc",
        "型号PowerEdgeR750报价",
        "ThinkPad PowerEdge iPhone15Pro CRMSaaS Wi-Fi6",
        "HT-2024-0315 合同编号ＨＴ２０２４ Pacific Rim",
        "臺灣報價單 ｶﾀｶﾅ 한국어 𠀀𠀁 ﬁle x²½Ⅻ é\u0301",
        "〇々・ー 😀\ue000 snake_case ABCdef GHi",
        "A" * 3 + "b" * 3 + "9" * 3 + "Cd" * 5,
    ],
)
def test_edge_texts_give_the_same_stream(arrays_always, text):
    """GIVEN CJK runs across whitespace, camel case, letter/digit cuts, full-width, traditional, astral,
    ligature, combining and private-use characters THEN the arrays give the per-token stream exactly."""
    assert grams_stream(text) == _per_token(text)


def test_random_mixed_texts_give_the_same_stream(arrays_always):
    """GIVEN 3,000 random texts over a mixed alphabet THEN the arrays give the per-token stream exactly."""
    alphabet = (
        "合同金额报价单臺灣公司ａＢＣabcdXYZ0123４５ \n\t,.-_:/ｶﾀカナ한국어𠀀é\u0301ﬁ²½Ⅻ\u3000・ー〇々"
        "iPhonePowerEdgeR750CRMSaaS😀\ue000ǅßİ"
    )
    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        assert grams_stream(text) == _per_token(text), repr(text)


def test_short_texts_take_the_per_token_way_with_the_same_result():
    """GIVEN the threshold as shipped THEN short and long texts alike give the per-token stream."""
    text = "ThinkPad 报价单 HT-2024-0315 " * 40
    assert len(text) >= _gramstream.ARRAYS_FROM
    for sample in (text[:20], text):
        assert grams_stream(sample) == _per_token(sample)
