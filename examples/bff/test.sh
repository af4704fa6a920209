#!/usr/bin/env bash
# Type-checks and compiles the BFF example, then runs its smoke test against a running meow.
#
#   MEOW_URL=http://127.0.0.1:7070 MEOW_TOKEN_VIEWER=... MEOW_TOKEN_OPERATOR=... MEOW_TOKEN_APPROVER=... \
#     examples/bff/test.sh
#
# Needs node 20.6+ and tsc (Debian: apt-get install node-typescript); no npm packages. MEOW_URL must be a
# loopback address: the test approves and rejects actions, so it is for a test meow only.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

for name in MEOW_URL MEOW_TOKEN_VIEWER MEOW_TOKEN_OPERATOR MEOW_TOKEN_APPROVER; do
  if [[ -z "${!name:-}" ]]; then
    echo "test.sh: set $name (see examples/bff/README.md)" >&2
    exit 2
  fi
done
case "$MEOW_URL" in
  http://127.0.0.1:* | http://127.0.0.1 | http://localhost:* | http://localhost | "http://[::1]:"* | "http://[::1]") ;;
  *)
    echo "test.sh: MEOW_URL must be a loopback http:// address, got $MEOW_URL" >&2
    exit 2
    ;;
esac
command -v tsc >/dev/null || { echo "test.sh: tsc not found (apt-get install node-typescript)" >&2; exit 2; }
command -v node >/dev/null || { echo "test.sh: node not found" >&2; exit 2; }
major="$(node -p 'process.versions.node.split(".")[0]')"
[[ "$major" -ge 20 ]] || { echo "test.sh: node 20 or later needed, found $(node --version)" >&2; exit 2; }

build="$(mktemp -d "${TMPDIR:-/tmp}/meow-bff.XXXXXX")"
trap 'rm -rf "$build"' EXIT

echo "test.sh: tsc $(tsc --version | awk '{print $2}') -p $here"
tsc -p "$here" --outDir "$build" --pretty false
# tsc writes ES modules (tsconfig "module": "ES2022"); node reads .js as ES modules only under "type": "module"
printf '{"type": "module"}\n' >"$build/package.json"

echo "test.sh: node $(node --version) smoke test"
timeout 58 node --import "$here/test/register-extensionless.mjs" "$build/test/smoke.js"
