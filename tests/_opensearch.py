"""A real OpenSearch for tests: the node ``DOSSIER_OPENSEARCH_URL`` names, or one started privately.

* :func:`cluster_url` — the shared node (``.ci/run`` and ``make opensearch`` start one).  When
  the variable is set the node must answer: tests fail loudly instead of skipping.  Unset, the
  OpenSearch tests skip with :data:`NOT_SET`.
* :func:`make_backend` — an :class:`~index.OpenSearchBackend` on its own alias (a unique name),
  refreshing after every write so a test reads what it wrote; :func:`drop` removes its indexes.
* :class:`PrivateNode` — a node of one's own, started and stopped by ``.ci/opensearch.sh``, for
  tests that take the service away and bring it back.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from tests._redis import free_port

ENV_URL = "DOSSIER_OPENSEARCH_URL"
NOT_SET = f"{ENV_URL} is unset (make opensearch starts a node; CI always sets it)"
SCRIPT = Path(__file__).resolve().parents[1] / ".ci" / "opensearch.sh"
_checked: set[str] = set()


def cluster_url() -> str:
    """The shared node's URL; skips when unset, fails when set but not answering."""
    # tests/conftest.py moved DOSSIER_* out of the tests' environment, to INHERITED_<name>.
    url = (os.environ.get(f"INHERITED_{ENV_URL}") or os.environ.get(ENV_URL, "")).strip()
    if not url:
        pytest.skip(NOT_SET)
    if url not in _checked:
        wait_ready(url, 60)
        _checked.add(url)
    return url


def wait_ready(url: str, timeout_s: float) -> None:
    """Wait until the cluster is at least yellow; fail (never skip) when it is not in time."""
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        try:
            r = requests.get(
                f"{url}/_cluster/health", params={"wait_for_status": "yellow", "timeout": "2s"}, timeout=5
            )
            if r.ok:
                return
            last = f"HTTP {r.status_code}: {r.text[:200]}"
        except requests.RequestException as exc:
            last = str(exc)
        time.sleep(0.5)
    pytest.fail(f"{ENV_URL}={url} is set but OpenSearch does not answer: {last}")


def make_backend(engine: Any, url: str, **options: Any) -> Any:
    """An OpenSearch backend on a fresh alias of its own, refreshing after each write."""
    from index import OpenSearchBackend

    options.setdefault("index_name", f"dossier-test-{uuid.uuid4().hex[:12]}")
    options.setdefault("refresh", "true")
    backend = OpenSearchBackend(engine, url, **options)
    backend.ensure_schema()
    return backend


def drop(url: str, name: str) -> None:
    """Remove the indexes and the template of alias ``name``."""
    requests.delete(f"{url}/{name}-v*", params={"expand_wildcards": "all"}, timeout=30)
    requests.delete(f"{url}/_index_template/{name}", timeout=30)


class PrivateNode:
    """A node of one's own on a free port: :meth:`stop` and :meth:`start` it at will, :meth:`remove` at the end.

    Its data lives in a folder of its own under the system temp folder, not under pytest's: pytest
    makes its own folder private (mode 0700) whenever a session starts, which would lock the node's
    unprivileged user out of its data mid-run.
    """

    def __init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="dossier-opensearch-node-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start (or restart, keeping its data) and wait until it answers; fails the test if it cannot."""
        done = subprocess.run(
            ["bash", str(SCRIPT), "start", str(self.port), str(self.workdir)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"private OpenSearch node did not start:\n{done.stderr[-2000:]}")

    def stop(self) -> None:
        """Stop the node (idempotent)."""
        subprocess.run(
            ["bash", str(SCRIPT), "stop", str(self.workdir)], capture_output=True, timeout=120, check=False
        )

    def remove(self) -> None:
        """Stop the node and delete its data."""
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
