"""The in-memory filter/facet columns follow every write, including other processes' writes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from index import IndexDocument, Principal, SearchRequest, _sqlite, open_backend

ADMIN = Principal(username="admin", role="admin")


def _doc(i: int, **kw) -> IndexDocument:
    base = {
        "title": f"合同{i}",
        "text": f"上海明远科技有限公司 合同 第{i}号",
        "doc_type": "contract",
        "date": f"2024-0{1 + i % 9}-01",
        "created_at": f"2024-01-{1 + i:02d}T00:00:00",
    }
    base.update(kw)
    return IndexDocument(id=i, **base)


def test_a_second_backend_sees_writes_made_through_the_first(engine):
    """GIVEN two backends on one database (as the CLI and the web server are) THEN each sees the other's writes."""
    web, cli = open_backend(engine), open_backend(engine)
    web.index([_doc(1)])
    assert web.search(SearchRequest("明远"), ADMIN).total == 1  # columns loaded
    cli.index([_doc(2, doc_type="quote"), _doc(3)])
    result = web.search(SearchRequest("明远"), ADMIN)
    assert result.total == 3
    assert dict(result.facets["doc_type"]) == {"contract": 2, "quote": 1}
    cli.index([_doc(2, doc_type="invoice")])  # replaced elsewhere: facets follow
    assert dict(web.search(SearchRequest("明远"), ADMIN).facets["doc_type"]) == {"contract": 2, "invoice": 1}
    cli.delete([1])
    assert {h.id for h in web.search(SearchRequest("明远"), ADMIN).hits} == {2, 3}
    cli.clear()
    assert web.search(SearchRequest("明远"), ADMIN).total == 0
    assert web.search(SearchRequest(""), ADMIN).total == 0


def test_a_backend_far_behind_the_pruned_log_reloads(engine, monkeypatch):
    """When the change log was pruned past what a process has seen, it reloads everything instead of missing changes."""
    monkeypatch.setattr(_sqlite, "LOG_KEEP", 2)
    web, cli = open_backend(engine), open_backend(engine)
    web.index([_doc(1)])
    assert web.search(SearchRequest(""), ADMIN).total == 1
    for i in range(2, 12):
        cli.index([_doc(i)])
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM search_log").scalar() <= 3
    result = web.search(SearchRequest("合同"), ADMIN)
    assert result.total == 11


def test_date_sort_and_recency_pages_are_stable_across_pages(backend):
    """Pages of a date-sorted result neither repeat nor skip documents."""
    backend.index([_doc(i) for i in range(1, 26)])
    seen = []
    for offset in range(0, 25, 7):
        page = backend.search(SearchRequest("合同", sort="date_desc", offset=offset, limit=7), ADMIN)
        seen.extend(h.id for h in page.hits)
    assert sorted(seen) == list(range(1, 26))
    dates = {i: _doc(i).date for i in range(1, 26)}
    assert [dates[i] for i in seen] == sorted((dates[i] for i in seen), reverse=True)


def test_filters_only_query_counts_every_readable_document(engine):
    """An empty query with a type filter lists that type; viewers only count public documents."""
    backend = open_backend(engine)
    backend.index(
        [_doc(1, confidentiality="public"), _doc(2, doc_type="quote"), _doc(3, confidentiality="finance")]
    )
    assert backend.search(SearchRequest("", doc_types=("contract",)), ADMIN).total == 2
    viewer = Principal(username="v", role="viewer")
    result = backend.search(SearchRequest(""), viewer)
    assert result.total == 1 and dict(result.facets["doc_type"]) == {"contract": 1}


def test_an_engine_in_another_file_is_independent(tmp_path):
    """Columns belong to one database: two databases never mix their documents."""
    a = open_backend(sa.create_engine(f"sqlite:///{tmp_path / 'a.db'}"))
    b = open_backend(sa.create_engine(f"sqlite:///{tmp_path / 'b.db'}"))
    a.index([_doc(1)])
    assert b.search(SearchRequest("明远"), ADMIN).total == 0


def _reference_order(ids, created, date, key):
    """The sort orders as written before the 64-bit-word keys: Python's sort over the same rules."""
    rows = list(zip(ids.tolist(), created, date, strict=True))
    if key == "recent":
        rows.sort(key=lambda r: (r[1], r[0]), reverse=True)
    elif key == "date_desc":
        rows.sort(key=lambda r: (r[2] != "", r[2], r[1], r[0]), reverse=True)
    else:
        rows.sort(key=lambda r: (r[2] == "", r[2], r[1], r[0]))
    at = {doc_id: i for i, doc_id in enumerate(ids.tolist())}
    return [at[r[0]] for r in rows]


@pytest.mark.parametrize("odd_dates", [False, True])
def test_sort_orders_compare_strings_exactly_whatever_their_form(odd_dates):
    """GIVEN intake times with equal, missing, longer (microseconds, zones) and non-ASCII values,
    and dates missing or equal (ISO, or some not: the word-by-word path) THEN each sort order is the
    one string comparison gives."""
    import random

    import numpy as np

    from index._columns import Columns, DocColumns

    rng = random.Random(3)
    forms = [
        "",
        "2024-02-01T10:00:00",
        "2024-02-01T10:00:00.123456+08:00",
        "2024-02-01T10:00:00Z",
        "2019-12-31",
    ]
    rows = []
    for i in range(1, 3001):
        created = (
            rng.choice(forms)
            if rng.random() < 0.3
            else f"20{rng.randint(19, 25)}-{rng.randint(1, 12):02d}-01T0{rng.randint(0, 9)}"
        )
        if i % 97 == 0 and len(created) < 20:
            created += "时"  # not ASCII: still ordered as the strings are (the column keeps 32 bytes)
        date = (
            "" if rng.random() < 0.2 else f"20{rng.randint(19, 25)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
        )
        if odd_dates and i % 13 == 0:  # 11 to 17 bytes: past the ISO dates' 10
            date = rng.choice(
                [f"20{rng.randint(19, 25)}年{rng.randint(1, 9)}月", "2024年10月31日", "2024-05-1２"]
            )
        rows.append(
            (
                rng.randrange(1, 10**9) * (1 if i % 5 else -1),
                "contract",
                "internal",
                date,
                created,
                *[""] * 11,
                "active",
            )
        )
    rows = list({r[0]: r for r in rows}.values())
    columns = Columns(DocColumns()._codes, rows=rows)
    created = [r[4] for r in sorted(rows)]
    dates = [r[3] for r in sorted(rows)]
    for key in ("recent", "date_desc", "date_asc"):
        order = np.argsort(columns.rank(key))
        assert order.tolist() == _reference_order(columns.ids, created, dates, key), key
    empty = Columns(DocColumns()._codes, rows=[])
    assert empty.rank("recent").tolist() == []


class _Rows:
    """A connection stand-in answering ``Columns.updated``'s row query from a dict (the SQL is not the point here)."""

    def __init__(self, table):
        self.table = table

    def exec_driver_sql(self, sql, args=()):
        found = [self.table[i] for i in args if i in self.table]

        class _Result:
            def all(self_inner):
                return found

        return _Result()


def test_an_updated_snapshot_equals_a_fresh_load_of_the_same_rows():
    """GIVEN a snapshot WHEN documents are added (before, between and after the others' ids), changed
    and deleted, one write at a time and in a batch THEN the updated snapshot holds exactly what loading
    every row afresh gives, in id order, and the old snapshot is unchanged."""
    import random

    import numpy as np

    from index._columns import Columns, DocColumns

    rng = random.Random(11)

    def row(doc_id):
        date = rng.choice(["", "2024-05-12", "2021-01-03"])
        sets = ["客户甲\x1f客户乙", "", "重要", "", "", "", "", "", "", "pdf", rng.choice(["", "scan"])]
        return (
            doc_id,
            rng.choice(["contract", "quote"]),
            rng.choice(["public", "finance"]),
            date,
            date,
            *sets,
            rng.choice(["active", "archived"]),
        )

    table = {i: row(i) for i in rng.sample(range(-50, 5000), 800)}
    codes = DocColumns()._codes
    snap = Columns(codes, rows=sorted(table.values()))
    before = {k: v.copy() for k, v in snap._columns().items()}
    first = snap
    for step in range(30):
        changed = rng.sample(range(-60, 5100), rng.choice([1, 1, 3, 40]))
        for doc_id in changed:
            if doc_id in table and rng.random() < 0.3:
                del table[doc_id]
            else:
                table[doc_id] = row(doc_id)
        snap = snap.updated(_Rows(table), changed)
        fresh = Columns(codes, rows=sorted(table.values()))
        for name, values in fresh._columns().items():
            assert np.array_equal(snap._columns()[name], values), (step, name)
    for name, values in before.items():
        assert np.array_equal(first._columns()[name], values), name
