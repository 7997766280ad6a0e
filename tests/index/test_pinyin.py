"""Pinyin and initials of titles and customer names (issue 18, item 5), on each backend.

``guanghua``, ``guanghuawuliu``, ``huawuliu`` and ``ghwl`` find the documents of 光华物流 and
those titled with it; a pinyin-only hit still has a snippet, with the Chinese it reads as marked.
Short or capitalised Latin words, quoted words and words with digits never match by pinyin, so
exact search is not weakened.  Tokens are a pure function of the texts (the embedded index
deletes a document by recomputing them).
"""

from __future__ import annotations

import pytest

from index import IndexDocument, Principal, SearchRequest
from index._pinyin import (
    PINYIN_MARK,
    meta_pinyin,
    pinyin_match,
    pinyin_surfaces,
    query_form,
    run_tokens,
)

FULL = "上海光华物流有限公司"
SHORT = "光华物流"


@pytest.fixture
def docs(add):  # type: ignore[no-untyped-def]
    """1: customer 光华物流 (full name and short name); 2: only its title says 光华物流; 3: another customer;
    4: Latin text with hr/it/crm; 5: a title 重庆银行 (heteronyms); 6: 新东方 (a three-character name)."""
    add(1, "双方约定运输服务条款。", customers=(FULL,), customer_aliases=(FULL, SHORT), title="年度框架合同")
    add(2, "附件见下。", title="光华物流 报价单")
    add(3, "报价如下。", customers=("红日科技有限公司",), title="红日科技报价单")
    add(4, "The hr team and it staff use the crm daily.", title="HR policy")
    add(5, "存款证明。", title="重庆银行存款证明")
    add(6, "培训合同。", customers=("新东方",), title="培训合同")


def test_full_pinyin_and_initials_find_the_customer_and_the_title(docs, find, search):  # type: ignore[no-untyped-def]
    for query in ("guanghua", "guanghuawuliu", "huawuliu", "wuliu", "ghwl"):
        assert sorted(find(query)) == [1, 2], query
    assert find("shanghaiguanghuawuliuyouxiangongsi") == [1]  # the whole name
    assert find("shghwlyxgs") == [1]
    assert find("hongri") == [3]
    assert find("hrkj") == [3]
    assert find("chongqingyinhang") == [5]  # heteronyms read as in their words: chong qing, yin hang
    assert find("cqyh") == [5]
    assert find("zhongqing") == []
    assert find("xdf") == [6]  # a whole three-character name by its initials
    assert sorted(find("baojiadan")) == [2, 3]


def test_pinyin_is_an_alternative_inside_the_usual_query_syntax(docs, find):  # type: ignore[no-untyped-def]
    assert find("ghwl 运输") == [1]  # ANDed with a Chinese word
    assert sorted(find("ghwl OR hongri")) == [1, 2, 3]
    assert sorted(find("baojiadan -ghwl")) == [3]  # an exclusion excludes by pinyin too


def test_a_pinyin_only_hit_gets_a_snippet_with_the_chinese_marked(docs, search):  # type: ignore[no-untyped-def]
    result = search("ghwl")
    hits = {h.id: h for h in result.hits}
    assert "<mark>光华物流</mark>" in hits[1].snippet  # the customer's name in the metadata
    assert "<mark>光华物流</mark>" in hits[2].title_html
    assert all(h.snippet for h in result.hits)
    hit = search("guanghua").hits
    assert all("<mark>光华</mark>" in h.snippet for h in hit)


def test_a_body_that_names_it_gives_the_snippet(add, search):  # type: ignore[no-untyped-def]
    add(1, "本合同由光华物流与我方签订，有效期一年。", customers=(SHORT,))
    (hit,) = search("guanghuawuliu").hits
    assert hit.snippet.startswith("本合同由<mark>光华物流</mark>与我方签订")


def test_short_capitalised_quoted_or_digit_words_never_match_by_pinyin(docs, find):  # type: ignore[no-untyped-def]
    # 红日 reads h-r: "hr" still finds only the text that says hr (two letters never try pinyin).
    assert find("hr") == [4]
    assert find("it") == [4]
    assert find("gh") == []  # 光华's initials: too short
    assert find("crm") == [4]
    assert find("HONGRI") == []  # typed with capitals: an acronym, not pinyin
    assert find("Hongri") == []
    assert find('"hongri"') == []  # quoted: exactly that text
    assert find("hongri2") == []
    assert find("ghw") == []  # three initials inside a longer name are not kept (crm, erp, pdf …)
    assert find("ghwlx") == []  # initials are whole tokens: no prefix matching in search


def test_only_words_that_could_be_pinyin_try_it():  # type: ignore[no-untyped-def]
    # Initials are letters a syllable starts with (never i, u, v); full pinyin is whole syllables.
    for word in ("ghwl", "guanghua", "huawuliu", "lvdi", "xdf", "zhongguo"):
        assert query_form(word) == word + PINYIN_MARK, word
    for word in ("invoice", "thinkpad", "server", "guanghuax1", "hr"):
        assert query_form(word) is None, word


def test_permissions_hold_for_pinyin_hits(add, find):  # type: ignore[no-untyped-def]
    add(1, "甲。", customers=(SHORT,), confidentiality="confidential", access_customer_ids=(7,))
    add(2, "乙。", customers=(SHORT,), confidentiality="public")
    viewer = Principal(username="v", role="viewer")
    sales = Principal(username="s", role="sales")
    owner = Principal(username="o", role="sales", owned_customer_ids=frozenset({7}))
    assert find("ghwl", viewer) == [2]
    assert find("ghwl", sales) == [2]
    assert sorted(find("ghwl", owner)) == [1, 2]


def test_delete_and_replace_keep_the_index_exact(backend, add, find):  # type: ignore[no-untyped-def]
    add(1, "正文。", customers=(SHORT,))
    add(1, "正文。", customers=("红日科技",))  # replaced: the old pinyin is gone
    assert find("ghwl") == []
    assert find("hongri") == [1]
    backend.delete([1])
    assert find("hongri") == []


def test_tokens():  # type: ignore[no-untyped-def]
    tokens = {t for t, _, _ in run_tokens(SHORT)}
    assert tokens == {"guanghua", "guanghuawu", "guanghuawuliu", "huawu", "huawuliu", "wuliu", "ghwl"}
    assert all(t.endswith(PINYIN_MARK) for t in meta_pinyin("光华物流", "a.pdf | 红日科技"))
    assert meta_pinyin("HR policy", "a.pdf") == []
    # A pure function of the texts (the embedded index recomputes them to delete).
    assert meta_pinyin("光华物流 报价单", FULL) == meta_pinyin("光华物流 报价单", FULL)
    assert (
        query_form("hr") is None
        and query_form("Guanghua") is None
        and query_form("ghwl") == "ghwl" + PINYIN_MARK
    )
    assert pinyin_surfaces("光华物流报价单", f"x.pdf | {FULL}", ["ghwl", "hr"]) == ["光华物流"]
    assert pinyin_match(FULL, "shanghai") == 0
    assert pinyin_match(FULL, "guanghua") == 1
    assert pinyin_match(SHORT, "ghw") == 0  # the autocomplete takes a prefix of the initials
    assert pinyin_match(SHORT, "gh") is None
    assert pinyin_match(SHORT, "ghx") is None


def test_bad_input_stays_harmless(docs, backend):  # type: ignore[no-untyped-def]
    admin = Principal(username="admin", role="admin")
    for query in (
        "a" * 400,
        " ".join(["ghwl"] * 60),
        "guanghua😀",
        "\ue000ghwl",
        'ghwl "unpaired',
        "ｇｈｗｌ",
    ):
        result = backend.search(SearchRequest(query), admin)
        assert all(h.snippet for h in result.hits)
    # Full-width letters are NFKC letters typed in lower case: pinyin too.
    assert {h.id for h in backend.search(SearchRequest("ｇｈｗｌ"), admin).hits} == {1, 2}


def test_a_document_without_chinese_or_text_still_indexes(add, find):  # type: ignore[no-untyped-def]
    add(1, "", title="", customers=(SHORT,))
    add(2, "plain text", title="Report")
    assert find("ghwl") == [1]
    assert find("report") == [2]
    assert IndexDocument(id=3, title="x", text="").title == "x"
