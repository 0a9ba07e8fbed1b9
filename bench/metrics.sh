#!/usr/bin/env bash
# Request-path cost of the metrics (per-command counters, SLOWLOG check, latency histogram): an AkkaCache node built
# from BEFORE (a commit without them) against this tree's node, and this tree's node exporting over OTLP (so the
# latency histogram is listened to and recorded). redis-benchmark -c 50 -d 64 -r 100000 -t set,get at -P 1 and -P 16,
# the three nodes interleaved in every round; prints medians and ratios of throughput, p99 and the node's CPU time per
# request (user + system, from /proc: on a shared machine it moves less with the neighbours' load than throughput does).
# Both nodes are built from commits (git archive), so edits in the working tree cannot leak into a run.
# Usage: bench/metrics.sh BEFORE_COMMIT AFTER_COMMIT [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE=${1:?usage: bench/metrics.sh BEFORE_COMMIT AFTER_COMMIT [ROUNDS]}
AFTER=${2:?usage: bench/metrics.sh BEFORE_COMMIT AFTER_COMMIT [ROUNDS]}
ROUNDS=${3:-5}
P1_REQUESTS=${P1_REQUESTS:-200000}
P16_REQUESTS=${P16_REQUESTS:-2000000}
WORK=$(mktemp -d)
declare -A PORT=([before]=7411 [after]=7412 [otlp]=7413)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

for build in before after; do
  commit=$BEFORE; [ "$build" = after ] && commit=$AFTER
  mkdir -p "$WORK/$build"
  git archive "$commit" | tar -x -C "$WORK/$build"
  dotnet build -c Release "$WORK/$build/src/AkkaCache.Server" > "$WORK/$build-build.log" 2>&1 || { cat "$WORK/$build-build.log" >&2; exit 1; }
done
BEFORE_SERVER="$WORK/before/src/AkkaCache.Server/bin/Release/net10.0/akkacache-server"
AFTER_SERVER="$WORK/after/src/AkkaCache.Server/bin/Release/net10.0/akkacache-server"

# each node takes its defaults from the hocon/akkacache.conf built into it; nothing from this tree's current directory
cd "$WORK"
declare -A PID
start() { # name command...
  local name=$1; shift
  "$@" >"$WORK/$name.log" 2>&1 &
  PIDS+=($!)
  PID[$name]=$!
  for _ in $(seq 1 200); do redis-cli -p "${PORT[$name]}" PING 2>/dev/null | grep -q PONG && return 0; sleep 0.1; done
  echo "metrics.sh: $name did not start" >&2; cat "$WORK/$name.log" >&2; exit 1
}
start before "$BEFORE_SERVER" --port "${PORT[before]}"
start after "$AFTER_SERVER" --port "${PORT[after]}"
# nothing listens on port 9: the exports fail, but the SDK still listens to (and aggregates) every instrument
start otlp "$AFTER_SERVER" --port "${PORT[otlp]}" --otlp-endpoint http://127.0.0.1:9 --otlp-protocol http/protobuf --otlp-export-interval 1000

for node in before after otlp; do
  redis-benchmark -p "${PORT[$node]}" -c 50 -d 64 -r 100000 -t set,get -n 200000 -q >/dev/null 2>&1
done
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TICKS=$(getconf CLK_TCK)
echo "round,node,pipeline,test,rps,p99_ms,cpu_us" > "$WORK/results.csv"
for round in $(seq 1 "$ROUNDS"); do
  for pipeline in 1 16; do
    requests=$P1_REQUESTS; [ "$pipeline" = 16 ] && requests=$P16_REQUESTS
    for node in before after otlp; do
      for test in set get; do
        cpu_before=$(cpu_ticks "${PID[$node]}")
        line=$(redis-benchmark -p "${PORT[$node]}" -c 50 -d 64 -r 100000 -t "$test" -n "$requests" -P "$pipeline" --csv 2>/dev/null | tr -d '"' | awk 'NR>1')
        cpu_after=$(cpu_ticks "${PID[$node]}")
        echo "$line" | awk -F, -v r="$round" -v s="$node" -v p="$pipeline" -v n="$requests" -v t="$TICKS" -v c="$((cpu_after - cpu_before))" \
          '{ printf "%s,%s,%s,%s,%s,%s,%.3f\n", r, s, p, $1, $2, $7, c / t * 1e6 / n }' >> "$WORK/results.csv"
      done
    done
  done
done
cp "$WORK/results.csv" "${RESULTS_CSV:-/dev/null}"

python3 - "$WORK/results.csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def med(node, pipe, test, field):
    return statistics.median(float(r[field]) for r in rows if r["node"] == node and r["pipeline"] == pipe and r["test"] == test)
print("| test | pipeline | before ops/s | after ops/s | after + OTLP ops/s | after/before | OTLP/before | CPU µs/request before | after | after + OTLP | after/before | OTLP/before | p99 ms before / after / OTLP |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for pipe in ("1", "16"):
    for test in ("SET", "GET"):
        b, a, o = (med(n, pipe, test, "rps") for n in ("before", "after", "otlp"))
        cb, ca, co = (med(n, pipe, test, "cpu_us") for n in ("before", "after", "otlp"))
        pb, pa, po = (med(n, pipe, test, "p99_ms") for n in ("before", "after", "otlp"))
        print(f"| {test} | -P {pipe} | {b:,.0f} | {a:,.0f} | {o:,.0f} | {a/b:.2f} | {o/b:.2f} | {cb:.2f} | {ca:.2f} | {co:.2f} | {ca/cb:.2f} | {co/cb:.2f} | {pb:.3f} / {pa:.3f} / {po:.3f} |")
PY
