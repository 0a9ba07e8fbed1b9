#!/usr/bin/env bash
# Side-by-side: redis-server (Debian), garnet-server 2.2.8 (dotnet tool) and an AkkaCache node on loopback.
# redis-benchmark -c 50 -d 64 -r 100000 -t set,get at -P 1 and -P 16, servers interleaved, ROUNDS rounds;
# then bytes per key from RSS after loading 1,000,000 keys (16-byte keys, 64-byte values) into each.
# Prints one markdown table of medians. Usage: bench/compare.sh [ROUNDS]   (needs root or the tools installed)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
P1_REQUESTS=${P1_REQUESTS:-200000}
P16_REQUESTS=${P16_REQUESTS:-2000000}
KEYS_TO_LOAD=${KEYS_TO_LOAD:-1000000}
WORK=$(mktemp -d)
TOOLS=${GARNET_TOOL_PATH:-$HOME/.cache/akkacache-bench/garnet-2.2.8}
declare -A PORT=([redis]=7401 [garnet]=7402 [akkacache]=7403)
PIDS=()

cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

command -v redis-benchmark >/dev/null && command -v redis-server >/dev/null || {
  echo "compare.sh: installing redis-server and redis-tools" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null
}
[ -x "$TOOLS/garnet-server" ] || dotnet tool install garnet-server --version 2.2.8 --tool-path "$TOOLS" >/dev/null
dotnet build -c Release src/AkkaCache.Server >/dev/null

start() { # name command...
  local name=$1; shift
  "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  eval "PID_$name=$!"
  for _ in $(seq 1 200); do redis-cli -p "${PORT[$name]}" PING 2>/dev/null | grep -q PONG && return 0; sleep 0.1; done
  echo "compare.sh: $name did not start" >&2; cat "$WORK/$name.log" >&2; exit 1
}

start_all() {
  start redis redis-server --port "${PORT[redis]}" --bind 127.0.0.1 --save "" --appendonly no
  start garnet "$TOOLS/garnet-server" --port "${PORT[garnet]}" --bind 127.0.0.1
  start akkacache src/AkkaCache.Server/bin/Release/net10.0/akkacache-server --port "${PORT[akkacache]}"
}

stop_all() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done; PIDS=(); }

start_all
# warm-up, not recorded: JIT tiering for the .NET servers, and every server's keyspace grown to its -r 100000 keys
for server in redis garnet akkacache; do
  redis-benchmark -p "${PORT[$server]}" -c 50 -d 64 -r 100000 -t set,get -n 200000 -q >/dev/null 2>&1
done
echo "round,server,pipeline,test,rps,p99_ms" > "$WORK/results.csv"
for round in $(seq 1 "$ROUNDS"); do
  for pipeline in 1 16; do
    requests=$P1_REQUESTS; [ "$pipeline" = 16 ] && requests=$P16_REQUESTS
    for server in redis garnet akkacache; do
      redis-benchmark -p "${PORT[$server]}" -c 50 -d 64 -r 100000 -t set,get -n "$requests" -P "$pipeline" --csv 2>/dev/null | tr -d '"' |
        awk -F, -v r="$round" -v s="$server" -v p="$pipeline" 'NR>1 { print r","s","p","$1","$2","$7 }' >> "$WORK/results.csv"
    done
  done
done

# bytes per key: RSS growth while loading distinct keys "key:%012d" (16 bytes) with 64-byte values, read right
# after the load and again after MEMORY PURGE (jemalloc's purge for Redis, a compacting full GC for AkkaCache)
python3 - "$KEYS_TO_LOAD" > "$WORK/load.resp" <<'PY'
import sys
n = int(sys.argv[1]); value = b"v" * 64; out = sys.stdout.buffer
for i in range(n):
    key = b"key:%012d" % i
    out.write(b"*3\r\n$3\r\nSET\r\n$16\r\n" + key + b"\r\n$64\r\n" + value + b"\r\n")
PY
rss() { awk '/VmRSS/ {print $2 * 1024}' "/proc/$1/status"; }
echo "server,rss_before,rss_after,bytes_per_key,bytes_per_key_purged" > "$WORK/memory.csv"
for server in redis garnet akkacache; do
  pid_var="PID_$server"; pid=${!pid_var}
  redis-cli -p "${PORT[$server]}" FLUSHALL >/dev/null
  before=$(rss "$pid")
  redis-cli -p "${PORT[$server]}" --pipe < "$WORK/load.resp" >/dev/null
  keys=$(redis-cli -p "${PORT[$server]}" DBSIZE)
  sleep 1
  after=$(rss "$pid")
  redis-cli -p "${PORT[$server]}" MEMORY PURGE >/dev/null 2>&1 || true
  sleep 1
  purged=$(rss "$pid")
  echo "$server,$before,$after,$(( (after - before) / keys )),$(( (purged - before) / keys ))" >> "$WORK/memory.csv"
done
stop_all

python3 - "$WORK/results.csv" "$WORK/memory.csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
mem = {r["server"]: (int(r["bytes_per_key"]), int(r["bytes_per_key_purged"])) for r in csv.DictReader(open(sys.argv[2]))}
def med(server, pipe, test, field):
    vals = [float(r[field]) for r in rows if r["server"] == server and r["pipeline"] == pipe and r["test"] == test]
    return statistics.median(vals) if vals else float("nan")
print("| test | pipeline | redis ops/s | garnet ops/s | akkacache ops/s | redis p99 ms | garnet p99 ms | akkacache p99 ms | akkacache/redis | akkacache/garnet |")
print("|---|---|---|---|---|---|---|---|---|---|")
for pipe in ("1", "16"):
    for test in ("SET", "GET"):
        r, g, a = (med(s, pipe, test, "rps") for s in ("redis", "garnet", "akkacache"))
        pr, pg, pa = (med(s, pipe, test, "p99_ms") for s in ("redis", "garnet", "akkacache"))
        print(f"| {test} | -P {pipe} | {r:,.0f} | {g:,.0f} | {a:,.0f} | {pr:.3f} | {pg:.3f} | {pa:.3f} | {a/r:.2f} | {a/g:.2f} |")
print()
print("| server | bytes per key after loading 1M keys (16 B keys, 64 B values) | after MEMORY PURGE |")
print("|---|---|---|")
for s in ("redis", "garnet", "akkacache"):
    print(f"| {s} | {mem[s][0]} | {mem[s][1]} |")
PY
