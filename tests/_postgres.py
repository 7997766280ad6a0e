"""A real PostgreSQL for tests: the server named by ``DOSSIER_TEST_POSTGRES_URL``, or a throwaway cluster.

:func:`server_from_environment` answers, in this order:

1. ``DOSSIER_TEST_POSTGRES_URL`` is set → that server (CI starts one and sets it). Its role must
   be allowed to create databases; nothing else on it is touched.
2. PostgreSQL's server binaries are installed (Debian's ``postgresql`` package puts them in
   ``/usr/lib/postgresql/<version>/bin``) → a cluster made with ``initdb`` in a temporary folder
   and started with ``pg_ctl`` on a free port, stopped and removed by :meth:`PostgresServer.stop`.
   PostgreSQL refuses to run as root, so under root the cluster belongs to, and runs as, an
   unprivileged user (the ``postgres`` user the Debian package creates, else ``nobody``).
3. Neither → ``None``; the fixtures skip PostgreSQL tests with :data:`NOT_AVAILABLE` as the reason.

Each test then gets a fresh database of its own (:meth:`PostgresServer.create_database`),
dropped after it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from tests._redis import free_port

ENV_URL = "DOSSIER_TEST_POSTGRES_URL"
NOT_AVAILABLE = (
    f"no PostgreSQL: {ENV_URL} is unset and no server binaries (initdb, pg_ctl) are installed"
    " (apt-get install postgresql; make test's CI provisions one)"
)
_UNPRIVILEGED = ("postgres", "nobody")


def find_bindir() -> Path | None:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres``: on PATH, else the newest Debian version."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    candidates = sorted(
        (Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")),
        key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0,
    )
    for bindir in reversed(candidates):
        if (bindir / "pg_ctl").exists() and (bindir / "postgres").exists():
            return bindir
    return None


def _run_as_user() -> str | None:
    """The unprivileged user to run the cluster as when this process is root (None when it is not)."""
    if os.geteuid() != 0:
        return None
    for name in _UNPRIVILEGED:
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    raise RuntimeError(
        "running as root and neither a 'postgres' nor a 'nobody' user exists to run PostgreSQL"
    )


class PostgresServer:
    """A PostgreSQL server the tests may create databases on; ``admin_url`` reaches its ``postgres`` database."""

    def __init__(self, admin_url: str, process_owner: _Cluster | None = None) -> None:
        url = make_url(admin_url)
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        self.admin_url: URL = url
        self._cluster = process_owner

    def _admin(self):  # a fresh autocommit engine: CREATE/DROP DATABASE refuse transactions
        return create_engine(self.admin_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)

    def wait_ready(self, timeout: float = 30) -> None:
        """Return once the server answers a query; RuntimeError (with the last error) after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        engine = self._admin()
        last: Exception | None = None
        try:
            while time.monotonic() < deadline:
                try:
                    with engine.connect() as conn:
                        conn.execute(text("SELECT 1"))
                    return
                except Exception as exc:  # not up yet: keep asking until the deadline
                    last = exc
                    time.sleep(0.2)
        finally:
            engine.dispose()
        raise RuntimeError(
            f"PostgreSQL at {self.admin_url.render_as_string(hide_password=True)} does not answer: {last}"
        )

    def create_database(self) -> str:
        """Create an empty UTF-8 database and return its URL (``postgresql+psycopg://…``)."""
        name = f"dossier_test_{uuid.uuid4().hex[:12]}"
        engine = self._admin()
        try:
            with engine.connect() as conn:
                conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
        finally:
            engine.dispose()
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        """Drop a database made by :meth:`create_database`, closing whatever still holds a connection to it."""
        name = make_url(url).database
        engine = self._admin()
        try:
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            engine.dispose()

    def stop(self) -> None:
        """Stop and remove the throwaway cluster (nothing for a server given by URL)."""
        if self._cluster is not None:
            self._cluster.stop()
            self._cluster = None


class _Cluster:
    """``initdb`` + ``pg_ctl start`` in a temporary folder, run as an unprivileged user under root."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.user = _run_as_user()
        # Not under pytest's tmp_path: that is private to root (0700), and the server's user must reach it.
        self.root = Path(tempfile.mkdtemp(prefix="dossier-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
            "--no-sync",
        )
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        )
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, cwd=self.root, check=False)
        if done.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()} {tail}"
            )

    def stop(self) -> None:
        """Stop the server fast and remove its folder (idempotent)."""
        if self.data.exists():
            with contextlib.suppress(RuntimeError):  # already stopped
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


def server_from_environment() -> PostgresServer | None:
    """The server the tests use (see the module docstring); None when there is none to be had."""
    url = os.environ.get(ENV_URL, "").strip()
    if url:
        server = PostgresServer(url)
        server.wait_ready()
        return server
    bindir = find_bindir()
    if bindir is None:
        return None
    cluster = _Cluster(bindir)
    server = PostgresServer(cluster.url, cluster)
    try:
        server.wait_ready()
    except RuntimeError:
        server.stop()
        raise
    return server
