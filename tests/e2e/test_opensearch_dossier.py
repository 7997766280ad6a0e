"""A whole Dossier on OpenSearch: intake, reindex through the CLI, refused documents, read-your-writes.

Needs a node (``DOSSIER_OPENSEARCH_URL``; CI always has one).
"""

from __future__ import annotations

import uuid

import pytest
import requests
from click.testing import CliRunner

from foundation.messages import load_stored
from tests import _opensearch
from tests.conftest import ADMIN_PASSWORD, DEV

pytestmark = pytest.mark.opensearch

CONTRACT = DEV / "contracts" / "产品购销合同_宸宇集团_HT-2024-0503_v2.pdf"
QUOTE = DEV / "quotes" / "报价单_海川物流_20240530.docx"


@pytest.fixture
def os_env(tmp_path):
    """Settings of a fresh data home on its own OpenSearch alias (dropped afterwards)."""
    url = _opensearch.cluster_url()
    alias = f"dossier-test-{uuid.uuid4().hex[:10]}"
    env = {
        "DOSSIER_HOME": str(tmp_path / "home"),
        "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
        "DOSSIER_OPENSEARCH_URL": url,
        "DOSSIER_OPENSEARCH_INDEX": alias,
        "DOSSIER_WORKERS": "1",
    }
    yield env
    _opensearch.drop(url, alias)


@pytest.fixture
def os_dossier(os_env, tmp_path):
    from dossier.app.services import Dossier
    from foundation.config import load_settings

    d = Dossier.open(load_settings(environ=os_env, dotenv=tmp_path / "none"), require_init=False)
    d.init(admin_password=ADMIN_PASSWORD)
    yield d
    d.close()


def test_ingest_wait_leaves_every_document_searchable(os_dossier, admin):
    """`ingest --wait` returns once its documents are in OpenSearch: searchable at once, nothing waiting."""
    from index import SearchRequest

    summary = os_dossier.ingest_paths([CONTRACT, QUOTE])
    assert summary["ingested"] == 2 and summary["mode"] == "inline"
    assert os_dossier.backend.status()["pending"] == 0
    found = {h["filename"] for h in os_dossier.search(SearchRequest("HT-2024-0503"), admin)["hits"]}
    assert found == {CONTRACT.name}
    status = os_dossier.status()
    assert status["index"] == "opensearch" and status["indexed"] == 2


def test_cli_reindex_swaps_in_a_new_index_and_search_goes_on(os_env, tmp_path):
    """`dossier reindex` builds a new physical index from the records and moves the alias to it."""
    from dossier.cli import cli

    runner = CliRunner(env=os_env)
    assert runner.invoke(cli, ["init"], catch_exceptions=False).exit_code == 0
    ingest = runner.invoke(
        cli, ["ingest", str(CONTRACT), str(QUOTE), "--wait", "--json"], catch_exceptions=False
    )
    assert ingest.exit_code == 0, ingest.output
    url, alias = os_env["DOSSIER_OPENSEARCH_URL"], os_env["DOSSIER_OPENSEARCH_INDEX"]
    before = set(requests.get(f"{url}/_alias/{alias}", timeout=10).json())
    done = runner.invoke(cli, ["reindex"], catch_exceptions=False)
    assert done.exit_code == 0 and "2" in done.output and "opensearch" in done.output
    after = set(requests.get(f"{url}/_alias/{alias}", timeout=10).json())
    assert len(after) == 1 and after != before
    hits = runner.invoke(cli, ["search", "海川", "--json"], catch_exceptions=False)
    assert hits.exit_code == 0 and QUOTE.name in hits.output
    status = runner.invoke(cli, ["status"], catch_exceptions=False)
    assert status.exit_code == 0 and "opensearch (2" in status.output


def test_a_document_the_index_refuses_fails_with_the_reason(os_dossier, admin):
    """A document whose index entry is refused for good ends failed with the reason; others are untouched."""
    from records import Document

    summary = os_dossier.ingest_paths([CONTRACT, QUOTE])
    bad_id, good_id = (d["id"] for d in summary["documents"])
    with os_dossier.engine.begin() as conn:  # an entry the cluster cannot take (as a corrupted row would be)
        from index._outbox import OUTBOX

        conn.execute(
            OUTBOX.insert().values(
                doc_id=bad_id, op="index", payload="{not json", attempts=0, next_try=0.0, rejected=False
            )
        )
    assert os_dossier.flusher is not None
    os_dossier.flusher.flush_now()
    with os_dossier.sessions() as session:
        bad, good = session.get(Document, bad_id), session.get(Document, good_id)
        reason = str(load_stored(bad.error) or bad.error)
        assert bad.status == "failed" and "索引" in reason and "index" in reason
        assert good.status == "indexed"
    failures = os_dossier.status()["index_status"]["failures"]
    assert [f["document_id"] for f in failures] == [bad_id]


def test_the_web_process_reads_its_own_writes(os_dossier, admin):
    """A Dossier tuned for the web waits for the index to show what it just wrote."""
    from index import SearchRequest

    os_dossier.interactive()
    summary = os_dossier.ingest_paths([CONTRACT])
    doc_id = summary["documents"][0]["id"]
    with os_dossier.sessions() as session:
        from records import Document

        session.get(Document, doc_id).title = "珊瑚项目合同"
        session.commit()  # the after-commit flush is poked; the search below waits for it
    os_dossier.reindex([doc_id])
    hits = os_dossier.search(SearchRequest("珊瑚项目"), admin)["hits"]
    assert [h["id"] for h in hits] == [doc_id]


def test_the_scale_out_profile_postgresql_records_and_opensearch(
    os_env, postgres_url, redis_url, tmp_path, admin
):
    """PostgreSQL records + OpenSearch index + Redis queue and a real worker: ingest, search, reindex."""
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from index import SearchRequest

    env = {**os_env, "DOSSIER_DATABASE_URL": postgres_url, "DOSSIER_REDIS_URL": redis_url}
    d = Dossier.open(load_settings(environ=env, dotenv=tmp_path / "none"), require_init=False)
    try:
        d.init(admin_password=ADMIN_PASSWORD)
        d.customers.import_registry(DEV / "customers.json")
        summary = d.ingest_paths(
            [CONTRACT, QUOTE], workers=1
        )  # queued; a temporary worker process does the work
        assert summary["mode"] == "queue" and {doc["status"] for doc in summary["documents"]} == {"indexed"}
        result = d.search(SearchRequest("海川", customers=("海川物流",)), admin)
        assert [h["filename"] for h in result["hits"]] == [QUOTE.name]
        assert result["facets"]["doc_type"] == [{"value": "quote", "count": 1}]
        assert d.reindex() == 2
        assert d.search(SearchRequest("HT-2024-0503"), admin)["total"] == 1
        assert d.backend.status()["pending"] == 0
    finally:
        d.close()
