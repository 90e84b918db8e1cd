#!/usr/bin/env bash
# RFC 6455 conformance: runs the Autobahn TestSuite cases 1.* to 10.* (through
# kosoku, a native runner of the Autobahn case files) against the echo example
# (framework/examples/echo.rs), which runs on the production transport.
#
# Needs only Rust and Python 3. Creates or reuses a venv at .venv in the
# repository root, builds the echo example in release mode, starts it on a
# free port, runs the suite, and checks the JSON index kosoku writes:
# every case's behavior and behaviorClose must be OK, NON-STRICT or
# INFORMATIONAL. Prints "autobahn: N passed, N failed" (CI reads the
# "N passed, N failed" line) and the failing cases, and exits non-zero if
# any case failed or the run did not complete.
#
# Environment (all optional):
#   CONFORMANCE_CASES        space-separated case globs (default 1.* to 10.*)
#   CONFORMANCE_PARALLELISM  cases run at once (default 2)
#   CONFORMANCE_TIMEOUT      seconds allowed for kosoku (default 1200)
#   CONFORMANCE_OUTDIR       report directory (default reports/autobahn)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# The Autobahn suite has no group 8 (kosoku rejects a glob that matches
# nothing), so "1.* to 10.*" is these nine groups.
cases="${CONFORMANCE_CASES:-1.* 2.* 3.* 4.* 5.* 6.* 7.* 9.* 10.*}"
parallelism="${CONFORMANCE_PARALLELISM:-2}"
kosoku_timeout="${CONFORMANCE_TIMEOUT:-1200}"
outdir="${CONFORMANCE_OUTDIR:-reports/autobahn}"
kosoku_version="0.1.0"

log() { printf 'conformance: %s\n' "$*" >&2; }

# coreutils `timeout` (macOS: `gtimeout` from Homebrew coreutils).
timeout_cmd="$(command -v timeout || command -v gtimeout || true)"
if [[ -z "$timeout_cmd" ]]; then
    log "needs coreutils 'timeout' to bound the run"
    exit 1
fi

# --- Python venv with kosoku ---------------------------------------------
venv="$root/.venv"
installed="$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("kosoku"))' 2>/dev/null || true)"
if [[ ! -x "$venv/bin/kosoku" || "$installed" != "$kosoku_version" ]]; then
    log "preparing $venv (kosoku==$kosoku_version)"
    [[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check "kosoku==$kosoku_version"
fi

# --- echo server -----------------------------------------------------------
log "building the echo example (release)"
cargo build -q --release -p playhouse --example echo
target_dir="$(cargo metadata --format-version 1 --no-deps | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
echo_bin="$target_dir/release/examples/echo"

workdir="$(mktemp -d)"
echo_pid=""
cleanup() {
    if [[ -n "$echo_pid" ]] && kill -0 "$echo_pid" 2>/dev/null; then
        kill "$echo_pid" 2>/dev/null || true
        # actix-web shuts down gracefully on SIGTERM; don't wait for stragglers.
        for _ in 1 2 3 4 5 6 7 8 9 10; do
            kill -0 "$echo_pid" 2>/dev/null || break
            sleep 0.2
        done
        kill -9 "$echo_pid" 2>/dev/null || true
        wait "$echo_pid" 2>/dev/null || true
    fi
    rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$echo_bin" --addr 127.0.0.1:0 >"$workdir/echo.out" 2>"$workdir/echo.err" &
echo_pid=$!

addr=""
for _ in $(seq 1 100); do
    addr="$(sed -n 's/^LISTENING //p' "$workdir/echo.out" | head -n1)"
    [[ -n "$addr" ]] && break
    if ! kill -0 "$echo_pid" 2>/dev/null; then
        log "echo server exited early:"
        cat "$workdir/echo.err" >&2
        exit 1
    fi
    sleep 0.1
done
if [[ -z "$addr" ]]; then
    log "echo server did not report its address within 10 s"
    exit 1
fi
log "echo server on $addr (pid $echo_pid)"

# --- run the suite -----------------------------------------------------------
rm -rf "$outdir"
mkdir -p "$outdir"
include=()
for c in $cases; do include+=(-i "$c"); done

log "running kosoku: cases [$cases], parallelism $parallelism, timeout ${kosoku_timeout}s"
start=$(date +%s)
kosoku_rc=0
# kosoku exits 1 when a case fails (judged below from the report, with the
# same rules plus behaviorClose); anything else without a report is an error.
"$timeout_cmd" --kill-after=10 "$kosoku_timeout" \
    "$venv/bin/kosoku" -m fuzzingclient "${include[@]}" -p "$parallelism" -o "$outdir" "$addr" \
    >"$workdir/kosoku.out" 2>&1 || kosoku_rc=$?
elapsed=$(($(date +%s) - start))
log "kosoku finished in ${elapsed}s (exit $kosoku_rc)"

if [[ $kosoku_rc -eq 124 || $kosoku_rc -eq 137 ]]; then
    log "kosoku timed out after ${kosoku_timeout}s"
    tail -n 20 "$workdir/kosoku.out" >&2
    echo "autobahn: 0 passed, 1 failed"
    exit 1
fi
if ! kill -0 "$echo_pid" 2>/dev/null; then
    log "the echo server died during the run:"
    tail -n 20 "$workdir/echo.err" >&2
fi

index="$outdir/index.json"
if [[ ! -f "$index" ]]; then
    index="$(find "$outdir" -name index.json -print -quit)"
fi
if [[ -z "$index" || ! -f "$index" ]]; then
    log "no index.json under $outdir; kosoku said:"
    tail -n 20 "$workdir/kosoku.out" >&2
    echo "autobahn: 0 passed, 1 failed"
    exit 1
fi

# --- judge the report ----------------------------------------------------------
"$venv/bin/python" - "$index" "$cases" <<'PY'
import json
import re
import sys

index_path, globs = sys.argv[1], sys.argv[2].split()
GOOD = {"OK", "NON-STRICT", "INFORMATIONAL"}


def key(case_id):
    return [int(p) if p.isdigit() else p for p in re.split(r"[.]", case_id)]


with open(index_path) as f:
    index = json.load(f)

results = {}
for agent_cases in index.values():
    results.update(agent_cases)

passed, failed = 0, []
for case_id in sorted(results, key=key):
    r = results[case_id]
    behavior = r.get("behavior")
    close = r.get("behaviorClose")
    if behavior in GOOD and (close is None or close in GOOD):
        passed += 1
    else:
        failed.append((case_id, behavior, close, r.get("remoteCloseCode")))

# Every selected group must have run: a crash must not look like a pass.
missing = [g for g in globs if not any(re.fullmatch(re.escape(g).replace(r"\*", ".*"), c) for c in results)]

print(f"autobahn: {passed} passed, {len(failed) + len(missing)} failed")
for case_id, behavior, close, code in failed:
    print(f"  FAILED {case_id}: behavior={behavior} behaviorClose={close} remoteCloseCode={code}")
for g in missing:
    print(f"  FAILED {g}: no case of this group in the report")
non_strict = [c for c in sorted(results, key=key) if results[c].get("behavior") == "NON-STRICT"]
if non_strict:
    print(f"  (non-strict: {', '.join(non_strict)})")
sys.exit(1 if failed or missing else 0)
PY
