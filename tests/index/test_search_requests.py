"""What a search request may ask, on every backend: phone numbers typed with spaces, date ranges, length.

People type phone numbers the way they read them (``021 6149 8137``, ``+86 138 1234 5678``); each
form finds the documents holding that number however the document writes it — as ``电话:`` does —
with the number highlighted.  A reversed or impossible date range, a query of punctuation only and
an over-long query are refused with a reason instead of answering something else.
"""

from __future__ import annotations

import pytest

import ingest
from index import (
    MAX_QUERY_CHARS,
    BadDate,
    NothingToSearch,
    QuerySyntaxError,
    QueryTooLong,
    SearchRequest,
    check_dates,
    date_bound,
)

#: id -> text: how documents write two numbers (and a distractor holding the digit groups apart).
TEXTS = {
    1: "联系电话：021-61498137。",
    2: "上海总机 (021) 6149-8137 转 8",
    3: "Tel: +86 21 6149 8137",
    4: "手机 138-1234-5678，请联系王芳",
    5: "联系人王芳 13812345678",
    6: "区号 021，分机 6149，房间 8137。",
    7: "电话 021-61498138",
    8: "传真 0216149813",
}
LANDLINE = {1, 2, 3}
MOBILE = {4, 5}


@pytest.fixture
def phones(add):  # type: ignore[no-untyped-def]
    """The documents of TEXTS, indexed as intake indexes them (entities and their texts included)."""
    for doc_id, text in TEXTS.items():
        found = ingest.extract_entities([text])
        entities = tuple(dict.fromkeys((e.kind, e.value) for e in found))
        add(
            doc_id,
            text,
            entities=entities,
            extra=tuple(dict.fromkeys([*(e.text for e in found), *(v for _, v in entities)])),
        )


@pytest.mark.parametrize(
    "query",
    [
        "021 6149 8137",
        "0216149 8137",
        "(021) 6149-8137",
        "+86 21 6149 8137",
        "021-6149-8137",
        "02161498137",
        "021 61498137",
        "电话:021 6149 8137",
    ],
)
def test_a_landline_typed_with_spaces_finds_every_way_it_is_written(phones, search, query):
    """Each spelling of 021-61498137 finds the three documents holding it (not the digit groups apart, not
    021-61498138), each hit with the number marked."""
    result = search(query, limit=100)
    assert {h.id for h in result.hits} == LANDLINE
    if not query.startswith("电话"):
        assert all("<mark>" in h.snippet for h in result.hits), [h.snippet for h in result.hits]


@pytest.mark.parametrize(
    "query",
    [
        "138 1234 5678",
        "+86 138 1234 5678",
        "138-1234-5678",
        "1381234 5678",
        "(+86) 13812345678",
        "13812345678",
    ],
)
def test_a_mobile_typed_with_spaces_finds_every_way_it_is_written(phones, search, query):
    """Each spelling of 13812345678 finds both documents holding it, with the number marked."""
    result = search(query, limit=100)
    assert {h.id for h in result.hits} == MOBILE
    assert all("<mark>" in h.snippet for h in result.hits), [h.snippet for h in result.hits]


def test_numbers_that_are_no_phone_number_stay_separate_words(phones, find):
    """Digit groups that do not read as one phone number are ANDed words as before."""
    assert 6 in find("021 8137") and find("区号 021 8137") == [6]
    assert set(find("报价 2024")) == set()
    assert set(find("021 6149 8137 王芳")) == set()  # the number, and 王芳: no document has both


def test_a_phone_number_works_with_other_words_and_or(phones, find):
    """The joined number is one term among others: ANDed, ORed and excluded like any word."""
    assert set(find("上海 021 6149 8137")) == {2}
    assert set(find("138 1234 5678 OR 021 6149 8137")) == MOBILE | LANDLINE
    assert set(find("-138 1234 5678 王芳")) == set()  # only the "138" is excluded (a minus binds to one word)


def test_a_reversed_date_range_says_so(backend):
    """from after to: refused saying the dates are reversed (both backends), not an empty result."""
    from index import Principal

    with pytest.raises(BadDate) as err:
        backend.search(
            SearchRequest("", date_from="2024-05-01", date_to="2024-03-01"), Principal("admin", "admin")
        )
    assert (
        "开始日期晚于结束日期" in err.value.message
        and "start date is after the end date" in err.value.message
    )
    assert err.value.status == 400


def test_impossible_and_partial_dates():
    """Real dates (and year / year-month bounds) are accepted in normal form; impossible ones are refused."""
    assert date_bound(" 2024-03-15 ") == "2024-03-15" and date_bound("20240315") == "2024-03-15"
    assert date_bound("2024-03") == "2024-03" and date_bound("2024") == "2024" and date_bound("") is None
    for bad in ("2024-13-45", "2023-02-29", "2024-00", "15/03/2024", "昨天", "2024-3-5"):
        with pytest.raises(BadDate):
            date_bound(bad)
    check_dates("2024-03-15", "2024-03")  # a month bound covers all of March
    check_dates("2024-03-01", "2024-03-01")
    with pytest.raises(BadDate):
        check_dates("2024-04-01", "2024-03")
    with pytest.raises(BadDate):
        check_dates("2024-13-45", None)


@pytest.mark.parametrize("query", ["!!!", "，。？", "……", "* ? ~", "-", '"', "（）【】", "$%^&"])
def test_a_query_of_punctuation_only_says_so(phones, find, query):
    """Punctuation alone has nothing to search for: refused with that reason, never every document."""
    with pytest.raises(NothingToSearch) as err:
        find(query)
    assert "标点" in err.value.message and "punctuation" in err.value.message and err.value.status == 400


def test_a_long_query_is_too_long_not_a_syntax_error(phones, find):
    """Over MAX_QUERY_CHARS characters: "too long" with the limit; exactly at the limit it runs."""
    with pytest.raises(QueryTooLong) as err:
        find("报价" * 1000)
    assert not isinstance(err.value, QuerySyntaxError)
    assert f"{MAX_QUERY_CHARS}" in err.value.message and "2000" in err.value.message
    at_limit = "王芳" + " " * (MAX_QUERY_CHARS - 4) + "手机"
    assert len(at_limit) == MAX_QUERY_CHARS and find(at_limit) == [4]
