#!/usr/bin/env bash
# One key taking 90 % of the reads on a 3-node cluster, with hot-key promotion on and off, interleaved (A B, B A, ...).
# Two clusters run side by side (ports 7300-7302 with HotKeyReplication on, 7310-7312 with it off); the
# load is the .NET client (bench client-load: 50 tasks, one client, --hot-share 0.9 over 10,000 keys of 64 bytes), which
# learns the promoted keys and spreads their reads over every node; a third run per round reads the same
# promoted-key cluster with the client's spreading off (every read to the owner, as a Redis client would). Each run is preceded by unmeasured warm-up calls
# (the key gets promoted, the client learns it). Per run: ops/s, p99, and the commands each node processed.
# Then the cost when no key is hot: redis-benchmark --cluster (-c 50 -d 64 -r 100000 -t set,get) against each cluster,
# interleaved too, so the pings, ticks and request-path checks of replication show against the cluster without it.
# Usage: bench/hotkeys.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
REQUESTS=${REQUESTS:-300000}
WARMUP=${WARMUP:-200000}
KEYS=10000
SERVER=src/AkkaCache.Server/bin/Release/net10.0/akkacache-server
LOAD=bench/AkkaCache.Benchmarks/bin/Release/net10.0/AkkaCache.Benchmarks
WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v redis-cli >/dev/null || { echo "hotkeys.sh: redis-tools missing (./build.sh deps)" >&2; exit 1; }
dotnet build -c Release src/AkkaCache.Server >/dev/null
dotnet build -c Release bench/AkkaCache.Benchmarks >/dev/null


declare -A NODE_PID
start_cluster() { # name base-port replication(yes|no)
  for i in 0 1 2; do
    local port=$(($2 + i))
    "$SERVER" --port "$port" --cluster-enabled yes --cluster-port $((port + 10000)) --seed-nodes "127.0.0.1:$(($2 + 10000))" --cluster-name "$1" \
      --node-id "$1-$i" --announce "127.0.0.1:$port" --hotkey-replication "$3" >"$WORK/$1-$i.log" 2>&1 &
    PIDS+=($!)
    NODE_PID[$port]=$!
  done
  # settled: every node known, no shard in flight
  for _ in $(seq 1 3000); do
    info=$(redis-cli -p "$2" CLUSTER INFO 2>/dev/null | tr -d '\r' || true)
    if echo "$info" | grep -q '^cluster_state:ok' && echo "$info" | grep -q '^cluster_known_nodes:3' \
       && echo "$info" | grep -q '^cluster_shards_migrating:0' && ! redis-cli -p "$2" CLUSTER NODES | grep -q -- '->-'; then
      break
    fi
    sleep 0.1
  done
  value=$(head -c 64 /dev/zero | tr '\0' x)
  for k in $(seq 0 $((KEYS - 1))); do printf 'SET key:%012d %s\n' "$k" "$value"; done | redis-cli -c -p "$2" >/dev/null
}
start_cluster hot-on 7300 yes
start_cluster hot-off 7310 no

commands() { redis-cli -p "$1" INFO stats | tr -d '\r' | awk -F: -v f="$2" '$1 == f { print $2 }'; }
# a node process's CPU time so far, in clock ticks (user + system)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/${NODE_PID[$1]}/stat"; }

run() { # name base-port round [client-options]
  local before=() after=() cpu_before=() cpu_after=()
  for i in 0 1 2; do before+=("$(commands $(($2 + i)) total_commands_processed)"); cpu_before+=("$(cpu_ticks $(($2 + i)))"); done
  local line
  line=$("$LOAD" client-load --endpoint "127.0.0.1:$2,127.0.0.1:$(($2 + 1)),127.0.0.1:$(($2 + 2))${4:-}" --test get --tasks 50 \
    --requests "$REQUESTS" --warmup-requests "$WARMUP" --hot-share 0.9 --keys "$KEYS" --value-size 64)
  for i in 0 1 2; do after+=("$(commands $(($2 + i)) total_commands_processed)"); cpu_after+=("$(cpu_ticks $(($2 + i)))"); done
  local rps p99
  rps=$(echo "$line" | cut -d, -f3); p99=$(echo "$line" | cut -d, -f5)
  # per node: commands processed during warm-up and run, sorted so the busiest (the hot key's owner) comes first
  local per
  per=$(for i in 0 1 2; do echo $(( ${after[$i]} - ${before[$i]} )); done | sort -rn | tr '\n' ' ')
  # the busiest node's CPU time (clock ticks) over the same span: what promotion takes off the hot key's owner
  local cpu
  cpu=$(for i in 0 1 2; do echo $(( ${cpu_after[$i]} - ${cpu_before[$i]} )); done | sort -rn | tr '\n' ' ')
  echo "$3,$1,$rps,$p99,$per,$cpu" | tee -a "$WORK/results.csv"
}

uniform() { # base-port round name
  redis-benchmark --cluster -p "$1" -c 50 -d 64 -r 100000 -t set,get -n "$UNIFORM_REQUESTS" --csv 2>/dev/null | tr -d '"' |
    awk -F, -v r="$2" -v c="$3" '$1 == "SET" || $1 == "GET" { print r","c","$1","$2 }' | tee -a "$WORK/uniform.csv"
}
UNIFORM_REQUESTS=${UNIFORM_REQUESTS:-200000}

echo "round,cluster,rps,p99_ms,commands per node (busiest first),CPU ticks per node (busiest first)"
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then
    run hot-on 7300 "$round"
    run hot-on-owner-reads 7300 "$round" ",hotKeyRefreshInterval=0"
    run hot-off 7310 "$round"
  else
    run hot-off 7310 "$round"
    run hot-on-owner-reads 7300 "$round" ",hotKeyRefreshInterval=0"
    run hot-on 7300 "$round"
  fi
done
echo "round,cluster,test,rps (no hot key)"
for round in $(seq 1 "$ROUNDS"); do
  # the order alternates between rounds, so neither cluster always runs first
  if [ $((round % 2)) = 1 ]; then
    uniform 7300 "$round" hot-on
    uniform 7310 "$round" hot-off
  else
    uniform 7310 "$round" hot-off
    uniform 7300 "$round" hot-on
  fi
done
for i in 0 1 2; do echo "hot-on node $i: $(redis-cli -p $((7300 + i)) INFO stats | tr -d '\r' | grep -E '^hotkeys_(promoted|copies|local_reads|promotions|demotions)' | tr '\n' ' ')"; done

python3 - "$WORK/results.csv" "$WORK/uniform.csv" <<'PY'
import csv, statistics, sys
rows = list(csv.reader(open(sys.argv[1])))
def med(cluster, col): return statistics.median(float(r[col]) for r in rows if r[1] == cluster)
def share(cluster):
    shares = []
    for r in rows:
        if r[1] != cluster: continue
        per = [int(x) for x in r[4].split()]
        shares.append(per[0] / sum(per))
    return statistics.median(shares)
print()
def cpu(cluster, index):
    values = []
    for r in rows:
        if r[1] != cluster: continue
        ticks = [int(x) for x in r[5].split()]
        values.append(ticks[index] / sum(ticks))
    return statistics.median(values)
print("| promotion | ops/s (median) | p99 ms | busiest node's share of commands | busiest node's share of the nodes' CPU time |")
print("|---|---|---|---|---|")
for c, label in (("hot-on", "on"), ("hot-on-owner-reads", "on, client not spreading (hotKeyRefreshInterval=0)"), ("hot-off", "off")):
    print(f"| {label} | {med(c, 2):,.0f} | {med(c, 3):.3f} | {share(c):.0%} | {cpu(c, 0):.0%} |")
print(f"\nratio on/off (ops/s): {med('hot-on', 2) / med('hot-off', 2):.2f}")
uniform = list(csv.reader(open(sys.argv[2])))
print("\n| no hot key (redis-benchmark --cluster) | on ops/s | off ops/s | ratio on/off |")
print("|---|---|---|---|")
for test in sorted({r[2] for r in uniform}):
    on = statistics.median(float(r[3]) for r in uniform if r[1] == "hot-on" and r[2] == test)
    off = statistics.median(float(r[3]) for r in uniform if r[1] == "hot-off" and r[2] == test)
    print(f"| {test} | {on:,.0f} | {off:,.0f} | {on / off:.2f} |")
PY
