#!/usr/bin/env bash
# Cluster figures on loopback, AkkaCache node processes joined through seed nodes (bench/README.md quotes the output):
#   0. formation: from the start of the last of 3 nodes (all started at once) to cluster_state:ok on every node
#   1. failover: kill -9 of a primary; time until a write to a key it led succeeds through the survivors
#      (redis-cli -c, polled every few ms), ROUNDS kills of a node that is not the coordinator (node 1) and ROUNDS of
#      the coordinator (node 0, the oldest: its singleton moves too), with the shipped hocon/akkacache.conf
#   2. shards moved when a 4th node joins 3 (ideal: a quarter of 1024)
#   3. throughput of 3 nodes with redis-benchmark --cluster (SET then GET, -c 50 -d 64 -r KEYS) before, during
#      and after that join, as back-to-back short runs; a run counts as "during" if shards were in flight when it
#      started and when it ended
# Usage: bench/cluster.sh [ROUNDS]
#   NODE_ARGS="--akka-config FILE ..."  extra switches for every node (to compare settings)
#   ONLY=failover                       only step 1, both victims
#   ONLY=join                           only steps 2 and 3
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
KEYS=${KEYS:-1000000}
RUN_REQUESTS=${RUN_REQUESTS:-200000}
read -r -a NODE_ARGS <<<"${NODE_ARGS:-}"
ONLY=${ONLY:-}
WORK=$(mktemp -d)
SERVER=src/AkkaCache.Server/bin/Release/net10.0/akkacache-server
PIDS=()
declare -A NODE_PID

cleanup() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

command -v redis-benchmark >/dev/null || { echo "cluster.sh: redis-tools missing (./build.sh deps)" >&2; exit 1; }
dotnet build -c Release src/AkkaCache.Server >/dev/null

now_ms() { date +%s%3N; }


info_field() { redis-cli -p "$1" CLUSTER INFO 2>/dev/null | tr -d '\r' | awk -F: -v f="$2" '$1 == f { print $2 }'; }

wait_stable() { # port expected-nodes
  for _ in $(seq 1 3000); do
    if [ "$(info_field "$1" cluster_state)" = ok ] && [ "$(info_field "$1" cluster_known_nodes)" = "$2" ] \
       && [ "$(info_field "$1" cluster_shards_migrating)" = 0 ] && ! redis-cli -p "$1" CLUSTER NODES | grep -q -- '->-'; then
      return 0
    fi
    sleep 0.1
  done
  echo "cluster.sh: the cluster did not settle" >&2; exit 1
}

stop_cluster() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  PIDS=()
}

median() { grep -E '^[0-9.]+$' | sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ---------------------------------------------------------------- 1. failover time
# ---------------------------------------------------------------- 0. formation
formation_round() { # round
  local name="formation-$1" start
  start_node 0 "$name"; start_node 1 "$name"; start_node 2 "$name"
  start=$(now_ms)
  for p in 7200 7201 7202; do
    until [ "$(info_field $p cluster_state)" = ok ] && [ "$(info_field $p cluster_known_nodes)" = 3 ]; do sleep 0.02; done
  done
  echo $(( $(now_ms) - start ))
  stop_cluster
}

start_node() { # index cluster-name: returns once the node listens
  local port=$((7200 + $1))
  "$SERVER" --port "$port" --cluster-enabled yes --cluster-port $((port + 10000)) --seed-nodes 127.0.0.1:17200,127.0.0.1:17201 \
    --cluster-name "$2" --node-id "node-$1" --announce "127.0.0.1:$port" "${NODE_ARGS[@]}" >"$WORK/node-$1.log" 2>&1 &
  PIDS+=($!)
  NODE_PID[$1]=$!
  for _ in $(seq 1 400); do redis-cli -p "$port" PING 2>/dev/null | grep -q PONG && return 0; sleep 0.02; done
  echo "cluster.sh: node $1 did not start" >&2; cat "$WORK/node-$1.log" >&2; exit 1
}

formation=()
if [ -z "$ONLY" ]; then
  for round in $(seq 1 "$ROUNDS"); do formation+=("$(formation_round "$round")"); done
  FORMATION="$(printf '%s\n' "${formation[@]}" | median) ms (runs: ${formation[*]})"
fi

# ---------------------------------------------------------------- 1. failover time
failover_round() { # victim round
  local name="failover-$1-$2" victim_port=$((7200 + $1)) other_port=7202
  for i in 0 1 2; do start_node "$i" "$name"; done
  wait_stable 7200 3
  # a key the victim leads, found by asking it directly
  local key
  for n in $(seq 1 100000); do
    if [ "$(redis-cli -p $victim_port SET "probe:$n" before 2>/dev/null)" = OK ]; then key="probe:$n"; break; fi
  done
  redis-cli -p $victim_port WAIT 1 1000 >/dev/null
  local start; start=$(now_ms)
  kill -9 "${NODE_PID[$1]}"
  until [ "$(redis-cli -c -p $other_port SET "$key" after 2>/dev/null)" = OK ]; do sleep 0.005; done
  echo $(( $(now_ms) - start ))
  stop_cluster
}

declare -A FAILOVER
[ "$ONLY" = join ] || for victim in 1 0; do
  values=()
  for round in $(seq 1 "$ROUNDS"); do values+=("$(failover_round "$victim" "$round")"); done
  FAILOVER[$victim]="$(printf '%s\n' "${values[@]}" | median) ms (runs: ${values[*]})"
done
if [ "$ONLY" = failover ]; then
  echo "| failover after kill -9 of a primary (not the coordinator), median of $ROUNDS | ${FAILOVER[1]} |"
  echo "| failover after kill -9 of the coordinator's node, median of $ROUNDS | ${FAILOVER[0]} |"
  exit 0
fi

# ---------------------------------------------------------------- 2 + 3. join: shards moved, throughput before/during/after
for i in 0 1 2; do start_node "$i" join; done
wait_stable 7200 3
redis-benchmark --cluster -p 7200 -c 50 -d 64 -r "$KEYS" -t set -n "$KEYS" -q >/dev/null 2>&1 # load the keyspace

slot_owner_map() { # prints "slot port" for every slot, from CLUSTER NODES
  redis-cli -p 7200 CLUSTER NODES | awk '{ split($2, a, "[:@]"); for (i = 9; i <= NF; i++) { if ($i ~ /^\[/) continue; n = split($i, r, "-"); lo = r[1]; hi = (n == 2) ? r[2] : r[1]; for (s = lo; s <= hi; s++) print s, a[2] } }' | sort -n
}

bench_run() { # prints "set_rps get_rps"; cluster mode prints the node list before the CSV, and a run may end in error
  { redis-benchmark --cluster -p 7200 -c 50 -d 64 -r "$KEYS" -t set,get -n "$RUN_REQUESTS" --csv 2>/dev/null || true; } | tr -d '"' |
    awk -F, '$1 == "SET" { set = $2 } $1 == "GET" { get = $2 } END { print (set == "" ? "failed" : set), (get == "" ? "failed" : get) }'
}

for _ in 1 2; do bench_run >/dev/null; done # warm-up (JIT tiering)
before=()
for _ in $(seq 1 "$ROUNDS"); do before+=("$(bench_run)"); done

slot_owner_map >"$WORK/owners.before"
start_node 3 join
during=()
while true; do
  m1=$(info_field 7200 cluster_shards_migrating); m1=${m1:-0}
  result=$(bench_run)
  m2=$(info_field 7200 cluster_shards_migrating); m2=${m2:-0}
  migrating_anywhere=0
  for p in 7200 7201 7202 7203; do [ "$(info_field $p cluster_shards_migrating)" != 0 ] && migrating_anywhere=1; done
  if [ "$m1" != 0 ] || [ "$m2" != 0 ] || [ "$migrating_anywhere" = 1 ]; then during+=("$result"); else break; fi
done
wait_stable 7200 4
slot_owner_map >"$WORK/owners.after"
moved_slots=$(join -j 1 "$WORK/owners.before" "$WORK/owners.after" | awk '$2 != $3' | wc -l)
after=()
for _ in $(seq 1 "$ROUNDS"); do after+=("$(bench_run)"); done

column() { awk -v c="$1" '{ print $c }'; }
set_before=$(printf '%s\n' "${before[@]}" | column 1 | median); get_before=$(printf '%s\n' "${before[@]}" | column 2 | median)
set_during=$(printf '%s\n' "${during[@]}" | column 1 | median); get_during=$(printf '%s\n' "${during[@]}" | column 2 | median)
set_after=$(printf '%s\n' "${after[@]}" | column 1 | median); get_after=$(printf '%s\n' "${after[@]}" | column 2 | median)

echo
echo "| figure | value |"
echo "|---|---|"
if [ -z "$ONLY" ]; then
  echo "| formation: last of 3 nodes listening to cluster_state:ok on all, median of $ROUNDS | $FORMATION |"
  echo "| failover after kill -9 of a primary (not the coordinator), median of $ROUNDS | ${FAILOVER[1]} |"
  echo "| failover after kill -9 of the coordinator's node, median of $ROUNDS | ${FAILOVER[0]} |"
fi
echo "| shards moved when a 4th node joins 3 (of 1024; ideal 256) | $((moved_slots / 16)) ($moved_slots slots) |"
echo "| SET rps, 3 nodes, before / during / after the join (medians) | $set_before / $set_during / $set_after |"
echo "| GET rps, 3 nodes, before / during / after the join (medians) | $get_before / $get_during / $get_after |"
echo "| runs during the rebalance | ${#during[@]} |"
if [ "$set_before" != n/a ] && [ "$set_during" != n/a ]; then
  awk -v b="$set_before" -v d="$set_during" -v gb="$get_before" -v gd="$get_during" \
    'BEGIN { printf "| during / before | SET %.2f, GET %.2f |\n", d / b, gd / gb }'
fi
