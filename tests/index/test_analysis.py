"""Analysis and query-syntax edge cases (no database)."""

from __future__ import annotations

import pytest

from index import QuerySyntaxError
from index._analysis import analyse_query_term, grams, normalize, words
from index._query import compile_match, parse_query


def test_normalize_keeps_offsets_to_the_original():
    """Every normalised character maps back to its source character."""
    text = "Ａ公司（ＢＣ）"
    norm, offsets = normalize(text)
    assert norm == "a公司(bc)"
    assert len(offsets) == len(norm)
    assert [text[i] for i in offsets] == list(text)


def test_grams_position_equals_char_offset_and_trailing_unigram():
    """A CJK run emits a bigram per position and its last char alone; runs never fuse."""
    assert grams("合同金额") == ["合同", "同金", "金额", "额"]
    assert grams("签订合同。陪同") == ["签订", "订合", "合同", "同", "陪同", "同"]
    assert grams("合\n同") == ["合同", "同"]  # line breaks inside Chinese are ignored


def test_grams_latin_and_digits():
    """Latin/digit tokens are split on anything non-alphanumeric and kept in order."""
    assert grams("ht-2024-0315 thinkpad报价") == ["ht", "2024", "0315", "thinkpad", "报价", "价"]


def test_words_are_jieba_multichar_chinese_plus_phones():
    """The words stream holds jieba's Chinese words and joined phone numbers."""
    ws = words("我们的报价单 电话 189-6928-1627")
    assert "报价单" in ws and "报价" in ws
    assert "18969281627" in ws
    assert "的" not in ws


def test_phone_variants_match_the_pattern_over_the_whole_text():
    """Scanning only the digit stretches finds exactly what the phone pattern finds over the whole text."""
    import random

    from index._analysis import _NON_DIGIT, _PHONE_GROUPS, phone_variants

    def whole(norm: str) -> list[str]:
        out = []
        for m in _PHONE_GROUPS.finditer(norm):
            digits = _NON_DIGIT.sub("", m.group())
            digits = digits[2:] if digits.startswith("86") and len(digits) == 13 else digits
            if 10 <= len(digits) <= 12:
                out.append(digits)
        return out

    rng = random.Random(18)
    alphabet = "0123456789+-. \n\t合86()x١"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 60))) for _ in range(5000)]
    texts += ["+86 189-6928-1627", "电话：021-6149-8137。", ".5 +86 189 6928 1627", "12345678901234567890"]
    for text in texts:
        assert phone_variants(text) == whole(text), text
    assert phone_variants("电话 189-6928-1627，传真 +86-21-6149-8137") == ["18969281627", "862161498137"]


def test_query_term_last_run_bigrams_only():
    """The query's last CJK run emits bigrams only (the document's run may go on)."""
    t = analyse_query_term("合同金额")
    assert t is not None and t.grams == ("合同", "同金", "金额") and not t.prefix


def test_query_term_inner_run_gets_trailing_unigram():
    """A run followed by something else in the term ends where a document run ends."""
    t = analyse_query_term("锦程物流（杭州）有限公司")
    assert t is not None
    assert t.grams == ("锦程", "程物", "物流", "流", "杭州", "州", "有限", "限公", "公司")
    t = analyse_query_term("有效期30天")
    assert t is not None and t.grams == ("有效", "效期", "期", "30", "天") and t.prefix


def test_query_term_single_char_is_prefix():
    """A one-character last run becomes an FTS5 prefix query."""
    t = analyse_query_term("厂")
    assert t is not None and t.grams == ("厂",) and t.prefix
    match, _ = compile_match(parse_query("厂"))
    assert match is not None and '"厂" *' in match


def test_query_term_punctuation_only_is_dropped():
    """A term with no letters, digits or CJK contributes nothing."""
    assert analyse_query_term("...") is None
    assert parse_query("... 合同").groups[0][0].text == "合同"


def test_parse_fields_phrases_exclusions_or():
    """The syntax pieces parse into the AST."""
    p = parse_query(
        '报价 "服务器 机柜" -草稿 明远 OR 云帆 customer:"明远 科技" 类型：contract tag:重要 10:30'
    )
    assert [[t.text for t in g] for g in p.groups] == [["报价"], ["服务器 机柜"], ["明远", "云帆"], ["10:30"]]
    assert p.groups[1][0].phrase
    assert [t.text for t in p.excludes] == ["草稿"]
    assert p.customers == ["明远 科技"] and p.doc_types == ["contract"] and p.tags == ["重要"]


def test_compiled_match_quotes_every_token():
    """User text reaches FTS5 only inside double quotes (no operator injection)."""
    match, neg = compile_match(parse_query("a NEAR( x* -y ^b {title}:c"))
    assert match is not None and neg is not None
    assert "NEAR(" not in match.replace('"near"', "")
    assert '"y"' in neg


def test_missing_field_value_is_a_syntax_error():
    """customer: without a value is a 400 with a bilingual message."""
    with pytest.raises(QuerySyntaxError) as err:
        parse_query("customer: 合同")
    assert err.value.status == 400
    assert "customer" in str(err.value)


def test_overlong_query_is_refused_as_too_long_with_the_limit():
    """Queries over MAX_QUERY_CHARS are refused as too long (saying the limit), not as a syntax error."""
    from index import MAX_QUERY_CHARS, QueryTooLong

    with pytest.raises(QueryTooLong) as err:
        parse_query("合同 " * 600)
    assert not isinstance(err.value, QuerySyntaxError) and err.value.status == 400
    assert str(MAX_QUERY_CHARS) in err.value.message and "too long" in err.value.message
    at_limit = "合同" + " " * (MAX_QUERY_CHARS - 4) + "报价"
    assert len(parse_query(f"  {at_limit}  ").groups) == 2  # at the limit (whitespace around it not counted)


def test_rjieba_segments_exactly_as_jieba_with_the_same_user_words():
    """The words stream comes from rjieba; it must equal jieba's search-mode cut (user words included)."""
    import json

    import jieba

    from index import add_user_words
    from index._analysis import _CJK_GAP, is_cjk, normalize_text, phone_variants, words
    from tests.conftest import DEV

    texts = [
        json.loads(line).get("text") or ""
        for line in (DEV / "truth.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    texts = [t for t in texts if t][:60]
    customers = json.loads((DEV / "customers.json").read_text(encoding="utf-8"))["customers"]
    names = ["宸宇云帆智算", *(c["full_name"] for c in customers), *(c["short_name"] for c in customers)]
    for _ in range(60):  # a process re-reads the registry on every change: names come again and again,
        add_user_words(names)  # and must not move one segmenter away from the other (they did after ~47)
    for text in [*texts, "宸宇云帆智算平台的合同"]:
        norm = normalize_text(text)
        expected = [
            t
            for t in jieba.cut_for_search(_CJK_GAP.sub("", norm))
            if len(t) > 1 and is_cjk(t[0]) and t.isalnum()
        ]
        assert words(norm) == expected + phone_variants(norm)
    assert "宸宇云帆智算" in words("宸宇云帆智算平台的合同")  # a user word stays whole
