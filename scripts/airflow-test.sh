#!/usr/bin/env bash
# A real Airflow 3 for the integration tests, on 127.0.0.1 (docs/plugins.md#airflow; facts in
# ../shared/notes/airflow.md).
#
#   scripts/airflow-test.sh install   virtualenv in .build/airflow-venv (kept between runs), pinned by
#                                     scripts/airflow-constraints.txt (pip freeze of a good install)
#   scripts/airflow-test.sh start     fresh home, db migrate, api-server + scheduler + dag-processor; waits
#                                     until healthy and the test DAGs are parsed (or fails with the logs)
#   scripts/airflow-test.sh stop      stops every process it started
#   scripts/airflow-test.sh env       prints the variables the tests read (MEOW_AIRFLOW_URL, ...)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VERSION="${MEOW_AIRFLOW_VERSION:-3.3.2}"
VENV="$ROOT/.build/airflow-venv"
HOME_DIR="$ROOT/.build/airflow-home"
PORT="${MEOW_AIRFLOW_PORT:-18280}"
URL="http://127.0.0.1:$PORT"

export AIRFLOW_HOME="$HOME_DIR"
export AIRFLOW__CORE__DAGS_FOLDER="$ROOT/Tests/fixtures/airflow/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__PARALLELISM=4
export AIRFLOW__CORE__EXECUTOR=LocalExecutor
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION=False
export AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL=5
export AIRFLOW__API__BASE_URL="$URL"
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="$URL/execution/"
export AIRFLOW__API_AUTH__JWT_SECRET=meow-integration-tests
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=admin:admin
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE="$HOME_DIR/passwords.json"
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="sqlite:///$HOME_DIR/airflow.db"
export AIRFLOW__LOGGING__LOGGING_LEVEL=WARNING
export PATH="$VENV/bin:$PATH"

install() {
  if [ -x "$VENV/bin/airflow" ] && [ "$(cat "$VENV/.meow-version" 2>/dev/null)" = "$VERSION" ]; then return; fi
  echo "installing apache-airflow $VERSION into $VENV (once; kept in .build) ..."
  local t0=$SECONDS
  rm -rf "$VENV"
  if ! python3 -m venv "$VENV" 2>/dev/null; then
    echo "installing python3-venv ..."
    SUDO=$( [ "$(id -u)" = 0 ] || echo sudo )
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq python3-venv > /dev/null
    rm -rf "$VENV"
    python3 -m venv "$VENV"
  fi
  # The constraints file pins every dependency as resolved once (Airflow's own constraint files are
  # on a site this machine may not reach): the same install every time, and no resolver backtracking.
  local constraints="$ROOT/scripts/airflow-constraints.txt"
  if [ "$VERSION" = "$(sed -n 's/^apache-airflow==//p' "$constraints")" ]; then
    "$VENV/bin/pip" install -q "apache-airflow==$VERSION" -c "$constraints"
  else
    "$VENV/bin/pip" install -q "apache-airflow==$VERSION"
  fi
  echo "$VERSION" > "$VENV/.meow-version"
  echo "installed in $((SECONDS - t0)) s"
}

stop() {
  if [ -f "$HOME_DIR/pgids" ]; then
    while read -r pgid; do kill -TERM -- "-$pgid" 2>/dev/null || true; done < "$HOME_DIR/pgids"
    sleep 2
    while read -r pgid; do kill -KILL -- "-$pgid" 2>/dev/null || true; done < "$HOME_DIR/pgids"
    rm -f "$HOME_DIR/pgids"
  fi
}

launch() {  # name, command...: own process group, log in the home
  local name=$1; shift
  setsid "$@" > "$HOME_DIR/$name.log" 2>&1 < /dev/null &
  echo $! >> "$HOME_DIR/pgids"
}

fail() {
  echo "error: Airflow did not come up within ${1}s at $URL. Last lines of its logs:" >&2
  for f in "$HOME_DIR"/*.log; do echo "--- $f" >&2; tail -n 15 "$f" >&2; done
  stop
  exit 1
}

start() {
  install
  stop
  rm -rf "$HOME_DIR"
  mkdir -p "$HOME_DIR"
  echo '{"admin": "admin"}' > "$HOME_DIR/passwords.json"
  local t0=$SECONDS
  airflow db migrate > "$HOME_DIR/migrate.log" 2>&1 || { echo "error: airflow db migrate failed:" >&2; tail -n 30 "$HOME_DIR/migrate.log" >&2; exit 1; }
  launch api-server airflow api-server --host 127.0.0.1 --port "$PORT" --workers 1
  launch scheduler airflow scheduler --skip-serve-logs
  launch dag-processor airflow dag-processor
  local limit=${MEOW_AIRFLOW_START_TIMEOUT:-180}
  # healthy, and the test DAGs parsed
  command -v curl > /dev/null || { echo "error: curl is needed to wait for Airflow" >&2; exit 1; }
  until curl -sf "$URL/api/v2/monitor/health" > /dev/null 2>&1; do
    [ $((SECONDS - t0)) -lt "$limit" ] || fail "$limit"
    sleep 1
  done
  local token
  token=$(curl -sf -X POST "$URL/auth/token" -H 'Content-Type: application/json' -d '{"username":"admin","password":"admin"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
  until curl -sf "$URL/api/v2/dags?tags=meow-test" -H "Authorization: Bearer $token" | grep -q '"total_entries":3'; do
    [ $((SECONDS - t0)) -lt "$limit" ] || fail "$limit"
    sleep 1
  done
  echo "airflow $VERSION up at $URL in $((SECONDS - t0)) s (home $HOME_DIR)"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  env) echo "MEOW_AIRFLOW_URL=$URL MEOW_AIRFLOW_USER=admin MEOW_AIRFLOW_PASSWORD=admin" ;;
  *) echo "usage: $0 install|start|stop|env" >&2; exit 2 ;;
esac
