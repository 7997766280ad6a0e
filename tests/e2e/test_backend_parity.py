"""The two search backends answer alike on the dev corpus: same documents, same totals, same facet counts.

The dev corpus (born-digital files and the hostile ones; scans need OCR, which the acceptance
run covers) is ingested through the real `dossier` command twice: into a home on the embedded
index, and into a home on OpenSearch (``DOSSIER_OPENSEARCH_URL``; CI always has one).  Every
judged query of ``queries.jsonl`` then runs against both, as an admin and as a sales rep.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest

from tests import _opensearch
from tests.conftest import DEV, TANTIVY, load_queries

pytestmark = [pytest.mark.slow]

FOLDERS = (
    "contracts",
    "quotes",
    "invoices",
    "meetings",
    "visits",
    "emails",
    "orders",
    "proposals",
    "crm",
    "bad",
)


def _run(home: Path, env_extra: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}
    env.update({"DOSSIER_HOME": str(home), "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0", **env_extra})
    return subprocess.run(
        [sys.executable, "-m", "dossier.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
        check=False,
    )


def _home(base: Path, env_extra: dict[str, str]) -> Path:
    home = base / "home"
    for args in (("init",), ("customers", "import", str(DEV / "customers.json"))):
        done = _run(home, env_extra, *args)
        assert done.returncode == 0, done.stderr + done.stdout
    done = _run(home, env_extra, "ingest", *(str(DEV / f) for f in FOLDERS), "--wait", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["ingested"] > 100
    return home


@pytest.fixture(scope="module", params=[pytest.param("opensearch", marks=pytest.mark.opensearch), *TANTIVY])
def dossiers(request, tmp_path_factory):
    """(embedded Dossier, OpenSearch or Tantivy Dossier) over the same files."""
    from dossier.app.services import Dossier
    from foundation.config import load_settings

    if request.param == "tantivy":
        url, alias = "", ""
        os_env = {"DOSSIER_OPENSEARCH_URL": "tantivy"}
    else:
        url = _opensearch.cluster_url()
        alias = f"dossier-parity-{uuid.uuid4().hex[:8]}"
        os_env = {"DOSSIER_OPENSEARCH_URL": url, "DOSSIER_OPENSEARCH_INDEX": alias}
    embedded_home = _home(tmp_path_factory.mktemp("embedded"), {})
    os_home = _home(tmp_path_factory.mktemp(request.param), os_env)
    opened = []
    for home, extra in ((embedded_home, {}), (os_home, os_env)):
        settings = load_settings(
            environ={"DOSSIER_HOME": str(home), "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0", **extra},
            dotenv=home / "none",
        )
        opened.append(Dossier.open(settings))
    try:
        yield tuple(opened)
    finally:
        for d in opened:
            d.close()
        if alias:
            _opensearch.drop(url, alias)


def _answer(dossier, query: str, principal) -> tuple[int, Counter, dict]:  # type: ignore[no-untyped-def]
    from index import SearchRequest

    result = dossier.search(SearchRequest(query, limit=1000), principal)
    files = Counter((h["filename"], h["title"]) for h in result["hits"])
    return result["total"], files, result["facets"]


def test_both_backends_hold_the_same_documents(dossiers):
    """Every indexed document of the embedded home is in the OpenSearch index, nothing waits or was refused."""
    embedded, on_opensearch = dossiers
    a, b = embedded.status(), on_opensearch.status()
    assert a["by_status"] == b["by_status"]
    assert a["indexed"] == b["indexed"] == b["index_status"]["documents"]
    assert b["index_status"]["pending"] == 0 and b["index_status"]["failures"] == []


def test_every_dev_query_finds_the_same_documents_with_the_same_facets(dossiers):
    """Totals, hit sets and facet counts agree for each judged query, as admin and as a sales rep."""
    from index import Principal

    embedded, on_opensearch = dossiers
    queries = [q["q"] for q in load_queries()]
    queries += [
        "合同 -报价",
        "报价 OR 发票",
        "type:合同 year:2024",
        "customer_type:现有 region:浙江",
        '"合同金额"',
    ]
    assert len(queries) > 50
    principals = (Principal.system(), Principal("sales1", "sales"))
    differences = []
    for query in queries:
        for principal in principals:
            want = _answer(embedded, query, principal)
            got = _answer(on_opensearch, query, principal)
            if want != got:
                differences.append(
                    (query, principal.role, want[0], got[0], (want[1] - got[1]) + (got[1] - want[1]))
                )
    assert differences == []


def test_the_first_hit_agrees_for_most_queries(dossiers):
    """Ranking is the same design (title, entities, whole words, bigrams; recent on ties): the top hit mostly agrees."""
    from index import Principal, SearchRequest

    embedded, on_opensearch = dossiers
    agree = total = 0
    for q in load_queries():
        a = embedded.search(SearchRequest(q["q"], limit=1), Principal.system())["hits"]
        b = on_opensearch.search(SearchRequest(q["q"], limit=1), Principal.system())["hits"]
        if a:
            total += 1
            agree += (a[0]["filename"], a[0]["title"]) == (b[0]["filename"], b[0]["title"]) if b else 0
    assert total and agree / total >= 0.8, (agree, total)


def test_formats_scans_field_snippets_and_display_titles_agree(dossiers):
    """Issue 17's fields: the format and scan filters and facets, the snippets of field queries and the display
    titles are the same on both backends, as admin and as a sales rep."""
    from index import Principal, SearchRequest
    from tests.conftest import load_truth

    embedded, on_opensearch = dossiers
    values: dict[str, list[str]] = {"phone": [], "amount": [], "contract_no": []}
    for truth in load_truth():
        if truth.get("expect") != "ok" or truth["file"].split("/")[0] not in FOLDERS:
            continue
        for kind, found in values.items():
            found.extend(v for v in (truth.get("entities") or {}).get(kind) or () if len(found) < 3)
    queries = ["format:pdf", "format:word 合同", "格式:excel", "format:email", "is:scan", "合同 -format:pdf"]
    queries += [f"phone:{v}" for v in values["phone"]] + [f"amount:{v}" for v in values["amount"]]
    queries += [f"contract:{v}" for v in values["contract_no"]]
    differences = []
    for query in queries:
        for principal in (Principal.system(), Principal("sales1", "sales")):
            answers = []
            for dossier in (embedded, on_opensearch):
                result = dossier.search(SearchRequest(query, limit=1000), principal)
                hits = Counter(
                    (h["filename"], h["title"], h["display_title"], h["snippet"]) for h in result["hits"]
                )
                facets = {name: result["facets"].get(name) for name in ("format", "scan")}
                answers.append((result["total"], hits, facets))
            if answers[0] != answers[1]:
                differences.append((query, principal.role, answers[0][0], answers[1][0]))
    assert differences == []
    pdfs = embedded.search(SearchRequest("format:pdf", limit=1), Principal.system())
    assert pdfs["total"] > 0


def test_type_word_queries_rank_the_named_type_first_on_both(dossiers):
    """Search v2 relevance: the graded type-word queries (bench/judgements_types.jsonl) list the documents of
    the type they name before any other, on both backends, with the same totals (as admin and as a sales rep)."""
    from index import Principal, SearchRequest

    embedded, on_opensearch = dossiers
    judgements = Path(__file__).resolve().parents[2] / "bench" / "judgements_types.jsonl"
    rows = [json.loads(line) for line in judgements.read_text(encoding="utf-8").splitlines() if line.strip()]
    checked = 0
    for row in rows:
        for principal in (Principal.system(), Principal("sales1", "sales")):
            totals = []
            for dossier in (embedded, on_opensearch):
                result = dossier.search(SearchRequest(row["q"], limit=1000), principal)
                typed = [h["doc_type"] == row["type"] for h in result["hits"]]
                assert typed == sorted(typed, reverse=True), (row["q"], principal.role, dossier)
                totals.append(result["total"])
                checked += any(typed)
            assert totals[0] == totals[1], (row["q"], principal.role, totals)
    assert checked > 20


def test_pinyin_queries_agree(dossiers):
    """Issue 18's pinyin: the full pinyin and initials of corpus customers' names find the same documents with
    the same snippets on both backends, as admin and as a sales rep, and find something."""
    from index import Principal, SearchRequest
    from index._pinyin import syllables
    from tests.conftest import load_truth

    embedded, on_opensearch = dossiers
    names = list(dict.fromkeys(n for t in load_truth() for n in t.get("customers") or () if len(n) >= 4))[:4]
    assert names
    queries = []
    for name in names:
        syl = syllables(name[:4])
        queries += ["".join(syl[:2]), "".join(syl), "".join(s[0] for s in syl)]
    differences = []
    found = 0
    for query in queries:
        for principal in (Principal.system(), Principal("sales1", "sales")):
            answers = []
            for dossier in (embedded, on_opensearch):
                result = dossier.search(SearchRequest(query, limit=1000), principal)
                assert all(h["snippet"] for h in result["hits"]), query
                answers.append(
                    (result["total"], Counter((h["filename"], h["snippet"]) for h in result["hits"]))
                )
            found += answers[0][0]
            if answers[0] != answers[1]:
                differences.append((query, principal.role, answers[0][0], answers[1][0]))
    assert differences == []
    assert found > 0
