"""PostgreSQL for records: URLs, the pool, concurrent migrations, forks, and the embedded index's refusal."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.engine import make_url

from foundation.errors import ConfigError, DossierError
from records import DatabaseUnavailable, check_reachable, database_url, is_migrated, make_engine, migrate
from tests._redis import free_port


def _plain(url: str) -> str:
    """``url`` as a user writes it: ``postgresql://`` without a driver."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_settings(tmp_path, url: str, **extra: str):
    from foundation.config import load_settings

    environ = {
        "DOSSIER_HOME": str(tmp_path / "home"),
        "DOSSIER_DATABASE_URL": url,
        "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0",
        **extra,
    }
    return load_settings(environ=environ, dotenv=tmp_path / "no.env")


def test_plain_postgresql_urls_get_the_psycopg_3_driver():
    """`postgresql://` and `postgres://` mean psycopg 3; an explicit driver and SQLite URLs are kept."""
    assert database_url("postgresql://u:p@db:5432/dossier").drivername == "postgresql+psycopg"
    assert database_url("postgres://u:p@db/dossier").drivername == "postgresql+psycopg"
    assert database_url("postgresql+psycopg://u@db/dossier").drivername == "postgresql+psycopg"
    assert database_url("sqlite:////srv/dossier.db").drivername == "sqlite"
    with pytest.raises(ConfigError, match="DOSSIER_DATABASE_URL"):
        database_url("not a url")


def test_every_spelling_of_one_postgresql_database_shares_one_queue():
    """Workers whose URLs differ only in driver spelling or password feed the same queue; SQLite names are kept."""
    from pipeline.queue import queue_name

    spellings = [
        "postgresql://dossier:old@db:5432/records",
        "postgres://dossier:new@db:5432/records",
        "postgresql+psycopg://dossier@db:5432/records",
    ]
    assert len({queue_name(u) for u in spellings}) == 1
    assert queue_name("postgresql://dossier@db:5432/other") != queue_name(spellings[0])
    sqlite = "sqlite:////srv/home/dossier.db"
    assert queue_name(sqlite) == "dossier-" + hashlib.sha256(sqlite.encode()).hexdigest()[:12]


def test_a_plain_url_migrates_an_empty_database_to_head(postgres_url):
    """`make_engine("postgresql://…")` uses a checked pool and brings an empty database to the newest revision."""
    engine = make_engine(_plain(postgres_url))
    try:
        assert engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg"
        assert engine.pool._pre_ping and engine.pool.size() == 5  # type: ignore[attr-defined]
        assert not is_migrated(engine)
        migrate(engine)
        assert is_migrated(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT current_setting('application_name')")).scalar() == "dossier"
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        engine.dispose()


def _migrate_in_child(url: str, start, results) -> None:
    engine = make_engine(url)
    start.wait()
    try:
        migrate(engine)
        results.put("ok")
    except BaseException as exc:  # reported to the test process
        results.put(f"{type(exc).__name__}: {exc}")
    finally:
        engine.dispose()


def test_processes_opening_a_new_database_at_once_migrate_it_once(postgres_url):
    """Four processes migrating the same empty database at the same moment all succeed; the schema is at head once.

    (Processes, not threads: Alembic's migration context is process-global.)
    """
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    children = [ctx.Process(target=_migrate_in_child, args=(postgres_url, start, results)) for _ in range(4)]
    for child in children:
        child.start()
    start.set()
    outcomes = [results.get(timeout=120) for _ in children]
    for child in children:
        child.join(30)
    assert outcomes == ["ok"] * 4
    engine = make_engine(postgres_url)
    try:
        assert is_migrated(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    finally:
        engine.dispose()


def _child_backend_pid(engine, queue) -> None:
    with engine.connect() as conn:
        queue.put(conn.execute(text("SELECT pg_backend_pid()")).scalar())


def test_a_forked_child_never_reuses_the_parents_connection(postgres_url):
    """A parser child forked from a worker gets its own connection; the worker's keeps working after the child exits."""
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as conn:
            parent_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        ctx = multiprocessing.get_context("fork")
        queue = ctx.Queue()
        child = ctx.Process(target=_child_backend_pid, args=(engine, queue))
        child.start()
        child_pid = queue.get(timeout=30)
        child.join(30)
        assert child.exitcode == 0 and child_pid != parent_pid
        with engine.connect() as conn:
            assert conn.execute(text("SELECT pg_backend_pid()")).scalar() == parent_pid
    finally:
        engine.dispose()


def test_an_unreachable_server_is_one_clear_message_without_the_password():
    """No server at the address: a bilingual DatabaseUnavailable naming the URL, never its password."""
    engine = make_engine(f"postgresql://dossier:s3cret-pw@127.0.0.1:{free_port()}/records?connect_timeout=2")
    try:
        with pytest.raises(DatabaseUnavailable) as caught:
            check_reachable(engine)
    finally:
        engine.dispose()
    message = caught.value.message
    assert "无法连接记录数据库" in message and "cannot reach the records database" in message
    assert "127.0.0.1" in message and "DOSSIER_DATABASE_URL" in message and "s3cret-pw" not in message


def test_the_embedded_index_refuses_postgresql_records(tmp_path, postgres_url):
    """`Dossier.open` on PostgreSQL records without DOSSIER_OPENSEARCH_URL fails with the bilingual reason."""
    from dossier.app.services import Dossier

    with pytest.raises(DossierError) as caught:
        Dossier.open(_pg_settings(tmp_path, _plain(postgres_url)), require_init=False)
    message = caught.value.message
    assert "SQLite" in message and "DOSSIER_OPENSEARCH_URL" in message
    assert "需要" in message and "needs a SQLite database" in message


def test_dossier_init_on_postgresql_without_opensearch_exits_with_the_reason(tmp_path, postgres_url):
    """`dossier init` (a real process) prints the one-line reason, no traceback, and exits non-zero."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOSSIER_")}
    env.update(
        DOSSIER_HOME=str(tmp_path / "home"),
        DOSSIER_DATABASE_URL=_plain(postgres_url),
        DOSSIER_REDIS_URL="redis://127.0.0.1:1/0",
    )
    done = subprocess.run(
        [sys.executable, "-m", "dossier", "init"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout
    assert "错误 / error:" in done.stderr and "DOSSIER_OPENSEARCH_URL" in done.stderr
    assert "SQLite" in done.stderr
    engine = make_engine(postgres_url)
    try:
        assert not is_migrated(engine)  # refused before touching the schema
    finally:
        engine.dispose()


def test_a_malformed_database_url_is_a_message_not_a_traceback(tmp_path):
    """`DOSSIER_DATABASE_URL=nonsense`: the CLI says what is wrong with it and exits 1."""
    from dossier.cli import cli

    result = CliRunner(
        env={"DOSSIER_DATABASE_URL": "nonsense", "DOSSIER_REDIS_URL": "redis://127.0.0.1:1/0"}
    ).invoke(cli, ["--home", str(tmp_path), "init"], catch_exceptions=False)
    assert (
        result.exit_code == 1 and "DOSSIER_DATABASE_URL" in result.output and "Traceback" not in result.output
    )
