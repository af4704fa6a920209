# meow — `make demo` and `make test` work on a fresh Debian 12 machine with Swift.
SHELL := /bin/bash
SWIFT ?= swift
BIN_DEBUG := .build/debug/meow
BIN_RELEASE := .build/release/meow
DEMO_DIR := .build/demo

.PHONY: all build release demo test bench deps pydeps tsc lua sqlite clean help

all: build

help:
	@echo "make demo   build meow and simulate a day of a fleet with faults (no external service needed)"
	@echo "make test   install what the tests need (Lua, a real Airflow, Prometheus and Alertmanager), then run every test (Swift tests + rule tests)"
	@echo "make bench  release build, then the evaluation, fleet simulator, anomaly and HTTP API benchmarks"

# Debian's Lua 5.4 (C build) for the embedded engine; installed only when pkg-config can't find it.
lua:
	@if ! pkg-config --exists lua5.4 2>/dev/null; then \
	  echo "installing liblua5.4-dev (Debian's Lua 5.4 C library) ..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq liblua5.4-dev pkg-config >/dev/null; \
	fi
	@pkg-config --exists lua5.4 || { echo "error: lua5.4 still not found by pkg-config"; exit 1; }

# SQLite's headers for the store (GRDB links the system's libsqlite3); installed only when missing.
sqlite:
	@if [ ! -f /usr/include/sqlite3.h ]; then \
	  echo "installing libsqlite3-dev (SQLite headers for the store) ..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq libsqlite3-dev >/dev/null; \
	fi

# Python's jsonschema checks generated snapshots against docs/schema/snapshot.schema.json in the tests.
pydeps:
	@python3 -c "import jsonschema" 2>/dev/null || python3 -m pip install -q jsonschema

# TypeScript (Debian's node-typescript) type-checks the BFF example (examples/bff) the tests run with node.
tsc:
	@if ! command -v tsc >/dev/null 2>&1; then \
	  echo "installing node-typescript (tsc, for the TypeScript BFF example's test) ..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq node-typescript >/dev/null; \
	fi

deps: lua sqlite

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product meow

# A day of a simulated fleet with injected faults, the standard rules at every step, and the report
# (release build: the simulation runs about six times faster than in debug).
demo: release
	@$(BIN_RELEASE) demo --rules rules
	@echo
	@echo "More: $(BIN_RELEASE) demo --help | $(BIN_RELEASE) simulate --help | docs/simulator.md"

# Installs and starts a real Airflow 3 (scripts/airflow-test.sh: a virtualenv in .build, kept between runs),
# a real Prometheus (scripts/prometheus-test.sh) and a real Alertmanager (scripts/alertmanager-test.sh),
# both Debian's packages, for the integration tests, runs every test, stops them.
test: deps pydeps tsc
	SWIFT=$(SWIFT) scripts/test.sh

bench: release
	$(BIN_RELEASE) bench eval --rules rules --apps 10000
	$(BIN_RELEASE) bench fleet
	$(BIN_RELEASE) bench anomaly --data ../shared/nab-dev/data --labels ../shared/nab-dev/labels/combined_windows.json
	$(BIN_RELEASE) bench api --rules rules --apps 10000

clean:
	rm -rf .build
