#!/usr/bin/env bash
# Starts a three-node arena cluster on this machine: a Redis on
# REDIS_PORT (default 6379; started here, keeping nothing on disk, only if
# none answers there) and three `arena` nodes on 127.0.0.1:8081, :8082 and
# :8083 (node ids n1, n2, n3). Ctrl-C stops what it started.
#
#   bash scripts/cluster.sh                 # then open http://127.0.0.1:8081/
#   REDIS_PORT=6390 BASE_PORT=9001 bash scripts/cluster.sh
#
# Every node lists the whole cluster's rooms: curl 127.0.0.1:8082/rooms.
# See docs/cluster.md.
set -euo pipefail
cd "$(dirname "$0")/.."
redis_port="${REDIS_PORT:-6379}"
base_port="${BASE_PORT:-8081}"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

pong() { ( exec 3<>"/dev/tcp/127.0.0.1/$redis_port" && printf 'PING\r\n' >&3 && head -c 5 <&3 | grep -q PONG ) 2>/dev/null; }
if pong; then
  echo "using the Redis already on 127.0.0.1:$redis_port"
else
  command -v redis-server >/dev/null || { echo "error: redis-server is missing: apt-get install redis-server" >&2; exit 1; }
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
  pids+=($!)
  for _ in $(seq 50); do pong && break; sleep 0.1; done
  pong || { echo "error: the Redis started on port $redis_port does not answer" >&2; exit 1; }
  echo "started redis-server on 127.0.0.1:$redis_port"
fi

cargo build --release -p arena --bin arena
# A page served by one node plays on another after a redirect: every node
# allows the three pages' origins.
origins=()
for i in 1 2 3; do origins+=(--allow-origin "http://127.0.0.1:$((base_port + i - 1))"); done
for i in 1 2 3; do
  port=$((base_port + i - 1))
  ./target/release/arena --addr "127.0.0.1:$port" --redis "redis://127.0.0.1:$redis_port" --node-id "n$i" "${origins[@]}" &
  pids+=($!)
  echo "node n$i: http://127.0.0.1:$port/ (ws://127.0.0.1:$port/ws)"
done
echo "the cluster's rooms: curl -s 127.0.0.1:$base_port/rooms; Ctrl-C stops it"
wait
