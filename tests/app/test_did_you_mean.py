"""Did you mean (issue 18 item 4): corrected queries for a search that finds (almost) nothing, on each backend.

The registry (full names, short names) tolerates one wrong, missing or extra character, Latin case
and spacing; the index vocabulary offers words one edit away (Latin: two).  A suggestion is only
offered — the query's own results never change — and only when it finds more for the user.
"""

from __future__ import annotations

import json

import pytest

from dossier.app import did_you_mean
from index import SearchRefused, SearchRequest
from tests import _typos_home
from tests.conftest import TANTIVY, backend_home


@pytest.fixture(
    scope="module", params=["sqlite", *TANTIVY, pytest.param("opensearch", marks=pytest.mark.opensearch)]
)
def home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    with backend_home(request.param, "typos", tmp_path_factory, _typos_home.build) as built:
        yield built


def _search(home, query: str, username: str = "admin", **fields):  # type: ignore[no-untyped-def]
    principal = _typos_home.principal(home, username)
    return home["dossier"].search(SearchRequest(query, **fields), principal)


def _queries(result) -> list[str]:  # type: ignore[no-untyped-def]
    return [s["query"] for s in result["suggestions"]]


def test_a_short_name_with_a_wrong_character_is_offered_not_substituted(home):
    """光华物留 finds nothing and offers 光华物流 (the registry's short name); its own result stays empty."""
    result = _search(home, "光华物留")
    assert result["total"] == 0 and result["hits"] == []
    first = result["suggestions"][0]
    assert first["query"] == "光华物流"
    assert first["total"] == 2
    assert first["corrections"] == [
        {
            "typed": "光华物留",
            "suggested": "光华物流",
            "kind": "customer",
            "customer_id": home["customers"]["G"],
        }
    ]


@pytest.mark.parametrize(
    ("typed", "wanted"),
    [
        ("Pacfic Rim", "Pacific Rim"),  # a missing letter across two words
        ("pacificrim", "Pacific Rim"),  # Latin case and spacing
        ("Pacifiic Rim", "Pacific Rim"),  # an extra letter
        ("光物流", "光华物流"),  # a missing character
        ("光华物流流", "光华物流"),  # an extra character
    ],
)
def test_customer_names_tolerate_one_edit_case_and_spacing(home, typed, wanted):
    """One wrong, missing or extra character, or another case and spacing, of a short name offers it."""
    result = _search(home, typed)
    assert result["total"] <= did_you_mean.SUGGEST_AT_MOST
    assert wanted in _queries(result)


def test_a_word_of_the_query_is_corrected_in_place(home):
    """The other words and filters stay: 光华物留 报价单 offers 光华物流 报价单."""
    result = _search(home, "光华物留 报价单")
    assert "光华物流 报价单" in _queries(result)


def test_two_mistyped_parts_are_corrected_together(home):
    """光华物留 Pacfic Rim: each correction alone still finds nothing; both together find the quote."""
    result = _search(home, "Pacfic Rim shipmnet")
    assert result["total"] == 0
    assert _queries(result)[0] == "Pacific Rim shipment"


@pytest.mark.parametrize(
    ("typed", "wanted"),
    [
        ("shipmnet", "shipment"),  # two edits in a longer Latin word
        ("Logistcs", "Logistics"),  # in the case it was typed
        ("invoce", "invoice"),  # one edit in a word of up to five letters… and six
        ("审汁报告", "审计报告"),  # a CJK word of the index (jieba's), one wrong character
    ],
)
def test_words_of_the_index_near_a_typed_word(home, typed, wanted):
    """The index vocabulary offers a word one edit away (Latin words of six letters and more: two)."""
    assert wanted in _queries(_search(home, typed))


def test_a_query_that_finds_enough_gets_no_suggestions(home):
    """冷链运输 finds three documents: more than SUGGEST_AT_MOST, so no suggestions (the key is there, empty)."""
    result = _search(home, "冷链运输")
    assert result["total"] == 3 > did_you_mean.SUGGEST_AT_MOST
    assert result["suggestions"] == []


def test_filters_hold_for_the_corrected_query(home):
    """With a filter that leaves nothing, a correction that would only find outside it is not offered."""
    assert _search(home, "光华物留", doc_types=("contract",))["suggestions"] == []


def test_a_suggested_customer_is_never_offered(home):
    """未确认贸昜 is one edit from an unconfirmed ("suggested") customer's alias: not a registry name to offer."""
    result = _search(home, "未确认贸昜")
    assert all(c["kind"] != "customer" for s in result["suggestions"] for c in s["corrections"])


def test_exact_words_are_not_rewritten(home):
    """A query that finds what it says (光华物流) gets no suggestion even though it finds only two documents."""
    result = _search(home, "光华物流")
    assert result["total"] == 2
    assert result["suggestions"] == []


@pytest.mark.parametrize(
    "query",
    [
        "光华物留 " * 120,  # many words (the search may refuse it for length)
        " OR ".join(f"词{i}" for i in range(2000)),  # thousands of OR terms
        "的 了 吗 呢",  # only stop-like characters
        "，。、？！",  # only punctuation
        "😀😀😀 光华物留 🚀",  # emoji beside a typo
        "\ue000\ue001\ue002\ue003",  # private-use characters
        '"光华物留',  # an unpaired quote
        'Pacfic "Rim',
        "光华物留" + "华" * 900,  # one 1,000-character word
        "Ｐａｃｆｉｃ Ｒｉｍ",  # full-width Latin
    ],
)
def test_bad_input_is_answered_or_refused_never_a_crash(home, query):
    """Long, odd and hostile queries: the search answers (suggestions a list of at most MAX_SUGGESTIONS) or
    refuses with a 400-style error; the suggester itself, called directly, stays within its caps."""
    try:
        result = _search(home, query)
    except SearchRefused as exc:
        assert exc.status == 400
    else:
        assert isinstance(result["suggestions"], list)
        assert len(result["suggestions"]) <= did_you_mean.MAX_SUGGESTIONS
    d = home["dossier"]
    calls = {"search": 0, "similar": 0}
    backend = d.resources.backend
    search, similar = backend.search, backend.similar_words

    def counted_search(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["search"] += 1
        return search(*args, **kwargs)

    def counted_similar(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["similar"] += 1
        return similar(*args, **kwargs)

    backend.search, backend.similar_words = counted_search, counted_similar
    try:
        found = did_you_mean.suggestions(
            d.resources, SearchRequest(query), _typos_home.principal(home, "admin"), 0
        )
    finally:
        del backend.search, backend.similar_words
    assert len(found) <= did_you_mean.MAX_SUGGESTIONS
    assert calls["similar"] <= did_you_mean.MAX_WORDS
    assert calls["search"] <= 2 * did_you_mean.MAX_CHECKS
    json.dumps(found)


def test_full_width_latin_is_read_as_latin(home):
    """Ｐａｃｆｉｃ Ｒｉｍ (full-width, as a Chinese input method types it) offers Pacific Rim."""
    assert "Pacific Rim" in _queries(_search(home, "Ｐａｃｆｉｃ Ｒｉｍ"))


def test_an_or_query_is_corrected_in_place(home):
    """光华物留 OR 不存在的词: the corrected part finds documents on its own, so the corrected OR is offered."""
    assert "光华物流 OR 不存在的词" in _queries(_search(home, "光华物留 OR 不存在的词"))


def test_a_quoted_word_stays_quoted(home):
    """ "光华物留" offers "光华物流" in quotes; field filters and exclusions are never rewritten."""
    assert '"光华物流"' in _queries(_search(home, '"光华物留"'))
    assert _search(home, "customer:光华物留")["suggestions"] == []
    assert all("-光华物留" in q for q in _queries(_search(home, "光华物留 -光华物留")))
