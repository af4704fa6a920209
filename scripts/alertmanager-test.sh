#!/usr/bin/env bash
# A real Alertmanager for the incident tests, on 127.0.0.1 (docs/incidents.md).
#
#   scripts/alertmanager-test.sh install   Debian's prometheus-alertmanager package, when missing
#   scripts/alertmanager-test.sh start     a fresh Alertmanager whose one receiver is a webhook on
#                                          127.0.0.1:$MEOW_AM_RECEIVER_PORT (the tests listen there)
#   scripts/alertmanager-test.sh stop
#   scripts/alertmanager-test.sh env       the variables the tests read
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIR="$ROOT/.build/alertmanager-test"
PORT="${MEOW_AM_PORT:-19093}"
RECEIVER_PORT="${MEOW_AM_RECEIVER_PORT:-19094}"
URL="http://127.0.0.1:$PORT"
BIN=/usr/bin/prometheus-alertmanager

install() {
  [ -x "$BIN" ] && return
  echo "installing prometheus-alertmanager (Debian package) ..."
  SUDO=$( [ "$(id -u)" = 0 ] || echo sudo )
  # The package's service is not wanted (and may not start here): the tests run their own instance.
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq prometheus-alertmanager > /dev/null
}

stop() {
  if [ -f "$DIR/pgid" ]; then
    local pgid; pgid=$(cat "$DIR/pgid")
    kill -TERM -- "-$pgid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6; do kill -0 -- "-$pgid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$pgid" 2>/dev/null || true
    rm -f "$DIR/pgid"
  fi
}

start() {
  install
  stop
  rm -rf "$DIR"
  mkdir -p "$DIR/data"
  # Grouped by alertname and environment: meow's incidents of one environment arrive together.
  cat > "$DIR/alertmanager.yml" <<YAML
route:
  receiver: meow-test
  group_by: ['alertname', 'environment']
  group_wait: 1s
  group_interval: 2s
  repeat_interval: 1h
receivers:
  - name: meow-test
    webhook_configs:
      - url: http://127.0.0.1:$RECEIVER_PORT/hook
        send_resolved: true
YAML
  if curl -sf "$URL/-/ready" > /dev/null 2>&1; then
    echo "error: something already answers on $URL (another checkout's test Alertmanager?); MEOW_AM_PORT picks another port" >&2
    exit 1
  fi
  local t0=$SECONDS
  setsid "$BIN" --config.file="$DIR/alertmanager.yml" --storage.path="$DIR/data" \
    --web.listen-address="127.0.0.1:$PORT" --cluster.listen-address= --web.external-url="$URL" \
    --log.level=warn > "$DIR/alertmanager.log" 2>&1 < /dev/null &
  echo $! > "$DIR/pgid"
  local limit=${MEOW_AM_START_TIMEOUT:-30}
  local pid; pid=$(cat "$DIR/pgid")
  # Ready means this Alertmanager answers: another one on the port (a second checkout's tests) is an error.
  until kill -0 "$pid" 2>/dev/null && curl -sf "$URL/-/ready" > /dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "error: Alertmanager exited at start (is 127.0.0.1:$PORT taken? MEOW_AM_PORT picks another). Log:" >&2
      tail -n 5 "$DIR/alertmanager.log" >&2
      rm -f "$DIR/pgid"
      exit 1
    fi
    if [ $((SECONDS - t0)) -ge "$limit" ]; then
      echo "error: Alertmanager did not come up within ${limit}s at $URL. Log:" >&2
      tail -n 20 "$DIR/alertmanager.log" >&2
      stop
      exit 1
    fi
    sleep 0.2
  done
  echo "alertmanager $("$BIN" --version 2>&1 | head -1 | awk '{print $3}') up at $URL in $((SECONDS - t0)) s, webhook receiver expected on 127.0.0.1:$RECEIVER_PORT"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  env) echo "MEOW_ALERTMANAGER_URL=$URL MEOW_AM_RECEIVER_PORT=$RECEIVER_PORT" ;;
  *) echo "usage: $0 install|start|stop|env" >&2; exit 2 ;;
esac
