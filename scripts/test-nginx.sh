#!/usr/bin/env bash
# deploy/nginx/playhouse.conf against a real nginx (Debian's package):
# nginx terminates TLS and proxies to a plain `arena`, and a real Rust client
# (tests/bin/wss_probe.rs) goes wss:// → nginx → ws:// → arena: negotiates
# the subprotocol, idles in the lobby while heartbeats cross the proxy,
# pings, joins and receives states. The effective configuration (`nginx -T`)
# must hold the timeouts and upgrade headers the deploy file promises.
#
#   bash scripts/test-nginx.sh
#
# Installs nginx-light (or nginx) with apt-get when nginx is missing (as
# root). Runs nginx in the foreground as the current user on a free port of
# 127.0.0.1, with its pid, logs and temp files in a temp folder; every
# process it starts is stopped on exit. About 10 s once built.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CONF=deploy/nginx/playhouse.conf

step() { printf '\n== %s\n' "$*"; }
fail() { echo "error: $*" >&2; exit 1; }
checks=0
pass() { checks=$((checks + 1)); echo "ok: $*"; }
# shellcheck source=scripts/nginx-lib.sh
source scripts/nginx-lib.sh

step "nginx"
find_nginx
"$NGINX" -v

step "cargo build -p arena --bin arena, -p playhouse-tests --bin wss-probe"
cargo build -p arena --bin arena
cargo build -p playhouse-tests --bin wss-probe
target_dir=${CARGO_TARGET_DIR:-target}
[[ $target_dir == /* ]] || target_dir=$ROOT/$target_dir
ARENA=${ARENA_BIN:-$target_dir/debug/arena}
PROBE=$target_dir/debug/wss-probe

TMP=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
show_logs() {
  echo "--- nginx error.log" >&2; cat "$TMP/error.log" >&2 2>/dev/null || true
  echo "--- arena stderr" >&2; cat "$TMP/arena.err" >&2 2>/dev/null || true
}


step "certificate (rcgen) and arena (plain ws://, 127.0.0.1 only)"
"$PROBE" cert "$TMP"
RUST_LOG=warn "$ARENA" --addr 127.0.0.1:0 >"$TMP/arena.out" 2>"$TMP/arena.err" &
pids+=($!)
for _ in $(seq 100); do
  grep -q '^LISTENING ' "$TMP/arena.out" 2>/dev/null && break
  sleep 0.1
done
ARENA_ADDR=$(sed -n 's/^LISTENING //p' "$TMP/arena.out")
[[ -n $ARENA_ADDR ]] || { show_logs; fail "arena did not print LISTENING within 10 s"; }
ARENA_PORT=${ARENA_ADDR##*:}
echo "arena on $ARENA_ADDR"

step "render $CONF for the test (only the lines marked 'test:')"
NGINX_PORT=$(free_port)
sed -e "s|server 127.0.0.1:8080;|server 127.0.0.1:$ARENA_PORT;|" \
  -e "s|listen 443 ssl;|listen 127.0.0.1:$NGINX_PORT ssl;|" \
  -e "s|/etc/nginx/tls/fullchain.pem|$TMP/server.pem|" \
  -e "s|/etc/nginx/tls/privkey.pem|$TMP/server.key|" \
  "$CONF" >"$TMP/playhouse.conf"
for want in "server 127.0.0.1:$ARENA_PORT;" "listen 127.0.0.1:$NGINX_PORT ssl;" "$TMP/server.pem;" "$TMP/server.key;"; do
  grep -qF -- "$want" "$TMP/playhouse.conf" || fail "$CONF changed: the test could not substitute '$want'"
done
# A wrapper nginx.conf: everything nginx writes goes under $TMP.
write_nginx_conf "$TMP" "$TMP/playhouse.conf" 64

step "nginx -t, and nginx -T holds what the deploy file promises"
"$NGINX" -t -q -p "$TMP" -e "$TMP/error.log" -c "$TMP/nginx.conf" || { show_logs; fail "nginx -t"; }
"$NGINX" -T -q -p "$TMP" -e "$TMP/error.log" -c "$TMP/nginx.conf" >"$TMP/effective.conf" 2>/dev/null
for directive in \
  'proxy_http_version 1.1;' \
  'proxy_set_header Upgrade $http_upgrade;' \
  'proxy_set_header Connection $connection_upgrade;' \
  'map $http_upgrade $connection_upgrade' \
  'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;' \
  'proxy_read_timeout 75s;' \
  'proxy_send_timeout 75s;' \
  'ssl_protocols TLSv1.2 TLSv1.3;'; do
  grep -qF -- "$directive" "$TMP/effective.conf" || fail "nginx -T lacks: $directive"
done
# The read timeout must outlast the server's own idle (15 s) and stall
# (30 s) timeouts, so the server is the one that closes, with a code.
read_timeout=$(sed -n 's/^ *proxy_read_timeout \([0-9]*\)s;.*/\1/p' "$TMP/effective.conf" | head -1)
(( read_timeout > 30 )) || fail "proxy_read_timeout ${read_timeout}s is not above the server's 30 s stall timeout"
pass "nginx -T: upgrade headers, HTTP/1.1, X-Forwarded-For, TLS 1.2+, proxy_read_timeout ${read_timeout}s > 30 s"

step "nginx on 127.0.0.1:$NGINX_PORT"
"$NGINX" -p "$TMP" -e "$TMP/error.log" -c "$TMP/nginx.conf" &
pids+=($!)
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$NGINX_PORT") 2>/dev/null && break
  sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$NGINX_PORT") 2>/dev/null || { show_logs; fail "nginx is not listening on $NGINX_PORT"; }
pass "nginx started"

step "a Rust client through wss://nginx → ws://arena"
timeout 30 "$PROBE" play "wss://127.0.0.1:$NGINX_PORT/ws" --ca "$TMP/ca.pem" --idle 7 || { show_logs; fail "wss-probe through nginx"; }
pass "negotiated, idled with heartbeats, pinged, joined, received states, closed"
grep -q '"GET /ws HTTP/1.1" 101 ' "$TMP/access.log" || { cat "$TMP/access.log" >&2; fail "no 101 upgrade in nginx's access log"; }
pass "nginx logged the upgrade (101)"

echo
echo "test-nginx: $checks passed, 0 failed"
