"""OpenSearch and Redis going away and coming back, with the real services stopped and restarted.

The promise (issue 5): while they are down, uploads are still accepted and stored, index work
waits and is retried with backoff, search answers "search unavailable" (HTTP 503 in the API,
a page saying so in the UI); once they are back, the backlog drains by itself.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable

import pytest

from tests import _opensearch
from tests.conftest import DEV

pytestmark = [pytest.mark.opensearch, pytest.mark.slow]

PASSWORD = "outage-test-Passw0rd"
CONTRACT = DEV / "contracts" / "产品购销合同_宸宇集团_HT-2024-0503_v2.pdf"
QUOTE = DEV / "quotes" / "报价单_海川物流_20240530.docx"
UPLOAD = DEV / "contracts" / "等保整改服务协议_金桥电气_FW-2024-192.txt"


def _wait_until(condition: Callable[[], bool], what: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.5)


def _login(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/auth/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


def _ids(client, query: str) -> list[int]:  # type: ignore[no-untyped-def]
    response = client.get("/api/search", query_string={"q": query})
    assert response.status_code == 200, response.get_data(as_text=True)
    return [h["id"] for h in response.get_json()["hits"]]


def test_opensearch_and_redis_outages_lose_nothing_and_drain_by_themselves(tmp_path):
    """GIVEN a Dossier on a real OpenSearch node and a real Redis WHEN both stop THEN uploads are stored,
    index work waits, search is a clear 503; WHEN both restart THEN everything ends indexed and searchable."""
    from dossier.app.services import Dossier
    from foundation.config import load_settings
    from tests._redis import RedisServer
    from webui import create_app
    from workers import run_worker

    _opensearch.cluster_url()  # only where OpenSearch tests run (CI): the private node needs the distribution
    node = _opensearch.PrivateNode()
    node.start()
    redis = RedisServer(tmp_path / "redis")
    try:
        settings = load_settings(
            environ={
                "DOSSIER_HOME": str(tmp_path / "home"),
                "DOSSIER_WORKERS": "1",
                "DOSSIER_REDIS_URL": redis.url,
                "DOSSIER_OPENSEARCH_URL": node.url,
            },
            dotenv=tmp_path / "no.env",
        )
        d = Dossier.open(settings, require_init=False)
        d.init(admin_password=PASSWORD)
        app = create_app(settings, {"TESTING": True})
        client = app.test_client()
        _login(client)
        first = d.ingest_paths([CONTRACT], workers=1)
        assert first["mode"] == "queue" and first["documents"][0]["status"] == "indexed"
        contract_id = first["documents"][0]["id"]
        assert _ids(client, "宸宇") == [contract_id]

        # -- both services go away ------------------------------------------------------------------
        node.stop()
        redis.stop()
        page = client.get("/upload").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        uploaded = client.post(
            "/upload",
            data={"csrf_token": token, "files": (io.BytesIO(UPLOAD.read_bytes()), UPLOAD.name)},
            content_type="multipart/form-data",
        )
        assert uploaded.status_code == 303, uploaded.get_data(as_text=True)[:500]  # to the batch page
        batch = int(uploaded.headers["Location"].rsplit("/", 1)[-1])
        stored = d.batch_status(batch)
        assert stored["files"]["total"] == 1 and stored["files"]["queued"] == 1  # stored; waits for a worker
        inline = d.ingest_paths(
            [QUOTE]
        )  # no Redis: processed here (the waiting upload too); index entries wait
        assert inline["mode"] == "inline" and inline["documents"][0]["status"] == "indexed"
        quote_id = inline["documents"][0]["id"]

        api = client.get("/api/search", query_string={"q": "海川"})
        assert api.status_code == 503 and "搜索服务暂不可用" in api.get_json()["error"]
        english = client.get("/api/search", query_string={"q": "海川", "lang": "en"})
        assert english.status_code == 503 and "unavailable" in english.get_json()["error"]
        html = client.get("/", query_string={"q": "海川", "lang": "zh"})
        assert html.status_code == 503 and "搜索服务暂不可用" in html.get_data(as_text=True)
        status = d.status()
        assert status["index_status"]["pending"] >= 1 and status["index_status"]["error"]
        assert status["queue"]["reachable"] is False
        time.sleep(6)  # the flusher keeps trying (and backing off) meanwhile
        assert d.backend.status()["pending"] >= 1

        # -- both come back: the backlog drains without anyone asking ------------------------------------
        node.start()
        redis = RedisServer(tmp_path / "redis2", port=redis.port)
        run_worker(settings, burst=True)  # processes the upload that waited in the records
        _wait_until(lambda: d.backend.status()["pending"] == 0, "the index backlog to drain", 180)
        # Sent without a refresh by whichever process drained it: searchable within the refresh interval.
        _wait_until(lambda: quote_id in _ids(client, "海川"), "the quote to be searchable", 30)
        assert contract_id in _ids(client, "宸宇")
        _wait_until(
            lambda: bool(_ids(client, "金桥电气")),
            "the upload made while both were down to be searchable",
            30,
        )
        assert d.status()["by_status"].get("queued", 0) == 0
    finally:
        redis.stop()
        node.remove()
