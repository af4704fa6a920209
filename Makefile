# meow — `make demo` and `make test` work on a fresh Debian 12 machine with Swift.
SHELL := /bin/bash
SWIFT ?= swift
BIN_DEBUG := .build/debug/meow
BIN_RELEASE := .build/release/meow
DEMO_DIR := .build/demo

.PHONY: all build release demo test bench deps pydeps lua clean help

all: build

help:
	@echo "make demo   build meow and run it on a generated fleet (no external service needed)"
	@echo "make test   install what the tests need, then run every test (Swift tests + rule tests)"
	@echo "make bench  release build, then the evaluation and anomaly benchmarks"

# Debian's Lua 5.4 (C build) for the embedded engine; installed only when pkg-config can't find it.
lua:
	@if ! pkg-config --exists lua5.4 2>/dev/null; then \
	  echo "installing liblua5.4-dev (Debian's Lua 5.4 C library) ..."; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq liblua5.4-dev pkg-config >/dev/null; \
	fi
	@pkg-config --exists lua5.4 || { echo "error: lua5.4 still not found by pkg-config"; exit 1; }

# Python's jsonschema checks generated snapshots against docs/schema/snapshot.schema.json in the tests.
pydeps:
	@python3 -c "import jsonschema" 2>/dev/null || python3 -m pip install -q jsonschema

deps: lua

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

demo: build
	@mkdir -p $(DEMO_DIR)
	@echo "==> generating a fleet: 600 apps over dev/staging/prod (meow fleet)"
	@$(BIN_DEBUG) fleet --apps 600 --seed 42 --file $(DEMO_DIR)/fleet.json
	@echo "==> checking the standard rules (meow check)"
	@$(BIN_DEBUG) check --rules rules
	@echo "==> dry-running them on the fleet (meow simulate)"
	@$(BIN_DEBUG) simulate --rules rules --state $(DEMO_DIR)/fleet.json --examples 3 || [ $$? -eq 1 ]
	@echo
	@echo "Next: $(BIN_DEBUG) simulate --rules rules --state $(DEMO_DIR)/fleet.json --output json | less"

test: deps pydeps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	$(BIN_DEBUG) check --rules rules
	$(BIN_DEBUG) test --rules rules

bench: release
	$(BIN_RELEASE) bench eval --rules rules --apps 10000
	$(BIN_RELEASE) bench anomaly --data ../shared/nab-dev/data --labels ../shared/nab-dev/labels/combined_windows.json

clean:
	rm -rf .build
