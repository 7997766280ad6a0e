"""The scale-out profile through the real `dossier` command: records in PostgreSQL, the index in OpenSearch.

Needs a real PostgreSQL (``postgres_url``: CI's, or a throwaway cluster) and the OpenSearch node
of ``DOSSIER_OPENSEARCH_URL`` (CI always has one; skipped without it).  No Redis: intake runs in
the command's own processes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from tests import _opensearch
from tests.conftest import DEV

pytestmark = [pytest.mark.opensearch, pytest.mark.slow]

CONTRACT = DEV / "contracts" / "产品购销合同_宸宇集团_HT-2024-0503_v2.pdf"
EMAIL = DEV / "emails" / "Quotation for Laptop Refresh - Pacific Rim.eml"
BROKEN = DEV / "bad" / "truncated.pdf"


@pytest.fixture
def run(tmp_path: Path, postgres_url: str):
    """``run(*args)``: the `dossier` command on a home whose records are in a fresh PostgreSQL database."""
    url = _opensearch.cluster_url()
    alias = f"dossier-pg-{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}
    env.update(
        DOSSIER_HOME=str(tmp_path / "home"),
        DOSSIER_REDIS_URL="redis://127.0.0.1:1/0",
        DOSSIER_WORKERS="2",
        DOSSIER_DATABASE_URL=make_url(postgres_url)
        .set(drivername="postgresql")
        .render_as_string(hide_password=False),
        DOSSIER_OPENSEARCH_URL=url,
        DOSSIER_OPENSEARCH_INDEX=alias,
    )

    def invoke(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "dossier.cli", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    yield invoke
    _opensearch.drop(url, alias)


def test_init_ingest_search_and_show_on_postgresql_records(run, postgres_url):
    """GIVEN PostgreSQL records and OpenSearch, `init` (twice), a registry import and an ingest work, search
    finds the contract by a short name, `show` gives its entities and customers, and the rows are in PostgreSQL."""
    first = run("init")
    assert first.returncode == 0, first.stderr
    assert "admin" in first.stdout and "Traceback" not in first.stderr
    again = run("init")
    assert again.returncode == 0 and "admin user exists" in again.stdout, again.stderr
    imported = run("customers", "import", str(DEV / "customers.json"), "--json")
    assert imported.returncode == 0 and json.loads(imported.stdout)["errors"] == [], imported.stderr

    done = run("ingest", str(CONTRACT), str(EMAIL), str(BROKEN), "--wait", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["ingested"] == 2 and [f["file"] for f in summary["failed"]] == [str(BROKEN)]

    found = json.loads(run("search", "宸宇", "--json").stdout)
    (hit,) = [h for h in found["hits"] if h["filename"] == CONTRACT.name]
    assert "<mark>" in hit["snippet"]
    shown = json.loads(run("show", str(hit["id"]), "--json").stdout)
    assert shown["doc_type"] == "contract" and shown["customers"] and shown["entities"].get("contract_no")

    from records import Document, EntityRow, Page, make_engine

    engine = make_engine(postgres_url)
    try:
        with Session(engine) as session:
            assert (
                session.scalar(select(func.count()).select_from(Document).where(Document.status == "failed"))
                == 1
            )
            assert session.scalar(select(func.count()).select_from(Page)) >= 2
            assert session.scalar(select(func.count()).select_from(EntityRow)) > 0
    finally:
        engine.dispose()
    redone = run("reextract", "--json")
    assert redone.returncode == 0 and json.loads(redone.stdout)["documents"] >= 2, redone.stderr
