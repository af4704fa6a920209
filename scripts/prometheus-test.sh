#!/usr/bin/env bash
# A real Prometheus for the integration tests, on 127.0.0.1 (docs/plugins.md#prometheus).
#
#   scripts/prometheus-test.sh install   Debian's prometheus package, when missing
#   scripts/prometheus-test.sh start     a static exporter (Tests/fixtures/prometheus/exporter/metrics) and a
#                                        fresh Prometheus scraping it every second; waits for the first samples
#   scripts/prometheus-test.sh stop
#   scripts/prometheus-test.sh env       the variables the tests read
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="$ROOT/.build/prometheus-test"
PORT="${MEOW_PROMETHEUS_PORT:-19090}"
EXPORTER_PORT="${MEOW_EXPORTER_PORT:-19091}"
URL="http://127.0.0.1:$PORT"

install() {
  command -v prometheus > /dev/null && return
  echo "installing prometheus (Debian package) ..."
  SUDO=$( [ "$(id -u)" = 0 ] || echo sudo )
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq prometheus > /dev/null
}

stop() {
  if [ -f "$DIR/pgids" ]; then
    while read -r pgid; do kill -TERM -- "-$pgid" 2>/dev/null || true; done < "$DIR/pgids"
    sleep 1
    while read -r pgid; do kill -KILL -- "-$pgid" 2>/dev/null || true; done < "$DIR/pgids"
    rm -f "$DIR/pgids"
  fi
}

launch() {
  local name=$1; shift
  setsid "$@" > "$DIR/$name.log" 2>&1 < /dev/null &
  echo $! >> "$DIR/pgids"
}

start() {
  install
  stop
  rm -rf "$DIR"
  mkdir -p "$DIR/data"
  cat > "$DIR/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: meow-test
    static_configs:
      - targets: ["127.0.0.1:$EXPORTER_PORT"]
YAML
  local t0=$SECONDS
  launch exporter python3 -m http.server --bind 127.0.0.1 --directory "$ROOT/Tests/fixtures/prometheus/exporter" "$EXPORTER_PORT"
  launch prometheus prometheus --config.file="$DIR/prometheus.yml" --storage.tsdb.path="$DIR/data" \
    --web.listen-address="127.0.0.1:$PORT" --log.level=warn
  local limit=${MEOW_PROMETHEUS_START_TIMEOUT:-60}
  until curl -sf "$URL/api/v1/query?query=count(meow_dependency_latency_seconds)" 2>/dev/null | grep -q '"value":\[[0-9.]*,"3"\]'; do
    if [ $((SECONDS - t0)) -ge "$limit" ]; then
      echo "error: Prometheus did not come up (or scrape the exporter) within ${limit}s at $URL. Logs:" >&2
      for f in "$DIR"/*.log; do echo "--- $f" >&2; tail -n 15 "$f" >&2; done
      stop
      exit 1
    fi
    sleep 0.5
  done
  echo "prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}') up at $URL in $((SECONDS - t0)) s, scraping 127.0.0.1:$EXPORTER_PORT"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  env) echo "MEOW_PROMETHEUS_URL=$URL" ;;
  *) echo "usage: $0 install|start|stop|env" >&2; exit 2 ;;
esac
