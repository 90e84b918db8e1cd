#!/usr/bin/env bash
# The JavaScript client SDK (framework/js, npm package playhouse-client):
# type check, then its tests under Node's test runner: unit tests and
# integration tests against the real `arena` server (spawned on 127.0.0.1).
#
#   bash scripts/test-js.sh
#
# Needs Node 20+ with npm, the Rust toolchain, and openssl (tls.test.js
# makes its certificate with it); redis-server for cluster.test.js (a
# two-node cluster; skipped without it). Installs the SDK's npm
# packages from its lockfile (npm ci) and builds only the arena package.
# ARENA_BIN overrides the server binary (default target/debug/arena).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SDK=framework/js

step() { printf '\n== %s\n' "$*"; }

node_major=$(node -p 'process.versions.node.split(".")[0]')
if (( node_major < 20 )); then
  echo "error: Node 20 or newer is needed, found $(node --version)" >&2
  exit 1
fi

step "openssl (tls.test.js makes a self-signed certificate with it)"
if ! command -v openssl >/dev/null; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "error: openssl is missing; install it as root: apt-get install openssl" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null
fi
openssl version

step "npm ci ($SDK)"
(cd "$SDK" && npm ci --no-audit --no-fund --loglevel=error)

step "tsc --noEmit ($SDK: JSDoc types, strict)"
(cd "$SDK" && npx --no -- tsc --noEmit -p .)  # --no: the local typescript only, never a download

step "cargo build -p arena"
cargo build -p arena
target_dir=${CARGO_TARGET_DIR:-target}
[[ $target_dir == /* ]] || target_dir=$ROOT/$target_dir
export ARENA_BIN=${ARENA_BIN:-$target_dir/debug/arena}

step "node --test ($SDK/test, server: $ARENA_BIN)"
# TAP output: it ends with "# pass N" / "# fail N".
(cd "$SDK" && node --test --test-reporter=tap test/*.test.js)
