"""A consistent copy of the records database while the product serves and ingests, and putting one back.

SQLite: the online backup API (``sqlite3.Connection.backup`` in one step) copies the whole file
inside one read transaction; with WAL, writers go on meanwhile and the copy is the database as
of one commit.  The copy holds the embedded search index too (a restore rebuilds it anyway).

PostgreSQL: a REPEATABLE READ transaction exports its snapshot (``pg_export_snapshot()``);
``pg_dump -Fc --snapshot`` dumps exactly that snapshot while the same transaction reads the
blob digests, revision and counts of it, so the blobs copied afterwards are exactly those the
dump refers to.  ``pg_restore --single-transaction`` puts a dump back (all or nothing).
The password travels in ``PGPASSWORD``, never on a command line.

Whatever the database, :class:`RecordsCopy` says what the copy holds: the schema revision,
the digests of the originals its versions refer to, and the counts a restore is checked against.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import URL

from foundation.errors import DossierError
from foundation.messages import msg

#: Tables counted in a manifest (and compared after a restore): name -> manifest key.
COUNTED = {
    "documents": "documents",
    "versions": "versions",
    "pages": "pages",
    "customers": "customers",
    "users": "users",
    "audit_events": "audit_events",
}
_VERSIONS_SQL = "SELECT DISTINCT sha256 FROM versions"
_JOBS_SQL = "SELECT DISTINCT sha256 FROM ingest_jobs WHERE sha256 IS NOT NULL"


class BackupError(DossierError):
    """A backup or restore could not be made (the message says why and what to do)."""

    status = 500


@dataclass
class RecordsCopy:
    """What a copy of the records holds: its file, revision, the originals it needs, its counts."""

    path: Path
    revision: str | None
    digests: set[str] = field(default_factory=set)  # of every version: these blobs must be in the backup
    extra: set[str] = field(default_factory=set)  # of intake jobs (duplicates, failures): kept when present
    counts: dict[str, int] = field(default_factory=dict)


def is_postgres(engine: Engine) -> bool:
    """True for the scale-out profile's PostgreSQL records."""
    return engine.url.get_backend_name() == "postgresql"


def records_file_name(engine: Engine) -> str:
    """The name the records copy has in a snapshot."""
    return "records.pgdump" if is_postgres(engine) else "records.sqlite"


def copy_records(engine: Engine, folder: Path) -> RecordsCopy:
    """Copy the records of ``engine`` into ``folder`` as one consistent snapshot."""
    target = folder / records_file_name(engine)
    if is_postgres(engine):
        return _dump_postgres(engine, target)
    return _copy_sqlite(engine, target)


def _digests(conn: Any, sql: str) -> set[str]:
    return {row[0] for row in conn.execute(sql if isinstance(conn, sqlite3.Connection) else text(sql))}


def _copy_sqlite(engine: Engine, target: Path) -> RecordsCopy:
    source = engine.url.database or ""
    if not source or source == ":memory:" or not Path(source).is_file():
        raise BackupError(msg("backup.records.no_file", path=source or ":memory:"))
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        src.backup(dst)  # one step: one read transaction, so one commit's state
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        return describe_sqlite(dst, target)
    finally:
        dst.close()
        src.close()


def describe_sqlite(conn: sqlite3.Connection, path: Path) -> RecordsCopy:
    """Revision, digests and counts of an open SQLite copy."""
    copy = RecordsCopy(path, _revision(conn))
    copy.digests = _digests(conn, _VERSIONS_SQL)
    copy.extra = _digests(conn, _JOBS_SQL) - copy.digests
    copy.counts = {
        key: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table, key in COUNTED.items()
    }
    return copy


def _revision(conn: sqlite3.Connection | Connection) -> str | None:
    sql = "SELECT version_num FROM alembic_version"
    try:
        row = (
            conn.execute(sql).fetchone()
            if isinstance(conn, sqlite3.Connection)
            else conn.execute(text(sql)).first()
        )
    except (sqlite3.Error, Exception):  # no schema at all
        return None
    return None if row is None else str(row[0])


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(msg("backup.records.no_tool", tool=name))
    return found


def libpq_target(url: URL) -> tuple[str, dict[str, str]]:
    """(a libpq connection URI without the password, the environment that carries the password)."""
    plain = url.set(drivername="postgresql", password=None)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return plain.render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str], tool: str) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(
            msg("backup.records.tool_failed", tool=tool, detail=detail[-1] if detail else done.returncode)
        )


def _dump_postgres(engine: Engine, target: Path) -> RecordsCopy:
    pg_dump = _tool("pg_dump")
    uri, env = libpq_target(engine.url)
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            # pg_dump reads the snapshot while this transaction keeps it alive (and reads the same rows below).
            _run(
                [
                    pg_dump,
                    "-Fc",
                    "--no-owner",
                    "--no-acl",
                    f"--snapshot={snapshot}",
                    "-f",
                    str(target),
                    "-d",
                    uri,
                ],
                env,
                "pg_dump",
            )
            copy = RecordsCopy(target, _revision(conn))
            copy.digests = {r[0] for r in conn.execute(text(_VERSIONS_SQL))}
            copy.extra = {r[0] for r in conn.execute(text(_JOBS_SQL))} - copy.digests
            copy.counts = {
                key: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
                for table, key in COUNTED.items()
            }
    return copy


def restore_postgres(engine: Engine, dump: Path) -> None:
    """Load a ``pg_dump -Fc`` file into the (empty) database of ``engine``, all or nothing."""
    pg_restore = _tool("pg_restore")
    uri, env = libpq_target(engine.url)
    engine.dispose()
    _run(
        [
            pg_restore,
            "--no-owner",
            "--no-acl",
            "--single-transaction",
            "--exit-on-error",
            "-d",
            uri,
            str(dump),
        ],
        env,
        "pg_restore",
    )


def drop_empty_schema(engine: Engine, tables: Iterable[str]) -> None:
    """Drop the (empty) tables a ``dossier init`` made, so a dump can be loaded in their place."""
    with engine.begin() as conn:
        for table in tables:
            conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
