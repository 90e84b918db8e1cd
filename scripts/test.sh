#!/usr/bin/env bash
# Runs every Playhouse test: unit, property, doc and integration tests of the
# whole workspace, then the Autobahn|Testsuite conformance run (kosoku) of
# the transport's echo endpoint. Installs what it needs (a Python venv in
# .venv for kosoku). Needs only the Rust toolchain and Python 3.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo test (workspace: unit, proptest, doc, integration)"
cargo test --workspace --all-targets
cargo test --workspace --doc

echo "== Autobahn conformance (cases 1.* to 10.*)"
bash scripts/conformance.sh
