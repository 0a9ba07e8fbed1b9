#!/usr/bin/env bash
# Replication at a node's full SET rate: a 2-node cluster on loopback, each node leading half the slots and holding
# the replica of the other's, loaded by redis-benchmark --cluster -P 16 SET. While it runs, every 250 ms, the sum over
# both nodes of INFO replication's akkacache_repl_lag_writes (records written on a primary and not yet acknowledged
# by its replica). Reports SET rps, the lag's median and maximum, its median in the first and the second half of the
# run (a lag that keeps growing shows as a second half far above the first), and how long the lag takes to reach 0
# after the load stops. The anchor, in the same session and interleaved A B A B: the same cluster with --replicas 0.
# Usage: bench/replication.sh [ROUNDS]   (REQUESTS=2000000 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
REQUESTS=${REQUESTS:-2000000}
SERVER=src/AkkaCache.Server/bin/Release/net10.0/akkacache-server
WORK=$(mktemp -d)
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v redis-benchmark >/dev/null || { echo "replication.sh: redis-tools missing (./build.sh deps)" >&2; exit 1; }
dotnet build -c Release src/AkkaCache.Server >/dev/null

now_ms() { date +%s%3N; }
field() { redis-cli -p "$1" INFO "$2" 2>/dev/null | tr -d '\r' | awk -F: -v f="$3" '$1 == f { print $2 }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
lag() { echo $(( $(field 7300 replication akkacache_repl_lag_writes || echo 0) + $(field 7301 replication akkacache_repl_lag_writes || echo 0) )); }

start_cluster() { # replicas name
  for i in 0 1; do
    local port=$((7300 + i))
    "$SERVER" --port "$port" --cluster-enabled yes --cluster-port $((port + 10000)) --seed-nodes 127.0.0.1:17300 \
      --cluster-name "$2" --node-id "node-$i" --announce "127.0.0.1:$port" --replicas "$1" >"$WORK/node-$i.log" 2>&1 &
    PIDS+=($!)
  done
  # settled: both nodes lead half the slots (the second node's share has moved to it) and nothing is in flight; a
  # redis-benchmark --cluster that meets a -MOVED mid-run waits for ever
  # slots each master leads, from CLUSTER NODES ("0-8191" ranges after the 8th field; open slots in [] not counted)
  slots_led() { redis-cli -p "$1" CLUSTER NODES 2>/dev/null | awk '{ n = 0; for (i = 9; i <= NF; i++) { if ($i ~ /^\[/) continue; k = split($i, r, "-"); n += (k == 2) ? r[2] - r[1] + 1 : 1 } print n }' | sort -n | tr '\n' ' ' | sed 's/ $//'; }
  cluster_info() { redis-cli -p "$1" CLUSTER INFO 2>/dev/null | tr -d '\r' | awk -F: -v f="$2" '$1 == f { print $2 }'; }
  for _ in $(seq 1 3000); do
    local settled=1
    for p in 7300 7301; do
      [ "$(cluster_info $p cluster_state)" = ok ] && [ "$(cluster_info $p cluster_shards_migrating)" = 0 ] \
        && [ "$(slots_led $p)" = "8192 8192" ] || settled=0
    done
    [ "$settled" = 1 ] && return 0
    sleep 0.1
  done
  echo "replication.sh: the cluster did not form" >&2; cat "$WORK"/node-*.log >&2; exit 1
}

stop_cluster() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  PIDS=()
}

round() { # replicas round: prints "rps lag_median lag_max first_half second_half drain_ms"
  start_cluster "$1" "repl-$1-$2"
  redis-benchmark --cluster -p 7300 -P 16 -c 50 -d 64 -r 1000000 -t set -n 200000 -q >/dev/null 2>&1 # warm-up
  # a run that meets a -MOVED never ends: bounded, it then counts as failed
  timeout 90 redis-benchmark --cluster -p 7300 -P 16 -c 50 -d 64 -r 1000000 -t set -n "$REQUESTS" --csv >"$WORK/bench.csv" 2>/dev/null &
  local bench=$!
  : >"$WORK/lag"
  while kill -0 "$bench" 2>/dev/null; do lag >>"$WORK/lag"; sleep 0.25; done
  wait "$bench" || true
  local stopped; stopped=$(now_ms)
  for _ in $(seq 1 2000); do [ "$(lag)" = 0 ] && break; sleep 0.01; done
  local drain=$(( $(now_ms) - stopped ))
  local rps; rps=$(tr -d '"' <"$WORK/bench.csv" | awk -F, '$1 == "SET" { print $2 }')
  local n; n=$(wc -l <"$WORK/lag")
  local half=$(( n / 2 ))
  echo "${rps:-failed} $(median <"$WORK/lag") $(sort -n "$WORK/lag" | tail -1) $(head -n "$half" "$WORK/lag" | median) $(tail -n +$((half + 1)) "$WORK/lag" | median) $drain"
  stop_cluster
}

with=(); without=()
for r in $(seq 1 "$ROUNDS"); do
  with+=("$(round 1 "$r")")
  without+=("$(round 0 "$r")")
done

col() { awk -v c="$1" '{ print $c }'; }
echo
echo "| figure | --replicas 1 | --replicas 0 (anchor) |"
echo "|---|---|---|"
echo "| SET rps (-P 16 -c 50, 2 nodes), median of $ROUNDS | $(printf '%s\n' "${with[@]}" | col 1 | median) (runs: $(printf '%s\n' "${with[@]}" | col 1 | tr '\n' ' ')) | $(printf '%s\n' "${without[@]}" | col 1 | median) (runs: $(printf '%s\n' "${without[@]}" | col 1 | tr '\n' ' ')) |"
echo "| replication lag, writes, median of the samples (per run) | $(printf '%s\n' "${with[@]}" | col 2 | tr '\n' ' ') | |"
echo "| replication lag, writes, largest sample (per run) | $(printf '%s\n' "${with[@]}" | col 3 | tr '\n' ' ') | |"
echo "| lag median, first half / second half of the run (per run) | $(printf '%s\n' "${with[@]}" | awk '{ printf "%s/%s ", $4, $5 }') | |"
echo "| ms from the end of the load to lag 0 (per run) | $(printf '%s\n' "${with[@]}" | col 6 | tr '\n' ' ') | |"
