#!/usr/bin/env bash
# The .NET client against redis-benchmark, on the same AkkaCache node in the same run, interleaved A B A B.
#   -P 1 cell : redis-benchmark -c 50 (50 connections, 1 request each in flight)
#               vs the client with 50 tasks sharing ONE multiplexed connection
#   -P 16 cell: redis-benchmark -c 50 -P 16 (800 requests in flight)
#               vs the client with 800 tasks on one connection
# 64-byte values, 100,000 random keys (redis-benchmark -r 100000), ROUNDS rounds, medians printed as a markdown table.
# Usage: bench/client.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
REQUESTS=${REQUESTS:-200000}
PIPELINED_REQUESTS=${PIPELINED_REQUESTS:-1000000}
PORT=${PORT:-7404}
WORK=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

command -v redis-benchmark >/dev/null || { echo "client.sh: installing redis-tools" >&2; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-tools >/dev/null; }
dotnet build -c Release src/AkkaCache.Server >/dev/null
dotnet build -c Release bench/AkkaCache.Benchmarks >/dev/null
LOAD=bench/AkkaCache.Benchmarks/bin/Release/net10.0/AkkaCache.Benchmarks

src/AkkaCache.Server/bin/Release/net10.0/akkacache-server --port "$PORT" >"$WORK/node.log" 2>&1 &
PID=$!
for _ in $(seq 1 100); do redis-cli -p "$PORT" PING 2>/dev/null | grep -q PONG && break; sleep 0.1; done

redis_cell() { # test pipeline requests
  redis-benchmark -p "$PORT" -c 50 -d 64 -r 100000 -t "$1" -n "$3" -P "$2" --csv 2>/dev/null | tr -d '"' |
    awk -F, 'NR>1 { print $1","$2","$7 }'
}
client_cell() { # test tasks requests
  "$LOAD" client-load --endpoint "127.0.0.1:$PORT" --test "$1" --tasks "$2" --requests "$3" --value-size 64 --keys 100000 |
    awk -F, '{ print $1","$3","$5 }'
}

# warm-up, not recorded: the node's JIT and keyspace, and the client's JIT
redis-benchmark -p "$PORT" -c 50 -d 64 -r 100000 -t set,get -n 200000 -q >/dev/null 2>&1
client_cell set 50 100000 >/dev/null
client_cell get 50 100000 >/dev/null

echo "round,cell,who,test,rps,p99_ms" > "$WORK/results.csv"
for round in $(seq 1 "$ROUNDS"); do
  for test in set get; do
    redis_cell "$test" 1 "$REQUESTS" | awk -F, -v r="$round" '{ print r",P1,redis-benchmark,"$1","$2","$3 }' >> "$WORK/results.csv"
    client_cell "$test" 50 "$REQUESTS" | awk -F, -v r="$round" '{ print r",P1,client,"$1","$2","$3 }' >> "$WORK/results.csv"
    redis_cell "$test" 16 "$PIPELINED_REQUESTS" | awk -F, -v r="$round" '{ print r",P16,redis-benchmark,"$1","$2","$3 }' >> "$WORK/results.csv"
    client_cell "$test" 800 "$PIPELINED_REQUESTS" | awk -F, -v r="$round" '{ print r",P16,client,"$1","$2","$3 }' >> "$WORK/results.csv"
  done
done

cat "$WORK/results.csv" >&2
python3 - "$WORK/results.csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def med(cell, who, test, field):
    return statistics.median(float(r[field]) for r in rows if r["cell"] == cell and r["who"] == who and r["test"] == test)
print("| cell | test | redis-benchmark ops/s | client ops/s | client / redis-benchmark | redis-benchmark p99 ms | client p99 ms |")
print("|---|---|---|---|---|---|---|")
for cell, label in (("P1", "50 in flight (-c 50 / 50 tasks)"), ("P16", "800 in flight (-c 50 -P 16 / 800 tasks)")):
    for test in ("SET", "GET"):
        rb, cl = med(cell, "redis-benchmark", test, "rps"), med(cell, "client", test, "rps")
        print(f"| {label} | {test} | {rb:,.0f} | {cl:,.0f} | {cl / rb:.2f} | {med(cell, 'redis-benchmark', test, 'p99_ms'):.3f} | {med(cell, 'client', test, 'p99_ms'):.3f} |")
PY
