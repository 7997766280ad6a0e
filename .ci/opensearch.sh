#!/usr/bin/env bash
# A real single-node OpenSearch for development and tests, without Docker (BRIEF §5):
# the integ-test-zip distribution from Maven Central, run with the machine's Java 17.
#
#   .ci/opensearch.sh start [PORT] [DIR]   fetch if needed, start in the background, wait until it answers;
#                                          prints the URL to export as DOSSIER_OPENSEARCH_URL
#   .ci/opensearch.sh stop [DIR|PORT]      stop the node started with that DIR (or on PORT with the default DIR)
#
# DIR (default ~/.cache/dossier/opensearch-node-PORT, /var/tmp/dossier/… as root) holds the node's data, logs and pid file.
# OpenSearch refuses to run as root: under root the node runs as the system user `opensearch`
# (created if missing).  OPENSEARCH_VERSION (default 2.19.1; 3.x needs Java 21) and
# OPENSEARCH_HEAP (default 512m) may be set.  Exits non-zero, with the node's log, if it cannot start.
set -euo pipefail

VERSION=${OPENSEARCH_VERSION:-2.19.1}
HEAP=${OPENSEARCH_HEAP:-512m}
if [ "$(id -u)" -eq 0 ]; then CACHE=${DOSSIER_CACHE:-/var/tmp/dossier}; else CACHE=${DOSSIER_CACHE:-$HOME/.cache/dossier}; fi
ARTIFACT="org.opensearch.distribution.integ-test-zip:opensearch:${VERSION}:zip"
ZIP="$HOME/.m2/repository/org/opensearch/distribution/integ-test-zip/opensearch/${VERSION}/opensearch-${VERSION}.zip"
DIST="$CACHE/opensearch-${VERSION}"
SUDO=$([ "$(id -u)" -eq 0 ] || echo sudo)

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'opensearch.sh: %s\n' "$*" >&2; exit 1; }

java_home() {
  # OpenSearch 2.x runs on Java 17; prefer it over any newer JDK on the machine.
  for candidate in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-arm64 /usr/lib/jvm/java-17-openjdk; do
    [ -x "$candidate/bin/java" ] && { echo "$candidate"; return; }
  done
  command -v java >/dev/null || die "no Java: install openjdk-17-jre-headless"
  dirname "$(dirname "$(readlink -f "$(command -v java)")")"
}

fetch() {
  [ -x "$DIST/bin/opensearch" ] && return
  if ! command -v mvn >/dev/null; then
    say "installing Maven and Java 17 (apt)"
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends maven openjdk-17-jre-headless unzip
  fi
  command -v unzip >/dev/null || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq unzip; }
  if [ ! -f "$ZIP" ]; then
    say "fetching OpenSearch ${VERSION} (${ARTIFACT}) from Maven Central"
    mvn -q -B dependency:get -Dartifact="$ARTIFACT" -Dtransitive=false >&2 || die "could not fetch $ARTIFACT"
  fi
  mkdir -p "$CACHE"
  rm -rf "$DIST.tmp" && mkdir -p "$DIST.tmp"
  unzip -q "$ZIP" -d "$DIST.tmp"
  mv "$DIST.tmp/opensearch-${VERSION}" "$DIST" && rmdir "$DIST.tmp"
}

run_as() {
  if [ "$(id -u)" -eq 0 ]; then
    id opensearch >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin opensearch
    runuser -u opensearch -- "$@"
  else
    "$@"
  fi
}

start() {
  local port=${1:-9200}
  local dir=${2:-$CACHE/opensearch-node-$port}
  command -v curl >/dev/null || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq curl; }
  fetch
  mkdir -p "$dir/data" "$dir/logs"
  if [ "$(id -u)" -eq 0 ]; then
    id opensearch >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin opensearch
    chown -R opensearch "$dir"
    # The node reads its distribution and writes its config folder's keystore.
    chown -R opensearch "$DIST"
    # Every folder above the data must be passable for the node's user.
    local up=$dir
    while [ "$up" != "/" ]; do chmod o+x "$up" 2>/dev/null || true; up=$(dirname "$up"); done
    up=$DIST
    while [ "$up" != "/" ]; do chmod o+x "$up" 2>/dev/null || true; up=$(dirname "$up"); done
  fi
  if curl -fsS "http://127.0.0.1:$port/" >/dev/null 2>&1; then
    die "something already answers on port $port"
  fi
  say "starting OpenSearch ${VERSION} on 127.0.0.1:$port (data in $dir)"
  run_as env JAVA_HOME="$(java_home)" OPENSEARCH_JAVA_OPTS="-Xms$HEAP -Xmx$HEAP" \
    "$DIST/bin/opensearch" -d -p "$dir/pid" \
      -Ediscovery.type=single-node -Ecluster.name="dossier-$port" -Enode.name="dossier-$port" \
      -Enetwork.host=127.0.0.1 -Ehttp.port="$port" -Etransport.port="$((port + 100))" \
      -Epath.data="$dir/data" -Epath.logs="$dir/logs" \
      -Ecluster.routing.allocation.disk.threshold_enabled=false \
      -Eaction.auto_create_index=false >"$dir/logs/stdout.log" 2>&1 \
    || { tail -n 50 "$dir/logs/stdout.log" >&2; die "OpenSearch did not start"; }
  for _ in $(seq 1 180); do
    if curl -fsS "http://127.0.0.1:$port/_cluster/health?wait_for_status=yellow&timeout=1s" >/dev/null 2>&1; then
      echo "http://127.0.0.1:$port"
      return
    fi
    sleep 1
  done
  tail -n 50 "$dir/logs/"*.log >&2 || true
  die "OpenSearch did not answer on port $port within 180 s"
}

stop() {
  local dir=${1:-9200}
  case "$dir" in *[!0-9]*) ;; *) dir=$CACHE/opensearch-node-$dir ;; esac  # a port: its default folder
  [ -f "$dir/pid" ] || return 0
  local pid
  pid=$(cat "$dir/pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || { rm -f "$dir/pid"; return 0; }; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/pid"
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) shift; stop "$@" ;;
  *) die "usage: $0 start [PORT] [DIR] | stop [DIR]" ;;
esac
