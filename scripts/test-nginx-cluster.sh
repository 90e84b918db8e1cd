#!/usr/bin/env bash
# deploy/nginx/cluster.conf against a real nginx, a real redis-server and
# three real `arena` nodes: players connecting to /ws (least-connections)
# all land in one room, following redirects through /n/<node>/ws; a client
# per node joins that room by id through its /n/<node>/ws; an unknown node
# is a 404 (tests/bin/wss_probe.rs `cluster`).
#
#   bash scripts/test-nginx-cluster.sh
#
# Needs redis-server (scripts/test.sh installs it where missing); installs
# nginx like scripts/test-nginx.sh. Everything runs as the current user on free
# ports of 127.0.0.1, with files in a temp folder; every process it starts
# is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CONF=deploy/nginx/cluster.conf

step() { printf '\n== %s\n' "$*"; }
fail() { echo "error: $*" >&2; exit 1; }
# shellcheck source=scripts/nginx-lib.sh
source scripts/nginx-lib.sh

find_nginx
command -v redis-server >/dev/null || fail "redis-server is missing (bash scripts/test.sh installs it)"

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
  for n in n1 n2 n3; do echo "--- $n stderr" >&2; cat "$TMP/$n.err" >&2 2>/dev/null || true; done
}
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

step "redis-server and three arena nodes"
REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no >"$TMP/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do listening "$REDIS_PORT" && break; sleep 0.1; done
listening "$REDIS_PORT" || fail "redis-server did not start"
NGINX_PORT=$(free_port)
declare -A node_port
for n in n1 n2 n3; do
  RUST_LOG=warn "$ARENA" --addr 127.0.0.1:0 --redis "redis://127.0.0.1:$REDIS_PORT" --node-id "$n" \
    --public-url "ws://127.0.0.1:$NGINX_PORT/n/$n/ws" >"$TMP/$n.out" 2>"$TMP/$n.err" &
  pids+=($!)
done
for n in n1 n2 n3; do
  for _ in $(seq 100); do grep -q '^LISTENING ' "$TMP/$n.out" 2>/dev/null && break; sleep 0.1; done
  addr=$(sed -n 's/^LISTENING //p' "$TMP/$n.out")
  [[ -n $addr ]] || { show_logs; fail "$n did not print LISTENING within 10 s"; }
  node_port[$n]=${addr##*:}
  echo "$n on $addr"
done

step "render $CONF (only the lines marked 'test:')"
sed -e "s|server 127.0.0.1:8081;|server 127.0.0.1:${node_port[n1]};|" \
  -e "s|server 127.0.0.1:8082;|server 127.0.0.1:${node_port[n2]};|" \
  -e "s|server 127.0.0.1:8083;|server 127.0.0.1:${node_port[n3]};|" \
  -e "s|n1 127.0.0.1:8081;|n1 127.0.0.1:${node_port[n1]};|" \
  -e "s|n2 127.0.0.1:8082;|n2 127.0.0.1:${node_port[n2]};|" \
  -e "s|n3 127.0.0.1:8083;|n3 127.0.0.1:${node_port[n3]};|" \
  -e "s|listen 80;|listen 127.0.0.1:$NGINX_PORT;|" \
  "$CONF" >"$TMP/cluster.conf"
for n in n1 n2 n3; do
  grep -qF -- "server 127.0.0.1:${node_port[$n]};" "$TMP/cluster.conf" || fail "$CONF changed: could not substitute $n's upstream"
  grep -qF -- "$n 127.0.0.1:${node_port[$n]};" "$TMP/cluster.conf" || fail "$CONF changed: could not substitute $n's route"
done
grep -qF -- "listen 127.0.0.1:$NGINX_PORT;" "$TMP/cluster.conf" || fail "$CONF changed: could not substitute listen"
write_nginx_conf "$TMP" "$TMP/cluster.conf" 256
"$NGINX" -t -q -p "$TMP" -e "$TMP/error.log" -c "$TMP/nginx.conf" || { show_logs; fail "nginx -t"; }

step "nginx on 127.0.0.1:$NGINX_PORT"
"$NGINX" -p "$TMP" -e "$TMP/error.log" -c "$TMP/nginx.conf" &
pids+=($!)
for _ in $(seq 100); do listening "$NGINX_PORT" && break; sleep 0.1; done
listening "$NGINX_PORT" || { show_logs; fail "nginx is not listening on $NGINX_PORT"; }

step "players through the proxy"
timeout 60 "$PROBE" cluster "127.0.0.1:$NGINX_PORT" --nodes n1,n2,n3 --players 6 || { show_logs; fail "wss-probe cluster"; }
grep -q '"GET /n/n[123]/ws HTTP/1.1" 101 ' "$TMP/access.log" || { cat "$TMP/access.log" >&2; fail "no upgrade through /n/<node>/ws in nginx's access log"; }
grep -q '"GET /ws HTTP/1.1" 101 ' "$TMP/access.log" || fail "no upgrade through /ws"
echo
echo "test-nginx-cluster: one room for every player across three nodes, joins by id through each node, 404 for an unknown node"
