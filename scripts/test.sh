#!/usr/bin/env bash
# Runs every Playhouse test: unit, property, doc and integration tests of the
# whole workspace (the cluster tests start their own redis-server on a free
# port); the Autobahn|Testsuite conformance run (kosoku) of the
# transport's echo endpoint; the JS SDK's tests under Node; the nginx
# deployment config against a real nginx; the browser client's tests in
# headless Chromium. Installs what it needs (a Python venv in .venv for
# kosoku, npm packages from lockfiles, Debian's redis-server, nginx-light
# and chromium where missing, and openssl where missing). Needs the Rust toolchain,
# Python 3 and Node 20.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null; then
  echo "== installing Debian's redis-server (the cluster tests start their own)"
  if [[ $(id -u) -ne 0 ]]; then
    echo "error: redis-server is missing; install it as root: apt-get install redis-server" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi

echo "== cargo build -p arena -p playhouse-cli --bins (tests run the real arena and playhouse binaries)"
# cargo test builds a bin only as a test harness, never target/debug/arena.
cargo build -p arena -p playhouse-cli --bins

echo "== cargo build -p playhouse --examples (tests/integration/examples.rs runs each)"
# The features the workspace's tests unify to, so this build is the one
# `cargo test --workspace` reuses (and `two_nodes` needs `redis`).
cargo build -p playhouse --examples --features tls,fuzzing,redis

echo "== cargo test (workspace: unit, proptest, doc, integration)"
cargo test --workspace --all-targets
cargo test --workspace --doc

echo "== Autobahn conformance (cases 1.* to 10.*)"
bash scripts/conformance.sh

echo "== JS SDK (framework/js)"
bash scripts/test-js.sh

echo "== Behind nginx (deploy/nginx/playhouse.conf against Debian's nginx)"
bash scripts/test-nginx.sh

echo "== A cluster behind nginx (deploy/nginx/cluster.conf, Redis, three arena nodes)"
bash scripts/test-nginx-cluster.sh

echo "== Browser client (game-example/web): unit tests, then headless Chromium end to end"
bash scripts/test-e2e.sh
