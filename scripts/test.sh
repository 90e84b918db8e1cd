#!/usr/bin/env bash
# Runs every Playhouse test: unit, property, doc and integration tests of the
# whole workspace; the Autobahn|Testsuite conformance run (kosoku) of the
# transport's echo endpoint; the JS SDK's tests under Node. Installs what it
# needs (a Python venv in .venv for kosoku, npm packages from lockfiles).
# Needs the Rust toolchain, Python 3 and Node 20.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test (workspace: unit, proptest, doc, integration)"
cargo test --workspace --all-targets
cargo test --workspace --doc

echo "== Autobahn conformance (cases 1.* to 10.*)"
bash scripts/conformance.sh

echo "== JS SDK (framework/js)"
bash scripts/test-js.sh
