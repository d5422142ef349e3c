#!/usr/bin/env bash
# npm run bench: installs the bench's own dependencies, builds the library and the demo,
# starts a private redis-server on a free port (never 6379), runs every
# benchmark in one run, writes docs/benchmarks.md, and always stops the server.
# Then the cluster scaling bench and the memory sizing, which start their own
# servers, write their sections of docs/benchmarks.md and docs/sizing.md.
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT_DIR="$(dirname "$BENCH_DIR")"

command -v redis-server >/dev/null || { echo "bench: redis-server is not installed (apt-get install redis-server)" >&2; exit 1; }

# The library builds with the root's TypeScript; a fresh clone has no root install yet.
if [ ! -d "$ROOT_DIR/node_modules" ]; then
  (cd "$ROOT_DIR" && npm ci --no-audit --no-fund)
fi
(cd "$BENCH_DIR" && npm ci --no-audit --no-fund --loglevel=error)
# The library, and the demo: the response suite runs on the demo's local language model (dist/chat/).
(cd "$ROOT_DIR" && npm run build)

REDIS_DIR="$(mktemp -d "${TMPDIR:-/tmp}/wbot-bench-redis.XXXXXX")"
REDIS_PID=""
stop_redis() {
  if [ -n "$REDIS_PID" ]; then
    kill "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
  fi
  rm -rf "$REDIS_DIR"
}
trap stop_redis EXIT
trap 'exit 130' INT TERM

free_port() {
  node -e "const s = require('net').createServer(); s.listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); });"
}

# Redis and the measuring Node process each get a core of their own, where there are two or more: the
# scheduler then cannot put them on one core for part of a case and on two for the rest.
PIN_REDIS=()
PIN_NODE=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  PIN_REDIS=(taskset -c 0)
  PIN_NODE=(taskset -c 1)
  export BENCH_PINNING="redis-server on CPU 0, the bench's Node process on CPU 1 (taskset)"
fi

PORT=""
for _ in 1 2 3 4 5; do
  candidate="$(free_port)"
  [ "$candidate" = "6379" ] && continue
  "${PIN_REDIS[@]}" redis-server --port "$candidate" --bind 127.0.0.1 --save '' --appendonly no --dir "$REDIS_DIR" \
    --daemonize no --loglevel warning >"$REDIS_DIR/redis.log" 2>&1 &
  REDIS_PID=$!
  for _ in $(seq 1 50); do
    if redis-cli -p "$candidate" ping >/dev/null 2>&1; then PORT="$candidate"; break; fi
    kill -0 "$REDIS_PID" 2>/dev/null || break
    sleep 0.1
  done
  [ -n "$PORT" ] && break
  kill "$REDIS_PID" 2>/dev/null || true
  wait "$REDIS_PID" 2>/dev/null || true
  REDIS_PID=""
done
[ -n "$PORT" ] || { echo "bench: could not start redis-server" >&2; cat "$REDIS_DIR/redis.log" >&2; exit 1; }

echo "bench: redis-server $(redis-server --version | sed -E 's/.*v=([^ ]+).*/\1/') on port $PORT (pid $REDIS_PID)"
BENCH_REDIS_URL="redis://127.0.0.1:$PORT" "${PIN_NODE[@]}" node "$BENCH_DIR/run.js"
# BENCH_SUITES (a quick check of some suites, bench/run.js) writes no report: the cluster and sizing runs are not its
if [ -z "${BENCH_SUITES:-}" ]; then
  node "$BENCH_DIR/cluster.js"
  node "$BENCH_DIR/sizing.js"
fi
