"""The Chinese search guarantees of BRIEF §4, end to end through the SQLite backend."""

from __future__ import annotations

import random

import pytest

CJK_POOL = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处理"


@pytest.fixture
def company_docs(add):
    add(1, "甲方：上海明远科技有限公司\n乙方：北京云帆信息技术有限公司\n合同金额：¥120,000.00")
    add(2, "签订合同。陪同金主。总金额待定。")
    add(3, "ThinkPad X1 Carbon 报价单，联系电话 13812345678，合同编号 HT-2024-0315。")
    return None


def test_two_char_substring_of_company_name_finds_document(company_docs, find):
    """A 2-character substring of a company name finds its document (Ctrl+F guarantee)."""
    assert find("明远") == [1]
    assert find("远科") == [1]
    assert find("云帆") == [1]


def test_phrase_means_adjacency_across_punctuation(company_docs, find):
    """合同金额 matches only where the four characters are adjacent, not 合同 … 金额 apart."""
    assert find("合同金额") == [1]
    assert 2 not in find("合同金额")
    assert 2 in find("合同 金额")  # two words, ANDed: both present


def test_long_unspaced_run_is_fully_searchable(add, find):
    """Every sampled substring (2..10 chars) of a 300-char unspaced Chinese run finds it."""
    rng = random.Random(7)
    run = "".join(rng.choice(CJK_POOL) for _ in range(300))
    add(1, run)
    add(2, "无关的文字内容")
    for _ in range(150):
        n = rng.randint(2, 10)
        i = rng.randint(0, 300 - n)
        assert find(run[i : i + n]) == [1], run[i : i + n]


def test_cjk_joined_across_line_breaks(add, find):
    """OCR/line wraps split words: 明远\\n科技 is found by 明远科技."""
    add(1, "上海明远\n科技有限公司")
    assert find("明远科技") == [1]
    assert find("远科") == [1]


def test_mixed_queries(company_docs, find):
    """Mixed Chinese/English/number queries just work."""
    assert find("ThinkPad 报价") == [3]
    assert find("ThinkPad报价") == []  # not adjacent in the text: X1 Carbon sits between
    assert find("Carbon 报价单") == [3]
    assert find("13812345678") == [3]
    assert find("HT-2024-0315") == [3]
    assert find("ht-2024-0315") == [3]
    assert find("HT-2024-0316") == []


def test_latin_adjacent_to_chinese(add, find):
    """A Latin token directly followed by Chinese matches as a phrase."""
    add(1, "本次ThinkPad报价单有效期30天")
    assert find("ThinkPad报价") == [1]
    assert find("有效期30天") == [1]
    assert find("30天") == [1]


def test_phone_number_in_any_grouping(add, find):
    """A mobile number is found whether written with dashes/spaces or as 11 digits."""
    add(1, "联系人手机：189-6928-1627")
    add(2, "联系人手机：18006503035")
    assert find("18969281627") == [1]
    assert find("189-6928-1627") == [1]
    assert find("180-0650-3035") == [2]
    assert find('"180 0650 3035"') == [2]


def test_exclusion(company_docs, find):
    """-word excludes documents containing it."""
    assert sorted(find("合同")) == [1, 2, 3]
    assert sorted(find("合同 -明远")) == [2, 3]
    assert find("合同 -明远 -thinkpad") == [2]


def test_quoted_phrase_means_adjacency(add, find):
    """A quoted phrase keeps its words adjacent; unquoted words are ANDed anywhere."""
    add(1, "服务器 报价 已发送")
    add(2, "服务器已经发出，报价另行通知")
    assert sorted(find("服务器 报价")) == [1, 2]
    assert find('"服务器 报价"') == [1]
    assert find("“服务器 报价”") == [1]  # full-width quotes
    assert find('"服务器 报价') == [1]  # unbalanced quote runs to the end


def test_or(company_docs, find):
    """OR between two terms makes them alternatives; the rest stays ANDed."""
    assert sorted(find("明远 OR thinkpad")) == [1, 3]
    assert find("合同 明远 OR 陪同 金主") == [2]
    assert sorted(find("明远 or thinkpad")) == []  # lower-case or is a word


def test_single_cjk_char_is_prefix(add, find):
    """A single-character query finds the character anywhere, including at a run's end."""
    add(1, "电子厂")
    add(2, "厂房租赁")
    add(3, "无关")
    assert sorted(find("厂")) == [1, 2]


def test_nfkc_full_width(add, find):
    """Full-width ＡＢＣ１２３ finds abc123, and the other way round."""
    add(1, "型号 ＡＢＣ１２３ 已到货")
    add(2, "型号 xyz789")
    assert find("abc123") == [1]
    assert find("ＸＹＺ７８９") == [2]
    assert find("ABC123") == [1]


def test_field_filters(add, find):
    """customer:, type:, tag: (and 客户:, 类型:, 标签:) filter the hits."""
    add(1, "报价 服务器", customers=("上海明远科技有限公司",), doc_type="quote", tags=("重要",))
    add(2, "报价 服务器", customers=("北京云帆信息技术有限公司",), doc_type="contract")
    assert find("报价 customer:明远") == [1]
    assert find("报价 客户：云帆") == [2]
    assert find("报价 type:contract") == [2]
    assert find("报价 类型:quote") == [1]
    assert find("报价 tag:重要") == [1]
    assert find("标签:重要") == [1]
    assert find("报价", customers=("云帆",)) == [2]
    assert find("报价", doc_types=("quote",)) == [1]
    assert sorted(find("customer:明远 OR customer:云帆")) == [1, 2]


def test_date_range_and_sort(add, find):
    """Date filters bound the document date; date sorts order by it."""
    add(1, "会议纪要", date="2023-05-01")
    add(2, "会议纪要", date="2024-01-15")
    add(3, "会议纪要", date="2024-12-31")
    assert find("会议", date_from="2024-01-01") == [3, 2] or sorted(find("会议", date_from="2024-01-01")) == [
        2,
        3,
    ]
    assert sorted(find("会议", date_from="2024-01-01", date_to="2024-06-30")) == [2]
    assert find("会议", sort="date_desc") == [3, 2, 1]
    assert find("会议", sort="date_asc") == [1, 2, 3]


def test_match_in_title_or_meta(add, search):
    """Title and metadata (filename, customers, extra entities) are searchable and highlighted."""
    add(1, "正文没有这个词", title="锦程物流年度框架协议", filename="框架协议.pdf")
    add(2, "正文", extra=("张伟",), customers=("锦程物流（杭州）有限公司",))
    r = search("锦程物流")
    assert sorted(h.id for h in r.hits) == [1, 2]
    for hit in r.hits:
        assert "<mark>" in hit.snippet
    by_id = {h.id: h for h in r.hits}
    assert "<mark>锦程物流</mark>" in by_id[1].title_html
    assert search("张伟").total == 1


def test_title_ranks_before_body(add, find):
    """A title match ranks above a body-only match."""
    add(1, "这份文件提到了云帆一次。" + "其他内容" * 30)
    add(2, "正文", title="云帆报价单")
    assert find("云帆")[0] == 2


def test_whole_word_ranks_before_bigram_only(add, find):
    """A document where the query is a jieba word ranks above one where it only straddles words."""
    add(1, "我们讨论了价格和报价单的问题", created_at="2024-01-02")
    add(2, "这个评价格外重要", created_at="2024-01-03")  # 价格 only across 评价|格外
    assert find("价格")[0] == 1


def test_recency_breaks_ties(add, find):
    """Equal relevance: the more recent intake comes first."""
    add(1, "同样的内容", created_at="2024-01-01T00:00:00")
    add(2, "同样的内容", created_at="2024-06-01T00:00:00")
    add(3, "同样的内容", created_at="2023-01-01T00:00:00")
    assert find("内容") == [2, 1, 3]


def test_replace_and_delete_leave_no_stale_matches(backend, add, find):
    """Re-indexing an id replaces all its tokens; deleting removes it entirely."""
    add(1, "旧的内容 明远科技", customers=("旧客户",), tags=("旧标签",))
    add(1, "新的内容 云帆信息")
    assert find("明远") == []
    assert find("旧客户") == []
    assert find("云帆") == [1]
    assert backend.count() == 1
    backend.delete([1, 999])
    assert find("云帆") == []
    assert find("") == []
    assert backend.count() == 0


def test_replace_after_user_dictionary_changed(backend, add, find):
    """Replacing a document stays exact after jieba learned new words since it was indexed."""
    from index import add_user_words

    add(1, "客户是澜沧星辰集团，项目顺利")
    add_user_words(["澜沧星辰"])
    add(1, "完全不同的文字")
    assert find("澜沧") == []
    assert find("澜沧星辰") == []
    assert find("不同") == [1]


def test_clear(backend, add, find):
    """clear() empties the index; documents can be added again afterwards."""
    add(1, "内容一")
    add(2, "内容二")
    backend.clear()
    assert backend.count() == 0
    assert find("内容") == []
    add(3, "内容三")
    assert find("内容") == [3]


def test_pagination(add, search):
    """offset/limit page through the hits; total counts all of them."""
    for i in range(1, 26):
        add(i, "分页测试", created_at=f"2024-01-{i:02d}")
    first = search("分页", limit=10)
    second = search("分页", limit=10, offset=10)
    third = search("分页", limit=10, offset=20)
    assert first.total == second.total == 25
    ids = [h.id for h in first.hits] + [h.id for h in second.hits] + [h.id for h in third.hits]
    assert ids == list(range(25, 0, -1))


def test_empty_query_matches_all_readable(add, find):
    """An empty query (or filters/exclusions only) lists every readable document."""
    add(1, "甲", doc_type="quote")
    add(2, "乙", doc_type="contract")
    assert sorted(find("")) == [1, 2]
    assert find("type:quote") == [1]
    assert find("-乙") == [1]


def test_query_text_cannot_inject_fts5_syntax(add, find):
    """FTS5 operators and odd characters in user text are searched as text or ignored."""
    from index import NothingToSearch

    add(1, "NEAR 测试 AND 内容 col:val")
    for q in [
        "NEAR(a b)",
        "title:x",
        "^合同",
        "a AND",
        "{title}: x",
        "合同)",
        "NOT",
        "OR",
    ]:
        find(q)  # never raises
    for q in ['"', "*", "'", "-"]:  # nothing to search for: said so, never "every document"
        with pytest.raises(NothingToSearch):
            find(q)
    assert find("NEAR") == [1]
    assert find("AND") == [1]
    assert find("col:val") == [1]
