"""Latin words that OCR glues together (or splits) are found by the words as people type them.

RapidOCR drops the spaces between Latin words and between letters and digits:
``PowerEdge R750`` comes back as ``PowerEdgeR750``, ``CRM SaaS`` as ``CRMSaaS``,
``Wi-Fi 6`` as ``Wi-Fi6``.  The analysis cuts Latin runs at letter/digit and case
boundaries on both sides, and keeps the camel-case words joined for lower-case queries.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from index import IndexDocument, Principal, SearchRequest, SqliteBackend, highlight, open_backend
from index._analysis import ANALYSIS_VERSION, JOINED_EDGE, JOINED_MARK, grams, grams_and_joined, latin_cuts
from tests.conftest import DEV, load_truth

# -- analysis -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("glued", "spaced"),
    [
        ("PowerEdgeR750", "PowerEdge R750"),
        ("CRMSaaS", "CRM SaaS"),
        ("Wi-Fi6", "Wi-Fi 6"),
        ("Microsoft365E3", "Microsoft 365 E3"),
        ("DellPowerEdgeR750服务器", "Dell PowerEdge R750 服务器"),
        ("ＰｏｗｅｒＥｄｇｅＲ７５０", "PowerEdge R750"),  # full width, as some scans come back
    ],
)
def test_glued_and_spaced_latin_give_the_same_grams(glued, spaced):
    """OCR's glued form and the typed spaced form analyse to the same token sequence."""
    assert grams(glued) == grams(spaced)


def test_latin_cuts():
    """Cuts fall at letter/digit boundaries, lower→Upper, and before the last capital of ABc."""
    assert latin_cuts("PowerEdgeR750") == [(5, True), (9, True), (10, False)]
    assert latin_cuts("CRMSaaS") == [(3, True), (6, True)]
    assert latin_cuts("USG6525E") == [(3, False), (7, False)]
    assert latin_cuts("iPhone") == [(1, True)]
    assert latin_cuts("Carbon") == latin_cuts("CARBON") == latin_cuts("carbon") == []


def test_mixed_chinese_and_glued_latin():
    """型号PowerEdgeR750服务器: CJK grams around the Latin pieces, positions in text order."""
    stream, tail = grams_and_joined("型号PowerEdgeR750服务器")
    assert stream == ["型号", "号", "power", "edge", "r", "750", "服务", "务器", "器"]
    # Each joined form sits between the tokens before and after the pieces it joins.
    assert tail[:3] == ["号", "poweredger750" + JOINED_MARK, "服务"]
    assert tail[6:9] == ["号", "poweredge" + JOINED_MARK, "r"]


def test_joined_forms_only_for_case_cuts():
    """Only runs with a case cut yield joined forms; each carries the mark no query token has."""
    assert grams_and_joined("thinkpad usg6525e 2024 合同 THINKPAD ThinkPad")[1] == [
        "thinkpad",
        "thinkpad" + JOINED_MARK,
        JOINED_EDGE,
    ]
    _, tail = grams_and_joined("CRMSaaS")
    assert tail[1::3] == ["crmsaas" + JOINED_MARK, "crmsaa" + JOINED_MARK, "saas" + JOINED_MARK]
    assert tail[6:9] == ["crm", "saas" + JOINED_MARK, JOINED_EDGE]


# -- search ---------------------------------------------------------------------------------


@pytest.fixture
def glued(add):
    add(1, "产品明细：型号PowerEdgeR750服务器 2台")  # OCR'd scan
    add(2, "产品明细：Dell PowerEdge R750 服务器 2台")  # text PDF
    add(3, "对CRMSaaS年费较感兴趣")  # OCR'd scan
    add(4, "CRM SaaS 年费 企业版")
    add(5, "Wi-Fi6无线AP 12台")  # OCR'd scan
    add(6, "型号 XR750 与 R7500 均缺货")
    add(7, "iPhone 15 报价单")
    add(8, "ThinkPad X1 Carbon 报价")
    add(9, "THINKPAD 报价单 POWEREDGE")
    return None


def test_spaced_queries_find_glued_ocr_text(glued, find):
    """PowerEdge R750, "CRM SaaS" and Wi-Fi 6 find the glued OCR text and the normal text."""
    assert sorted(find("PowerEdge R750")) == [1, 2]
    assert sorted(find('"PowerEdge R750"')) == [1, 2]
    assert sorted(find('"CRM SaaS"')) == [3, 4]
    assert sorted(find("SaaS 年费")) == [3, 4]
    assert find("Wi-Fi 6") == [5]
    assert sorted(find("PowerEdge 服务器")) == [1, 2]
    assert sorted(find("R750服务器")) == [1, 2]
    assert find("型号PowerEdge") == [1]


def test_pieces_stay_whole_tokens(glued, find):
    """R750 finds R750 and PowerEdge R750 but not XR750 or R7500."""
    assert sorted(find("R750")) == [1, 2]
    assert sorted(find("r750")) == [1, 2]
    assert find("XR750") == [6]
    assert find("R7500") == [6]
    assert find("R75") == []


def test_lower_and_upper_case_queries_still_match(glued, find):
    """Typed without case: iphone finds iPhone, crmsaas the glued scan, poweredger750 too."""
    assert find("iphone") == [7]
    assert find("IPHONE") == [7]
    assert find("iPhone") == [7]
    assert find("crmsaas") == [3]
    assert sorted(find("saas")) == [3, 4]
    assert find("poweredger750") == [1]
    assert sorted(find("poweredge")) == [1, 2, 9]
    assert sorted(find("PowerEdge")) == [1, 2, 9]  # camel query, upper-case document
    assert sorted(find("thinkpad")) == [8, 9]
    assert sorted(find("ThinkPad 报价")) == [8, 9]


def test_lower_case_phrase_against_camel_case_text(glued, find):
    """A lower-case phrase or mixed term still finds the camel-case text it was typed from."""
    assert find('"thinkpad x1"') == [8]
    assert find("thinkpad报价") == [9]  # not 8: X1 Carbon sits between ThinkPad and 报价
    assert find("x1报价") == []
    assert find("carbon报价") == [8]
    assert find('"iphone 15"') == [7]
    assert find('"iphone 16"') == []


def test_lower_case_phrase_checks_every_neighbour(add, find):
    """Camel-case words typed in lower case still have to be next to their neighbours."""
    add(1, "ThinkPad PowerEdge 套装")
    add(2, "ThinkPad 与 PowerEdge 分开报价")
    add(3, "CRM 系统；另有 SaaS 服务")
    add(4, "CRM SaaS 年费")
    add(5, "对CRMSaaS年费较感兴趣")
    assert find('"thinkpad poweredge"') == [1]
    assert find('"poweredge thinkpad"') == []
    assert sorted(find('"crm saas"')) == [4, 5]
    assert sorted(find('"crm saas 年费"')) == [4, 5]
    assert find('"saas crm"') == []


def test_phrase_adjacency_still_holds(add, find):
    """Cutting runs into pieces does not let a phrase match pieces that are not adjacent."""
    add(1, "PowerEdge T550 与 R750 对比")
    add(2, "PowerEdge R750")
    assert find('"PowerEdge R750"') == [2]
    assert sorted(find("PowerEdge R750")) == [1, 2]


def test_glued_matches_are_highlighted_inside_the_run(add, search):
    """The snippet marks R750 inside PowerEdgeR750, and the whole run for the phrase."""
    add(1, "型号PowerEdgeR750服务器")
    assert "型号PowerEdge<mark>R750</mark>服务器" in search("R750").hits[0].snippet
    assert "型号<mark>PowerEdgeR750</mark>服务器" in search('"PowerEdge R750"').hits[0].snippet
    assert "<mark>iPhone</mark>" in highlight("新款iPhone上市", "iphone")
    assert "<mark>" not in highlight("型号 XR750 与 R7500", "R750")
    assert highlight("CRMSaaS年费", "saas 年费") == "CRM<mark>SaaS年费</mark>"  # adjacent marks merge


# -- stored indexes built by an older analysis -------------------------------------------


def _fts_terms(engine: sa.Engine) -> dict[str, int]:
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab USING fts5vocab(main, search_fts, row)"
        )
        return {str(t): int(n) for t, n in conn.exec_driver_sql("SELECT term, doc FROM temp.vocab")}


def test_index_from_an_older_analysis_is_rebuilt(engine):
    """An index whose tokens came from an older analysis is rebuilt on open; replacing stays exact.

    GIVEN an index written before the analysis cut Latin runs (one token poweredger750, no version)
    WHEN a backend opens it
    THEN the glued text is found by the spaced query, and replacing the document leaves no stale token.
    """
    first = open_backend(engine)
    first.index([IndexDocument(id=1, title="扫描件", text="型号PowerEdgeR750服务器")])
    with engine.begin() as conn:  # what the previous analysis had stored
        conn.exec_driver_sql("INSERT INTO search_fts (search_fts) VALUES ('delete-all')")
        conn.exec_driver_sql(
            "INSERT INTO search_fts (rowid, title, meta, words, grams) VALUES"
            " (1, '扫描 描 件', '', '型号 服务器', '型号 号 poweredger750 服务 务器 器')"
        )
        conn.exec_driver_sql("DELETE FROM search_meta")
    assert "poweredger750" in _fts_terms(engine)

    backend = SqliteBackend(engine)
    backend.ensure_schema()
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT value FROM search_meta WHERE key = 'analysis'").scalar() == (
            ANALYSIS_VERSION
        )
    admin = Principal.system()
    assert [h.id for h in backend.search(SearchRequest("PowerEdge R750"), admin).hits] == [1]
    assert "poweredger750" not in _fts_terms(engine)

    backend.index([IndexDocument(id=1, title="新版", text="完全不同的内容")])
    assert backend.search(SearchRequest("PowerEdge"), admin).total == 0
    terms = _fts_terms(engine)
    assert "power" not in terms and "poweredge" + JOINED_MARK not in terms
    assert backend.search(SearchRequest("不同"), admin).total == 1


def test_current_index_is_not_rebuilt(engine, caplog):
    """Opening an index made by the current analysis does no rebuild."""
    open_backend(engine).index([IndexDocument(id=1, title="t", text="PowerEdgeR750")])
    with caplog.at_level("WARNING", logger="index._sqlite"):
        SqliteBackend(engine).ensure_schema()
    assert not caplog.records


# -- real OCR --------------------------------------------------------------------------------


@pytest.mark.ocr
@pytest.mark.slow
def test_real_rapidocr_scan_is_found_by_spaced_query(backend):
    """A dev scan OCR'd by RapidOCR is found by PowerEdge R750 and PowerEdge 服务器, with a mark."""
    from ingest import OcrUnavailable, ocr_pages, resolve_engine

    try:
        engine = resolve_engine("rapidocr")
    except OcrUnavailable as exc:
        pytest.skip(str(exc))
    name = "scans/发票_海川物流_扫描.png"
    truth = next(t for t in load_truth() if t["file"] == name)
    assert "PowerEdge R750" in truth["text"]
    path = DEV / name
    text = "\n".join(p.text for p in ocr_pages(path.read_bytes(), path.name, engine=engine))
    backend.index([IndexDocument(id=1, title="扫描件", text=text)])
    backend.index([IndexDocument(id=2, title="无关", text="Dell PowerEdge T550 服务器")])
    admin = Principal.system()
    for query in ("PowerEdge R750", '"PowerEdge R750"', "PowerEdge 服务器 R750", "r750"):
        hits = backend.search(SearchRequest(query), admin).hits
        assert [h.id for h in hits] == [1], (query, text)
        assert "<mark>" in hits[0].snippet
