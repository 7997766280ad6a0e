# shellcheck shell=bash
# PostgreSQL for the records tests in CI.  Sourced by .ci/run, which then calls `start_postgres`.
#
# start_postgres: installs Debian's `postgresql` package when it is missing, starts a throwaway
# cluster (owned by and run as the `postgres` user under root: PostgreSQL refuses to run as root)
# on 127.0.0.1, port 55432 or the next free one, creates the superuser role `dossier_test`
# (password authentication over TCP), waits until it answers and exports
#   DOSSIER_TEST_POSTGRES_URL=postgresql://dossier_test:dossier_test@127.0.0.1:PORT/postgres
# for the tests (tests/_postgres.py: each test creates and drops its own database through it).
# Any failure stops CI with the server's log: the PostgreSQL tests must run, never be skipped.
# An already set DOSSIER_TEST_POSTGRES_URL is used as it is (checked to answer).  The cluster is
# stopped and removed when .ci/run exits (added to any EXIT trap already set).

_pg_fail() {
  echo "==> PostgreSQL 无法启动 / could not start PostgreSQL for the tests: $*" >&2
  if [ -n "${_PG_DIR:-}" ] && [ -f "$_PG_DIR/server.log" ]; then
    echo "---- server.log ----" >&2
    tail -n 40 "$_PG_DIR/server.log" >&2 || true
  fi
  exit 1
}

_pg_as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

_pg_port_busy() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

stop_postgres() {
  if [ -n "${_PG_DIR:-}" ] && [ -d "$_PG_DIR/data" ]; then
    _pg_as_owner "$_PG_BIN/pg_ctl" -D "$_PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if [ -n "${_PG_DIR:-}" ]; then
    rm -rf "$_PG_DIR"
  fi
}

start_postgres() {
  local sudo="" port password="dossier_test" prev_trap=""
  if [ -n "${DOSSIER_TEST_POSTGRES_URL:-}" ]; then
    echo "==> DOSSIER_TEST_POSTGRES_URL is set: the records tests use that PostgreSQL"
    python3 - <<'PY' || _pg_fail "DOSSIER_TEST_POSTGRES_URL does not answer"
import os, socket, sys, urllib.parse
url = urllib.parse.urlsplit(os.environ["DOSSIER_TEST_POSTGRES_URL"])
try:
    socket.create_connection((url.hostname or "127.0.0.1", url.port or 5432), timeout=10).close()
except OSError as exc:
    sys.exit(f"{url.hostname}:{url.port or 5432}: {exc}")
PY
    return 0
  fi
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if ! dpkg-query -W -f='${Status}' postgresql 2>/dev/null | grep -q "ok installed"; then
    echo "==> 安装 / installing postgresql"
    $sudo apt-get update -qq || _pg_fail "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql \
      || _pg_fail "apt-get install postgresql failed"
  fi
  _PG_BIN=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/initdb' 2>/dev/null | sort -V | tail -n 1)
  _PG_BIN=${_PG_BIN%/initdb}
  [ -n "$_PG_BIN" ] && [ -x "$_PG_BIN/pg_ctl" ] || _pg_fail "no initdb/pg_ctl under /usr/lib/postgresql/*/bin"
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    _pg_fail "running as root but the 'postgres' user (made by the postgresql package) does not exist"
  fi
  _PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/dossier-ci-pg.XXXXXX")
  chmod 755 "$_PG_DIR"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$_PG_DIR"
  fi
  port=55432
  while _pg_port_busy "$port"; do
    port=$((port + 1))
    [ "$port" -lt 55532 ] || _pg_fail "no free port in 55432-55531"
  done
  printf '%s\n' "$password" > "$_PG_DIR/pwfile"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$_PG_DIR/pwfile"
  (cd "$_PG_DIR" && _pg_as_owner "$_PG_BIN/initdb" -D "$_PG_DIR/data" -U postgres --pwfile="$_PG_DIR/pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --no-locale >"$_PG_DIR/initdb.log" 2>&1) \
    || { cat "$_PG_DIR/initdb.log" >&2; _pg_fail "initdb failed"; }
  (cd "$_PG_DIR" && _pg_as_owner "$_PG_BIN/pg_ctl" -D "$_PG_DIR/data" -l "$_PG_DIR/server.log" -w -t 60 \
      -o "-p $port -c listen_addresses=127.0.0.1 -k $_PG_DIR -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null) || _pg_fail "pg_ctl start failed"
  eval "prev_trap=$(trap -p EXIT | sed -e 's/^trap -- //' -e 's/ EXIT$//')"
  # shellcheck disable=SC2064  # expand now: the trap keeps whatever was registered before it
  trap "stop_postgres; ${prev_trap:-:}" EXIT
  local tries=0
  until _pg_as_owner "$_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$port"; do
    tries=$((tries + 1))
    [ "$tries" -lt 60 ] || _pg_fail "the server does not answer on port $port"
    sleep 1
  done
  _pg_as_owner "$_PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$_PG_DIR" -p "$port" -U postgres -d postgres \
    -c "CREATE ROLE dossier_test LOGIN SUPERUSER PASSWORD '$password'" || _pg_fail "cannot create the test role"
  export DOSSIER_TEST_POSTGRES_URL="postgresql://dossier_test:${password}@127.0.0.1:${port}/postgres"
  PGPASSWORD="$password" _pg_as_owner "$_PG_BIN/psql" -X -q -h 127.0.0.1 -p "$port" -U dossier_test -d postgres \
    -c "SELECT 1" >/dev/null || _pg_fail "the test role cannot log in over TCP"
  echo "==> PostgreSQL $("$_PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:${port}" \
    "(DOSSIER_TEST_POSTGRES_URL=postgresql://dossier_test:***@127.0.0.1:${port}/postgres)"
}
