"""Shared fixtures: the test corpus, a fresh data home, an initialised Dossier, Redis, PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

#: DOSSIER_* variables the tests read for themselves; every other one is moved out of the way
#: for the test run (to ``INHERITED_<name>``), so a CI's DOSSIER_OPENSEARCH_URL, say, never turns
#: tests of the embedded default into OpenSearch tests by accident.  tests/_opensearch.py reads
#: the node's URL from ``INHERITED_DOSSIER_OPENSEARCH_URL``.
TEST_VARIABLES = ("DOSSIER_CORPUS", "DOSSIER_TEST_POSTGRES_URL")
for _name in [k for k in os.environ if k.startswith("DOSSIER_") and k not in TEST_VARIABLES]:
    os.environ[f"INHERITED_{_name}"] = os.environ.pop(_name)

ROOT = Path(__file__).resolve().parents[1]
#: The Tantivy backend (no server to start) joins the backend-parametrised suites that list it;
#: DOSSIER_TEST_TANTIVY=0 leaves it out.
TANTIVY = [] if os.environ.get("INHERITED_DOSSIER_TEST_TANTIVY") == "0" else ["tantivy"]
CORPUS = Path(os.environ.get("DOSSIER_CORPUS", ROOT.parent / "shared" / "corpus")).resolve()
DEV = CORPUS / "dev"
REAL = CORPUS / "real"
ADMIN_PASSWORD = "测试-admin-pass"


def audit_events(d, action: str | None = None) -> list:  # type: ignore[no-untyped-def]
    """The audit events of Dossier ``d`` in the order written (only ``action``'s when given), detached."""
    from sqlalchemy import select

    from records import AuditEvent

    with d.sessions() as session:
        query = select(AuditEvent).order_by(AuditEvent.id)
        if action is not None:
            query = query.where(AuditEvent.action == action)
        rows = list(session.scalars(query))
        session.expunge_all()
        return rows


def login_client(app, username: str, password: str):  # type: ignore[no-untyped-def]
    """A test client of the Flask ``app`` signed in as ``username`` through the login form (with its CSRF token)."""
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post(
        "/auth/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, (username, response.get_data(as_text=True)[:300])
    return client


@contextlib.contextmanager
def backend_home(
    backend: str,
    name: str,
    tmp_path_factory: pytest.TempPathFactory,
    build: Callable[[Path, dict[str, str]], Any],
) -> Iterator[Any]:
    """What ``build(root, extra_env)`` makes of a fresh folder on ``backend`` ("sqlite", "tantivy", or "opensearch"
    with an index alias of its own that is dropped afterwards); its ``["dossier"]`` is closed at the end."""
    from tests import _opensearch

    extra: dict[str, str] = {}
    if backend == "tantivy":
        extra = {"DOSSIER_OPENSEARCH_URL": "tantivy"}
    if backend == "opensearch":
        extra = {
            "DOSSIER_OPENSEARCH_URL": _opensearch.cluster_url(),
            "DOSSIER_OPENSEARCH_INDEX": f"dossier-{name}-{uuid.uuid4().hex[:8]}",
        }
    built = build(tmp_path_factory.mktemp(f"{name}-{backend}"), extra)
    try:
        yield built
    finally:
        built["dossier"].close()
        if backend == "opensearch":
            _opensearch.drop(extra["DOSSIER_OPENSEARCH_URL"], extra["DOSSIER_OPENSEARCH_INDEX"])


def all_at_once(count: int, work: Callable[[int], object], timeout_s: float = 120) -> list[object]:
    """``work(i)`` in ``count`` threads released together; the results in order (exceptions re-raised)."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except BaseException as exc:  # handed to the test thread below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout_s)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def load_truth() -> list[dict]:
    """Every record of dev/truth.jsonl."""
    with (DEV / "truth.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_queries() -> list[dict]:
    """Every record of dev/queries.jsonl."""
    with (DEV / "queries.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """One real redis-server for the whole test session (tests use their own queue names via fresh homes)."""
    from tests._redis import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def redis_url(redis_server) -> str:
    """The URL of the session's Redis, flushed so every test starts with empty queues."""
    import redis

    client = redis.Redis.from_url(redis_server.url)
    client.flushdb()
    client.close()
    return redis_server.url


@pytest.fixture(scope="session")
def postgres_server() -> Iterator:
    """One real PostgreSQL for the session: ``DOSSIER_TEST_POSTGRES_URL``'s, else a throwaway cluster (tests._postgres).

    Skips (with the reason) only when neither is to be had.
    """
    from tests._postgres import NOT_AVAILABLE, server_from_environment

    server = server_from_environment()
    if server is None:
        pytest.skip(NOT_AVAILABLE)
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server) -> Iterator[str]:
    """The URL (``postgresql+psycopg://…``) of a fresh, empty database, dropped after the test."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def records_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty records database, once as a SQLite file and once as a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'records.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def records_engine(records_url: str) -> Iterator:
    """``records.make_engine`` on :func:`records_url` (unmigrated), disposed after the test."""
    from records import make_engine

    engine = make_engine(records_url)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path):
    """Settings for a private data home under tmp_path (no .env, no inherited DOSSIER_*)."""
    from foundation.config import load_settings

    return load_settings(
        environ={
            "DOSSIER_HOME": str(tmp_path / "home"),
            "DOSSIER_WORKERS": "2",
            "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
        },
        dotenv=tmp_path / "no.env",
    )


@pytest.fixture
def dossier(settings) -> Iterator:
    """An initialised Dossier with an admin user whose password is ADMIN_PASSWORD."""
    from dossier.app.services import Dossier

    d = Dossier.open(settings, require_init=False)
    d.init(admin_password=ADMIN_PASSWORD)
    yield d
    d.engine.dispose()


@pytest.fixture
def admin():
    """The all-reading principal."""
    from index import Principal

    return Principal(username="admin", role="admin")
