"""The embedded index's speed work keeps every answer: the array-speed normalisation maps each
character as the character-wise one does, snippets mark the same spans, and what a snapshot
memoises (match sets, bm25 scores, built hits) never outlives a write."""

from __future__ import annotations

import random

import pytest

from index import IndexDocument, Principal, SearchRequest, open_backend
from index._analysis import (
    _cased_char,
    _norm_char,
    grams_and_joined,
    normalize,
    normalize_cased,
    normalize_text,
    words,
)
from index._charmap import SHORT
from index._memo import Memo
from index._snippet import best_anchor, find_spans, hit_texts

ADMIN = Principal(username="admin", role="admin")
SALES = Principal(username="s", role="sales")

#: Characters that normalise in every way there is: full width, ligatures, dotted İ (two characters
#: in lower case), a soft hyphen (none), half-width katakana, astral and compatibility ideographs.
TRICKY = "ＡＢＣ１２３，（）ﬁİΣΑΣ\u00adｶﾞ한국𠀀𪚥\U0002f800合同 \n金额・PowerEdgeR750 XR750 ＲＴＸ４０９０ <b>&amp;</b>"


def _charwise(text: str) -> str:
    return "".join(_norm_char(c) for c in text)


@pytest.mark.parametrize("size", [SHORT - 1, SHORT, 4 * SHORT, 40 * SHORT])
def test_normalisation_maps_each_character_as_the_character_wise_map(size):
    """GIVEN texts short and long (the long ones mapped as arrays), plain and with characters that
    normalise to nothing or to two THEN every normalisation equals the character-by-character one."""
    rng = random.Random(size)
    alphabet = "合同金额报价单服务器 \n\t・ーアABCdefXYZ0123456789-_.,（）ＡＢｃ１"
    plain = "".join(rng.choice(alphabet) for _ in range(size))
    for text in (plain, (TRICKY * (size // len(TRICKY) + 1))[:size], plain[:-1] + "ﬁ"):
        assert normalize_text(text) == _charwise(text)
        assert normalize_cased(text) == "".join(_cased_char(c) for c in text)
        norm, offsets = normalize(text)
        assert norm == _charwise(text)
        assert len(offsets) == len(norm)
        assert all(_norm_char(text[o]) for o in offsets)


def test_the_body_normalised_once_gives_the_same_streams():
    """GIVEN a text THEN its grams from a normalisation made beforehand equal those made inside."""
    text = (TRICKY + "华为 Mate 60 Pro 报价单 iPhone15ProMax 合\n同金额") * 5
    assert grams_and_joined(text, normalize_text(text)) == grams_and_joined(text)
    assert words(normalize_text(text))  # the words stream still reads the shared normalisation


@pytest.mark.parametrize(
    ("text", "term", "marked"),
    [
        ("合\n同金额为十万元", "合同", ["合\n同"]),  # CJK split by whitespace
        ("型号PowerEdgeR750，另有XR750", "R750", ["R750"]),  # case pieces: not inside XR750
        ("显卡ＲＴＸ４０９０两张", "rtx4090", ["ＲＴＸ４０９０"]),  # NFKC full width
        ("电话（021）6149-8137转", "02161498137", ["021）6149-8137"]),  # phone separators
        ("<script>合同</script>", "合同", ["合同"]),
    ],
)
def test_snippet_spans_of_tricky_texts_short_and_long(text, term, marked):
    """GIVEN a tricky text alone and behind a long prefix (the array path) THEN the same spans are marked."""
    assert [text[s:e] for s, e, _ in find_spans(text, [term])] == marked
    pad = "无关内容。" * (SHORT // 2)
    shifted = [(s - len(pad), e - len(pad), k) for s, e, k in find_spans(pad + text, [term])]
    assert shifted == find_spans(text, [term])


def test_html_in_a_text_is_escaped_around_the_marks():
    """A long text (the array path) with markup shows the markup escaped and the match marked."""
    snippet, _ = hit_texts("标题", "", "<script>alert(1)</script> 合同 & 报价" * 20, ["合同"])
    assert "<mark>合同</mark>" in snippet
    assert "<script>" not in snippet and "&lt;script&gt;" in snippet


def _window_by_scanning(spans, width):
    """The snippet window as first written: every anchor scans its next 200 matches."""
    best = None
    for i, (s, _, _) in enumerate(spans[:500]):
        inside = [sp for sp in spans[i : i + 200] if sp[1] <= s + width]
        key = (-len({k for _, _, k in inside}), -len(inside), s)
        if best is None or key < best:
            best = key
    return best


def test_the_snippet_window_is_the_one_a_full_scan_picks():
    """GIVEN texts with hundreds of matches of several terms, some overlapping THEN the bisected window
    search picks the window the full scan picks (so the snippet is the same)."""
    rng = random.Random(7)
    for n in (1, 5, 50, 600):
        text = "".join(
            rng.choice(["合同", "报价", "金额", "合同金额", "，", "无关的话", "\n"]) for _ in range(n)
        )
        spans = find_spans(text, ["合同", "报价", "金额", "同金"])
        if spans:
            for width in (10, 120):
                assert best_anchor(spans, width) == _window_by_scanning(spans, width)[2]


def _doc(i: int, text: str, **kw) -> IndexDocument:
    kw.setdefault("title", f"文档{i}")
    kw.setdefault("created_at", f"2024-01-{i:02d}T00:00:00")
    return IndexDocument(id=i, text=text, **kw)


def test_a_write_is_seen_by_the_next_search_whatever_was_memoised(engine):
    """GIVEN searches whose matches, scores and hits were memoised WHEN documents are replaced, made
    confidential or deleted (here or through another backend on the database) THEN the next search
    answers from the new contents: totals, facets, snippets and who may read."""
    web, cli = open_backend(engine), open_backend(engine)
    web.index(
        [_doc(i, f"合同 第{i}号 金额", doc_type="contract", confidentiality="internal") for i in range(1, 6)]
    )
    for _ in range(2):  # the second answer comes from the memo
        first = web.search(SearchRequest("合同"), SALES)
        assert first.total == 5
        assert all("<mark>合同</mark>" in h.snippet for h in first.hits)
    cli.index([_doc(1, "报价 金额", doc_type="quote")])  # replaced elsewhere
    result = web.search(SearchRequest("合同"), SALES)
    assert result.total == 4 and 1 not in {h.id for h in result.hits}
    assert web.search(SearchRequest("报价"), SALES).hits[0].snippet.startswith("<mark>报价</mark>")
    web.index([_doc(2, "合同 第2号 金额", doc_type="contract", confidentiality="finance")])
    assert web.search(SearchRequest("合同"), SALES).total == 3  # no longer readable by sales
    assert dict(web.search(SearchRequest("合同"), SALES).facets["doc_type"]) == {"contract": 3}
    assert web.search(SearchRequest("合同"), ADMIN).total == 4
    cli.delete([3])
    assert {h.id for h in web.search(SearchRequest("合同"), ADMIN).hits} == {2, 4, 5}
    web.index([_doc(4, "合同 第4号 新写的金额条款")])
    hit = next(h for h in web.search(SearchRequest("金额"), ADMIN).hits if h.id == 4)
    assert "新写的" in hit.snippet


def test_memoised_pages_equal_fresh_answers(engine):
    """GIVEN one backend that has answered a query mix before (memoised) and a fresh one THEN both
    give the same totals, pages (ids, scores, snippets) and facets, for admin and sales, page after page."""
    docs = [
        _doc(
            i,
            f"{'合同' * (1 + i % 3)} 报价单 第{i}号 金额{i * 100}元 "
            + ("服务器 PowerEdgeR750" if i % 2 else "SaaS 年费"),
            title="合同" if i % 4 == 0 else f"报价{i}",
            confidentiality=("public", "internal", "confidential", "finance")[i % 4],
            doc_type=("contract", "quote")[i % 2],
        )
        for i in range(1, 41)
    ]
    warm = open_backend(engine)
    warm.index(docs)
    requests = [
        SearchRequest(q, limit=7, offset=o, sort=s)
        for q in ("合同", "报价 服务器", '"合同金额"', "合同 -SaaS", "r750", "")
        for o in (0, 7)
        for s in ("relevance", "date_desc")
    ]
    for principal in (ADMIN, SALES):
        for req in requests:
            warm.search(req, principal)
    fresh = open_backend(engine)
    for principal in (ADMIN, SALES):
        for req in requests:
            a, b = warm.search(req, principal), fresh.search(req, principal)
            fresh = open_backend(engine)  # a new backend each time: nothing memoised
            assert a.total == b.total and a.facets == b.facets
            assert [(h.id, h.score, h.snippet, h.title_html) for h in a.hits] == [
                (h.id, h.score, h.snippet, h.title_html) for h in b.hits
            ]


def test_the_memo_keeps_within_its_budget_least_recently_used_first():
    """Past its budget the memo drops what was used longest ago; a value larger than it is not kept."""
    memo = Memo(budget=10)
    memo.put("a", 1, 4)
    memo.put("b", 2, 4)
    assert memo.get("a") == 1  # a is now the most recent
    memo.put("c", 3, 4)  # over budget: b goes
    assert (memo.get("a"), memo.get("b"), memo.get("c")) == (1, None, 3)
    memo.put("huge", 4, 11)  # larger than the whole budget: not kept, nothing evicted
    assert memo.get("huge") is None and len(memo) == 2


@pytest.mark.parametrize(
    "joined, ids",
    [(None, []), ("", []), ("7", [7]), ("3,-1000000000007,12", [3, -1000000000007, 12]), (42, [42])],
)
def test_a_group_concat_of_ids_reads_back_exactly(joined, ids):
    """GIVEN what ``group_concat(rowid)`` returns (nothing, one id, negative activity ids, an int)
    THEN the parsed array holds the same ids in the same order."""
    from index._sqlite_hot import joined_ids

    assert joined_ids(joined).tolist() == ids


def test_a_large_match_set_reads_back_in_rowid_order():
    """GIVEN 300,000 ids as one string THEN numpy's one-pass parse equals Python's split."""
    from index._sqlite_hot import joined_ids

    rng = random.Random(7)
    ids = sorted(rng.sample(range(1, 10**12), 300_000))
    assert joined_ids(",".join(map(str, ids))).tolist() == ids
