#!/usr/bin/env bash
# Browser client of the sample game `arena`: unit tests (node --test) and
# end-to-end tests in real headless Chromium against the real server.
#
#   bash scripts/test-e2e.sh
#
# Installs what it needs and skips what is already there: Debian's Chromium
# (CI runs as root), the npm packages of the JS SDK (framework/js) and of the
# web client (game-example/web). Fails if the committed build in
# game-example/web/dist is not what `npm run build` produces. Builds only the
# arena package (never the whole workspace), into CARGO_TARGET_DIR when set.
# Artifacts: artifacts/e2e/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WEB=game-example/web

step() { printf '\n== %s\n' "$*"; }

step "Chromium"
if [[ ! -x /usr/bin/chromium ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "error: /usr/bin/chromium is missing; install it as root: apt-get install chromium" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
/usr/bin/chromium --version 2>/dev/null || true

# npm ci only when the lockfile changed since the last install in that folder
# (npm records the installed tree in node_modules/.package-lock.json).
npm_ci() {
  local dir=$1
  if [[ -f $dir/node_modules/.package-lock.json && $dir/node_modules/.package-lock.json -nt $dir/package-lock.json ]] \
    && [[ -z ${FORCE_NPM_CI:-} ]]; then
    echo "$dir: node_modules up to date (FORCE_NPM_CI=1 to reinstall)"
  else
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

step "npm ci (framework/js, $WEB)"
npm_ci framework/js
npm_ci "$WEB"

step "npm run build ($WEB) and check the committed dist/ is current"
(cd "$WEB" && npm run --silent build)
if [[ -n ${E2E_SKIP_DIST_CHECK:-} ]]; then
  echo "warning: E2E_SKIP_DIST_CHECK set: not checking that $WEB/dist is committed and current" >&2
elif ! git diff --exit-code --stat -- "$WEB/dist"; then
  echo "error: $WEB/dist is stale: the committed build differs from what npm run build produces." >&2
  echo "fix: (cd $WEB && npm run build) and commit $WEB/dist/" >&2
  exit 1
elif [[ -n $(git ls-files --others --exclude-standard -- "$WEB/dist") ]]; then
  echo "error: $WEB/dist has files that are not committed:" >&2
  git ls-files --others --exclude-standard -- "$WEB/dist" >&2
  echo "fix: commit $WEB/dist/ (index.html, app.js, style.css)" >&2
  exit 1
fi

step "cargo build -p arena"
cargo build -p arena
if [[ -f game-example/src/bin/bots.rs ]]; then
  cargo build -p arena --bin bots
fi

# cargo built into CARGO_TARGET_DIR when it is set (as scripts/test-js.sh reads it)
target_dir=${CARGO_TARGET_DIR:-target}
[[ $target_dir == /* ]] || target_dir=$ROOT/$target_dir
export ARENA_BIN=${ARENA_BIN:-$target_dir/debug/arena}
export BOTS_BIN=${BOTS_BIN:-$target_dir/debug/bots}

step "unit tests ($WEB/test, node --test)"
(cd "$WEB" && node --test test/predict.test.js test/interp.test.js test/model.test.js test/servers.test.js)

step "end-to-end tests (headless Chromium)"
mkdir -p artifacts/e2e
(cd "$WEB" && timeout --kill-after=10 90 node --test --test-timeout=60000 test/e2e.test.js)

step "end-to-end: session resume in the browser (headless Chromium, TCP proxy cuts)"
(cd "$WEB" && timeout --kill-after=10 60 node --test --test-timeout=45000 test/e2e-resume.test.js)
step "end-to-end: a foreign origin cannot open a socket (headless Chromium)"
(cd "$WEB" && timeout --kill-after=10 50 node --test --test-timeout=40000 test/e2e-origin.test.js)
step "end-to-end: two browsers on two cluster nodes play in one room (redis-server, two arena nodes)"
(cd "$WEB" && timeout --kill-after=10 60 node --test --test-timeout=50000 test/e2e-cluster.test.js)
step "end-to-end: a cluster node killed under a browser, the page resumes on the other (redis-server, two arena nodes)"
(cd "$WEB" && timeout --kill-after=10 60 node --test --test-timeout=50000 test/e2e-failover.test.js)
step "end-to-end: the operators' monitor page (headless Chromium, arena with the monitor on, three bots)"
(cd "$WEB" && timeout --kill-after=10 90 node --test --test-timeout=75000 test/e2e-monitor.test.js)
echo "screenshots: artifacts/e2e/arena.png, artifacts/e2e/arena-v1.png, artifacts/e2e/arena-resumed.png, artifacts/e2e/arena-failover.png, artifacts/e2e/monitor.png"
