"""Traditional and simplified characters find each other, on every backend, with the original marked.

The fold (``foundation.variants``, derived from OpenCC's dictionaries) is per character, in the
normalisation every stream, the query analysis and the snippet matcher share.
"""

from __future__ import annotations

import random

import opencc
import pytest

from foundation.variants import derive_variants, fold_variants, spellings, variants
from index._analysis import grams, is_cjk, normalize, normalize_text, words
from index._snippet import make_snippet
from tests.conftest import load_truth

# -- the table -------------------------------------------------------------------------------------------


def test_the_table_is_what_the_installed_opencc_gives():
    """variants.txt is derived, not hand-made: regenerating it from OpenCC's dictionaries gives it again,
    and OpenCC's own converter writes every folded character as the table does."""
    table = variants()
    assert derive_variants() == table
    converters = [opencc.OpenCC(name) for name in ("t2s", "tw2s", "hk2s")]
    assert all(any(c.convert(src) == dst for c in converters) for src, dst in table.items())
    assert len(table) > 3000


def test_simplified_text_is_never_changed():
    """Only characters simplified Chinese never writes are folded: targets are never folded again, and the
    characters with a simplified meaning of their own (乾 著 於 瞭 藉 覆 徵 沈 像) stay as they are."""
    table = variants()
    assert not set(table.values()) & set(table)  # idempotent
    for ch in "乾著於瞭藉覆徵沈像后台里发干只余么系":
        assert fold_variants(ch) == ch, ch
    for record in load_truth():  # the dev corpus is simplified: folding leaves it as it is
        text = record.get("text") or ""
        assert fold_variants(text) == text, record["file"]


def test_the_fold_keeps_the_offset_map_one_to_one():
    """報價單 normalises to 报价单 character for character, so offsets point at the original characters."""
    text = "ＡＢ報價單，臺灣 後來 ThinkPad"
    norm, offsets = normalize(text)
    assert norm == "ab报价单,台湾 后来 thinkpad"
    assert offsets == list(range(len(text)))
    assert spellings("发") == "发發髮" and spellings("髮") == "发發髮" and spellings("x") == "x"


def test_streams_and_jieba_words_on_folded_text():
    """The grams and jieba's words come from the folded text: the traditional text has the simplified words."""
    assert grams("報價單") == grams("报价单") == ["报价", "价单", "单"]
    assert grams("臺灣ThinkPad") == grams("台湾ThinkPad")
    found = words(normalize_text("我們的報價單和後來的發票"))
    assert {"报价单", "后来", "发票"} <= set(found)


def test_snippet_marks_the_original_characters():
    """A simplified query marks the traditional characters the document has, and the other way round."""
    assert make_snippet("這是我們的報價單，請查收。", ["报价单"]) == "這是我們的<mark>報價單</mark>，請查收。"
    assert make_snippet("这是我们的报价单", ["報價單"]) == "这是我们的<mark>报价单</mark>"
    assert make_snippet("台灣 臺灣 台湾", ["台湾"]) == "<mark>台灣</mark> <mark>臺灣</mark> <mark>台湾</mark>"


# -- both backends ---------------------------------------------------------------------------------------


@pytest.fixture
def variant_docs(add):
    add(1, "這是我們的報價單，後來寄往臺灣。", title="報價單 ThinkPad X1")
    add(2, "这是我们的报价单，后来寄往台湾。", title="报价单 ThinkPad X1")
    add(3, "乾隆年间的干燥剂 ThinkPad", title="其他")
    add(4, "PowerEdge R750 报价 Wi-Fi 6", title="Latin")
    return None


@pytest.mark.parametrize(
    "query", ["報價單", "报价单", "臺灣", "台湾", "后来", "後來", "報价单", '"後來寄往台灣"']
)
def test_traditional_and_simplified_find_each_other(variant_docs, find, query):
    """報價單 ↔ 报价单, 臺灣 ↔ 台湾, 後來 ↔ 后来, mixed spellings and phrases: both documents."""
    assert sorted(find(query)) == [1, 2]


def test_hits_mark_the_characters_each_document_has(variant_docs, search):
    """The query 报价单 marks <mark>報價單</mark> in the traditional document, in snippet and title."""
    hits = {h.id: h for h in search("报价单").hits}
    assert "<mark>報價單</mark>" in hits[1].snippet and "<mark>報價單</mark>" in hits[1].title_html
    assert "<mark>报价单</mark>" in hits[2].snippet and "<mark>报价单</mark>" in hits[2].title_html
    hits = {h.id: h for h in search("臺灣").hits}
    assert "<mark>臺灣</mark>" in hits[1].snippet and "<mark>台湾</mark>" in hits[2].snippet


def test_characters_simplified_chinese_writes_are_not_merged(variant_docs, find):
    """乾 is not folded to 干 (simplified text writes 乾隆): 干隆 finds nothing, 乾 and 干 stay apart."""
    assert find("乾隆") == [3]
    assert find("干隆") == []
    assert find("干燥") == [3]
    assert find("乾燥") == []


def test_latin_and_mixed_text_unaffected(variant_docs, find, search):
    """Latin words, digits and mixed phrases match as before, next to traditional characters too."""
    assert sorted(find("ThinkPad")) == [1, 2, 3]
    assert sorted(find("thinkpad 報價單")) == [1, 2]
    assert find("R750") == [4]
    assert find("poweredge") == [4]
    assert find('"Wi-Fi 6"') == [4]
    assert find("PowerEdge 報價") == [4]
    assert "<mark>ThinkPad</mark>" in {h.id: h for h in search("thinkpad").hits}[1].title_html


def test_customer_filter_matches_either_spelling(add, find):
    """customer:光華物流 filters documents of 光华物流, and customer:光华 those of a traditional-spelled name."""
    add(1, "报价 服务器", customers=("光华物流有限公司",))
    add(2, "報價 伺服器", customers=("臺灣光華電子有限公司",))
    add(3, "报价 服务器", customers=("上海明远科技有限公司",))
    assert find("报价 customer:光華物流") == [1]
    assert sorted(find("报价 customer:光华")) == [1, 2]
    assert find("customer:台湾光华电子") == [2]


def test_every_substring_of_mixed_text_is_found(add, find):
    """Recall stays 100%: every sampled substring of a text that mixes both scripts finds it, as written and
    as the other script writes it."""
    text = "本合同由光華物流有限公司與上海明远科技有限公司簽訂，報價單見附件；後來雙方於臺灣再議，頭髮乾燥。"
    add(1, text)
    add(2, "无关的内容")
    to_simplified = opencc.OpenCC("t2s")
    rng = random.Random(18)
    for _ in range(60):
        n = rng.randint(1, 8)
        i = rng.randint(0, len(text) - n)
        piece = text[i : i + n]
        if not any(ch.isalnum() for ch in piece):
            continue
        assert 1 in find(piece), piece
        simplified = to_simplified.convert(piece)
        if fold_variants(simplified) == fold_variants(piece):  # 乾 → 干 is phrase-dependent: not folded
            assert 1 in find(simplified), simplified


def test_dev_corpus_in_traditional_is_found_by_simplified_substrings(sqlite_backend):
    """The dev corpus converted to traditional (OpenCC s2t, phrase-aware) is found by the simplified Chinese
    substrings of its originals wherever the conversion is per character (乾/於 … are not folded: about 0.4%
    of such substrings)."""
    from index import IndexDocument, Principal, SearchRequest

    to_traditional = opencc.OpenCC("s2t")
    texts = [t.get("text") or "" for t in load_truth() if t.get("expect") == "ok" and t.get("text")][:60]
    sqlite_backend.index(
        [IndexDocument(id=i, title="", text=to_traditional.convert(t)) for i, t in enumerate(texts, 1)]
    )
    rng = random.Random(7)
    checked = found = 0
    for i, text in enumerate(texts, 1):
        for _ in range(8):
            n = rng.randint(2, 6)
            start = rng.randint(0, max(0, len(text) - n))
            piece = text[start : start + n]
            if not all(map(is_cjk, piece)) or fold_variants(to_traditional.convert(piece)) != piece:
                continue
            hits = sqlite_backend.search(SearchRequest(piece, limit=1000), Principal.system()).hits
            checked += 1
            found += i in {h.id for h in hits}
    assert checked > 100
    assert found == checked


def test_mixed_scripts_emoji_and_private_use_characters(variant_docs, find):
    """Traditional characters next to emoji, private-use characters and Latin are answered like the rest:
    the symbols are separators, the words match in either script."""
    assert sorted(find("報價單😀\ue000ThinkPad")) == [1, 2]
    assert sorted(find("😀 後來 \U000f0001")) == [1, 2]
    assert find("臺灣 R750") == []


def test_generic_titles_in_traditional_characters():
    """A title that only names its kind is generic in either script (報價單, 採購合同), a real one is not."""
    from index import is_generic_title

    assert is_generic_title("報價單") and is_generic_title("採購合同.docx") and is_generic_title("會議紀要")
    assert not is_generic_title("光華物流報價")
