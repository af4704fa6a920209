#!/usr/bin/env bash
# `make test`: everything the tests need, then all tests (the Makefile installs Lua, SQLite's headers,
# jsonschema and tsc first). A real Airflow (scripts/airflow-test.sh), a real Prometheus
# (scripts/prometheus-test.sh) and a real Alertmanager (scripts/alertmanager-test.sh) start while the tests
# build, serve the integration tests, and are stopped whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
SWIFT="${SWIFT:-swift}"
t0=$SECONDS
scripts/airflow-test.sh install
scripts/prometheus-test.sh install
scripts/alertmanager-test.sh install
mkdir -p .build
( scripts/airflow-test.sh start > .build/airflow-start.log 2>&1; echo $? > .build/airflow-start.rc ) &
starter=$!
trap 'scripts/airflow-test.sh stop > /dev/null 2>&1 || true; scripts/prometheus-test.sh stop > /dev/null 2>&1 || true; scripts/alertmanager-test.sh stop > /dev/null 2>&1 || true' EXIT
scripts/prometheus-test.sh start
scripts/alertmanager-test.sh start
$SWIFT build --build-tests
wait $starter || true
cat .build/airflow-start.log
if [ "$(cat .build/airflow-start.rc)" != 0 ]; then echo "error: the test Airflow did not start (above)" >&2; exit 1; fi
eval "export $(scripts/airflow-test.sh env) $(scripts/prometheus-test.sh env) $(scripts/alertmanager-test.sh env)"
export MEOW_REQUIRE_AIRFLOW=1 MEOW_REQUIRE_PROMETHEUS=1 MEOW_REQUIRE_ALERTMANAGER=1 MEOW_REQUIRE_TSC=1
$SWIFT test --skip-build
.build/debug/meow check --rules rules
.build/debug/meow test --rules rules
echo "make test: all passed in $((SECONDS - t0)) s"
