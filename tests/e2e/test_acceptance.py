"""Acceptance of the foundation, bulk-scanning and customer-entity issues, through the `dossier` command, on the shared corpus.

The dev corpus carries ground truth (truth.jsonl) and judged queries (queries.jsonl); the
real corpus holds odd files written by others, with no truth beyond "never crash or hang".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from tests.conftest import DEV, REAL, load_queries, load_truth

pytestmark = pytest.mark.slow


#: A Redis URL nobody answers: the command then processes files itself.
NO_REDIS = "redis://127.0.0.1:1/0"


def dossier_cmd(
    home: Path, *args: str, timeout: int = 1800, redis: str = NO_REDIS
) -> subprocess.CompletedProcess:
    """Run the real `dossier` command with a private data home (and the given Redis)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}
    env["DOSSIER_HOME"] = str(home)
    env["DOSSIER_REDIS_URL"] = redis
    return subprocess.run(
        [sys.executable, "-m", "dossier.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def _squash(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


@pytest.fixture(scope="module")
def dev_home(tmp_path_factory, redis_server):
    """The dev corpus ingested through the queue: `ingest --wait` starts workers, which parse and OCR."""
    home = tmp_path_factory.mktemp("dev-home")
    init = dossier_cmd(home, "init")
    assert init.returncode == 0, init.stderr
    registry = dossier_cmd(home, "customers", "import", str(DEV / "customers.json"), "--json")
    assert registry.returncode == 0, registry.stderr + registry.stdout
    run = dossier_cmd(home, "ingest", str(DEV), "--wait", "--json", redis=redis_server.url)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["mode"] == "queue" and summary["queued"] == 0
    return home, summary


def _rel(label: str) -> str:
    return str(Path(label).relative_to(DEV))


def test_every_dev_file_ends_as_its_truth_says(dev_home):
    """Ok files are ingested and indexed (scans read by OCR), bad files expecting errors fail, nothing else fails."""
    _home, summary = dev_home
    truth = {t["file"]: t for t in load_truth()}
    ingested = {_rel(d["file"]): d for d in summary["documents"] if "parent" not in d}
    failed = {_rel(f["file"]): f["error"] for f in summary["failed"]}
    for file, t in truth.items():
        if not (DEV / file).exists():  # a shared/ copy may drop names its filesystem refuses
            continue
        accept = set(t.get("accept") or [t["expect"]])
        if t["expect"] == "ok" and "error" not in accept:
            assert file in ingested, f"{file} should be ingested, failed with: {failed.get(file)}"
            assert ingested[file]["status"] == "indexed", file
        elif t["expect"] == "error" and "ok" not in accept:
            assert file in failed, f"{file} should fail"
        else:
            assert file in ingested or file in failed
    for file, reason in failed.items():
        assert "error" in set(truth[file].get("accept") or [truth[file]["expect"]]), (
            f"{file} failed: {reason}"
        )
        assert reason and "\n" not in reason and len(reason) < 300


def _searchable_truth() -> dict[str, str]:
    texts = {}
    for t in load_truth():
        if t["expect"] == "ok" and not t.get("scanned"):
            texts[t["file"]] = t["text"] + "".join(
                "\n" + a.get("text", "") for a in t.get("attachments") or []
            )
    return texts


def _search(home: Path, query: str, *extra: str) -> dict:
    run = dossier_cmd(home, "search", query, "--json", "--limit", "1000", *extra)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_recall_over_the_judged_queries_is_complete(dev_home):
    """Every relevant born-digital file is returned for every judged query, and every hit has a snippet with a match."""
    home, summary = dev_home
    by_id = {
        d["id"]: _rel(d["file"].split(".eml/")[0] + ".eml" if ".eml/" in d["file"] else d["file"])
        for d in summary["documents"]
    }
    searchable = _searchable_truth()
    problems = []
    for q in load_queries():
        if q["kind"].startswith("negative"):
            continue
        result = _search(home, q["q"])
        found = {by_id[h["id"]] for h in result["hits"] if h["id"] in by_id}
        missing = {f for f in q["relevant"] if f in searchable} - found
        if missing:
            problems.append(f"{q['id']} {q['q']!r}: missing {sorted(missing)}")
        problems.extend(
            f"{q['id']} {q['q']!r}: hit {h['id']} without a highlighted match"
            for h in result["hits"]
            if "<mark>" not in h["snippet"]
        )
        assert set(result) >= {"total", "took_ms", "hits", "facets"}
        for hit in result["hits"]:
            assert set(hit) == {
                "id",
                "title",
                "filename",
                "customer",
                "customers",
                "doc_type",
                "date",
                "score",
                "snippet",
                "version",
                "activity",  # 0: a document (an activity's or comment's hit has its id)
                "display_title",  # the title, or type · customer · number · date for a generic one
                "title_parts",
            }
    assert problems == []


def test_negative_queries_find_nothing(dev_home):
    """Words only in scripts, in an encrypted PDF, or near-miss company names find no corpus document.

    The corpus folder also holds its own ground truth (truth.jsonl, queries.jsonl …), which
    is ingested like any file and does contain these words; hits on it are expected.
    """
    home, summary = dev_home
    documents = {d["id"]: _rel(d["file"]) for d in summary["documents"] if "parent" not in d}
    judged = {t["file"] for t in load_truth()}
    for q in load_queries():
        if q["kind"].startswith("negative"):
            hits = [documents.get(h["id"]) for h in _search(home, q["q"])["hits"]]
            assert [f for f in hits if f in judged or f is None] == [], q


def test_quoted_phrases_match_only_verbatim_text(dev_home):
    """A quoted multi-word query returns only documents whose text contains it verbatim."""
    home, summary = dev_home
    by_id = {d["id"]: _rel(d["file"]) for d in summary["documents"] if "parent" not in d}
    searchable = _searchable_truth()
    phrases = [
        q["q"] for q in load_queries() if q["kind"] in ("topic_zh", "company_full", "mixed", "multi_and")
    ]
    assert phrases
    for phrase in phrases:
        result = _search(home, f'"{phrase}"')
        for hit in result["hits"]:
            file = by_id.get(hit["id"])
            if file in searchable:
                assert _squash(phrase) in _squash(searchable[file]), (phrase, file)


def _cjk_runs(text: str, size: int = 4) -> list[str]:
    """Runs of ``size`` CJK characters taken from a page's lines (phrases a user might search)."""
    runs = []
    for line in text.splitlines():
        chars = ""
        for ch in line + "\n":
            if "\u4e00" <= ch <= "\u9fff":
                chars += ch
                continue
            if len(chars) >= size:
                runs.append(chars[:size])
            chars = ""
    return runs


def test_the_text_of_every_scanned_page_is_searchable(dev_home):
    """Three phrases from the truth text of each scanned page: at least two find that scan."""
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from index import Principal, SearchRequest

    home, summary = dev_home
    d = Dossier.open(load_settings(environ={"DOSSIER_HOME": str(home)}, dotenv=home / "none"))
    admin = Principal(username="admin", role="admin")

    def ids(query: str) -> set[int]:  # in-process: 150 searches through the CLI would take minutes
        return {h["id"] for h in d.search(SearchRequest(query=query, limit=1000), admin)["hits"]}

    by_file = {_rel(doc["file"]): doc["id"] for doc in summary["documents"] if "parent" not in doc}
    problems = []
    for t in load_truth():
        if not t.get("scanned") or t["file"] not in by_file:
            continue
        for n, page in enumerate(t["pages"], 1):
            runs = _cjk_runs(page)
            picks = [runs[len(runs) * k // 4] for k in (1, 2, 3)] if len(runs) >= 4 else runs
            found = [p for p in picks if by_file[t["file"]] in ids(f'"{p}"')]
            if len(found) < min(2, len(picks)):
                problems.append(f"{t['file']} page {n}: found by {found} of {picks}")
    assert problems == []


def test_show_json_has_the_contract_shape_and_ocr_pages(dev_home):
    """`dossier show ID --json` carries the BRIEF §3 keys; a scan's pages have text, ocr: true and a confidence."""
    home, summary = dev_home
    scan_id = next(
        d["id"] for d in summary["documents"] if d["file"].endswith("技术服务合同_恒达贸易_盖章扫描件.tif")
    )
    run = dossier_cmd(home, "show", str(scan_id), "--json")
    shown = json.loads(run.stdout)
    assert {"id", "filename", "doc_type", "customers", "entities", "pages", "text", "versions"} <= set(shown)
    assert len(shown["pages"]) == 2
    for page in shown["pages"]:
        assert {"n", "text", "ocr", "confidence"} <= set(page)
        assert (
            page["ocr"] is True and not page["needs_ocr"] and 0.5 < page["confidence"] <= 1 and page["text"]
        )
    assert "恒达贸易" in shown["text"]


def test_status_reports_no_waiting_pages_and_the_failures(dev_home):
    """`dossier status --json` counts documents by status and lists failures; nothing waits for OCR."""
    home, summary = dev_home
    info = json.loads(dossier_cmd(home, "status", "--json").stdout)
    assert info["by_status"].get("awaiting_ocr", 0) == summary["awaiting_ocr"] == 0
    from foundation.messages import load_stored
    from pipeline.intake import EMPTY_FILE

    # An empty file fails as such before anything is stored (there is nothing to keep): no document for it.
    # (--json prints stored reasons in both languages.)
    empty = str(load_stored(EMPTY_FILE))
    stored = [f for f in summary["failed"] if f["error"] != empty]
    assert len(stored) < len(summary["failed"])  # bad/empty.pdf
    assert info["by_status"].get("failed", 0) == len(stored)
    assert info["pages_awaiting_ocr"] == 0
    batch = json.loads(dossier_cmd(home, "status", str(summary["batch"]), "--json").stdout)
    assert batch["state"] == "done" and batch["pages"]["pending"] == 0
    assert batch["files"]["failed"] == len(summary["failed"]) and batch["pages"]["done"] > 0


def test_ingesting_the_same_folder_again_only_finds_duplicates(dev_home):
    """A second ingest of the corpus adds nothing and reports every readable file as a duplicate."""
    home, _summary = dev_home
    again = json.loads(dossier_cmd(home, "ingest", str(DEV / "contracts"), "--wait", "--json").stdout)
    assert again["ingested"] == 0 and again["failed"] == []
    assert again["duplicates"] == len(list((DEV / "contracts").iterdir()))


def test_the_real_corpus_completes_with_every_file_accounted_for(tmp_path):
    """Odd real-world files: each is ingested, awaits OCR, is a duplicate, or fails with a one-line reason."""
    assert dossier_cmd(tmp_path, "init").returncode == 0
    run = dossier_cmd(tmp_path, "ingest", str(REAL), "--wait", "--json")
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    files = [p for p in REAL.rglob("*") if p.is_file()]
    assert summary["ingested"] + summary["duplicates"] + len(summary["failed"]) == len(files)
    for failure in summary["failed"]:
        assert failure["error"] and "\n" not in failure["error"] and "Traceback" not in failure["error"]
        assert "/ " in failure["error"], failure  # "中文说明 / English"


def test_filtering_by_customer_returns_exactly_that_customers_documents(dev_home):
    """After `customers import` of customers.json and the ingest, `--customer NAME` finds exactly its files."""
    home, summary = dev_home
    registry = json.loads((DEV / "customers.json").read_text(encoding="utf-8"))
    file_of = {d["id"]: _rel(d["file"]) for d in summary["documents"]}
    truth = [t for t in load_truth() if t["expect"] == "ok" and t["doc_type"] != "hostile"]
    problems = []
    for customer in registry["customers"]:
        name = customer["full_name"]
        run = dossier_cmd(home, "search", "", "--customer", name, "--limit", "10000", "--json")
        assert run.returncode == 0, run.stderr
        # Only files with a truth record count (not the corpus's own JSON files, not attachments split off)
        judged = {t["file"] for t in truth}
        found = {file_of[h["id"]] for h in json.loads(run.stdout)["hits"] if file_of.get(h["id"]) in judged}
        expected = {t["file"] for t in truth if name in t["customers"]}
        if found != expected:
            problems.append(f"{name}: missing {sorted(expected - found)}, extra {sorted(found - expected)}")
    assert problems == []


def test_show_json_carries_the_normalised_entities_of_a_contract(dev_home):
    """`show --json` of a text contract has its phones, e-mails, credit codes, amounts, dates and contract number."""
    home, summary = dev_home
    by_file = {_rel(d["file"]): d["id"] for d in summary["documents"]}
    checked = 0
    for t in load_truth():
        if t["doc_type"] != "contract" or t.get("scanned") or t["file"] not in by_file:
            continue
        shown = json.loads(dossier_cmd(home, "show", str(by_file[t["file"]]), "--json").stdout)
        entities = shown["entities"]
        for kind in ("phone", "email", "contract_no", "date", "amount"):
            assert set(t["entities"][kind]) <= set(entities[kind]), (t["file"], kind)
        assert {u["value"] for u in t["entities"]["uscc"]} <= set(entities["uscc"]), t["file"]
        assert set(shown["customers"]) == set(t["customers"]), t["file"]
        checked += 1
    assert checked >= 10
