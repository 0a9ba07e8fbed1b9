#!/usr/bin/env bash
# A throwaway local AkkaCache cluster: N nodes on 127.0.0.1 joined through a seed node, until Ctrl-C.
#
#   deploy/local-cluster.sh 3               nodes node-1..node-3 on ports 7000..7002, cluster ports 17000..17002
#   REPLICAS=1 deploy/local-cluster.sh 3    one replica per shard
#   BASE_PORT=7100 deploy/local-cluster.sh 3
#   ADMIN_BASE_PORT=8000 deploy/local-cluster.sh 3   health endpoints on 8000..8002 (GET /health/ready)
#
# node-1 and node-2 are the seeds. The script says ready once every node answers cluster_state:ok and knows all N
# nodes. Ctrl-C or SIGTERM stops every node gracefully (SIGTERM: a leave) and deletes the logs.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
nodes=${1:-3}
first_node_port=${BASE_PORT:-7000}
replicas=${REPLICAS:-}
admin_base_port=${ADMIN_BASE_PORT:-}
server="$repo/src/AkkaCache.Server/bin/Release/net10.0/akkacache-server"

usage() {
  echo "usage: [REPLICAS=r] [BASE_PORT=p] [ADMIN_BASE_PORT=p] $0 NODES   (NODES >= 1)" >&2
  exit 2
}
is_number() { [[ "$1" =~ ^[0-9]+$ ]]; }
is_number "$nodes" && [ "$nodes" -ge 1 ] || usage
is_number "$first_node_port" || usage
[ -z "$replicas" ] || is_number "$replicas" || usage
[ -z "$admin_base_port" ] || is_number "$admin_base_port" || usage
command -v redis-cli >/dev/null 2>&1 || { echo "local-cluster: redis-cli is missing; run ./build.sh deps or: sudo apt-get install -y redis-tools" >&2; exit 1; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for ((i = 0; i < nodes; i++)); do
  for port in $((first_node_port + i)) $((first_node_port + i + 10000)); do
    if port_in_use "$port"; then
      echo "local-cluster: port $port is taken; choose BASE_PORT=..." >&2
      exit 1
    fi
  done
done

if [ ! -x "$server" ]; then
  echo "local-cluster: building akkacache-server"
  dotnet build "$repo/src/AkkaCache.Server" -c Release --nologo -v quiet
fi

workdir=$(mktemp -d -t akkacache-cluster.XXXXXX)
pids=()
names=()
stopping=

stop_all() {
  trap - INT TERM EXIT
  stopping=1
  # SIGTERM is each node's graceful leave; the last ones have nobody to hand to and stop at once
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  local deadline=$((SECONDS + 15))
  for k in "${!pids[@]}"; do
    while kill -0 "${pids[k]}" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    if kill -0 "${pids[k]}" 2>/dev/null; then
      echo "local-cluster: ${names[k]} did not stop within 15 s; killing it" >&2
      kill -KILL "${pids[k]}" 2>/dev/null || true
    fi
    wait "${pids[k]}" 2>/dev/null || true
  done
  rm -rf "$workdir"
  echo "local-cluster: stopped ${#pids[@]} node(s); removed $workdir"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# the log of a node that failed, shown before the directory holding it goes away
fail() {
  echo "local-cluster: $1" >&2
  if [ -n "${2:-}" ] && [ -f "$2" ]; then
    echo "--- last lines of $2" >&2
    tail -n 30 "$2" >&2
  fi
  exit 1
}

seeds="127.0.0.1:$((first_node_port + 10000))"
[ "$nodes" -lt 2 ] || seeds+=",127.0.0.1:$((first_node_port + 10001))"
for ((i = 1; i <= nodes; i++)); do
  port=$((first_node_port + i - 1))
  args=(--port "$port" --cluster-enabled yes --cluster-port $((port + 10000)) --seed-nodes "$seeds"
        --cluster-name local --node-id "node-$i" --announce "127.0.0.1:$port")
  [ -z "$replicas" ] || args+=(--replicas "$replicas")
  [ -z "$admin_base_port" ] || args+=(--admin-port $((admin_base_port + i - 1)))
  # a background job of a non-interactive shell ignores SIGINT; the trap above sends every node SIGTERM instead
  "$server" "${args[@]}" >"$workdir/node-$i.log" 2>&1 &
  pids+=($!)
  names+=("node-$i")
done

node_ready() {
  local info
  info=$(redis-cli -p "$1" CLUSTER INFO 2>/dev/null) || return 1
  grep -q '^cluster_state:ok' <<<"$info" && grep -q "^cluster_known_nodes:$nodes" <<<"$info"
}

deadline=$((SECONDS + 90))
for ((i = 1; i <= nodes; i++)); do
  port=$((first_node_port + i - 1))
  until node_ready "$port"; do
    kill -0 "${pids[i - 1]}" 2>/dev/null || fail "node-$i exited while starting" "$workdir/node-$i.log"
    [ $SECONDS -lt $deadline ] || fail "node-$i did not report cluster_state:ok with $nodes known nodes within 90 s" "$workdir/node-$i.log"
    sleep 0.2
  done
done

echo
echo "ready     $nodes node(s), every one cluster_state:ok: 127.0.0.1:$first_node_port..$((first_node_port + nodes - 1))${replicas:+, $replicas replica(s) per shard}"
echo "seeds     $seeds (cluster ports)"
[ -z "$admin_base_port" ] || echo "health    http://127.0.0.1:$admin_base_port/health/ready .. port $((admin_base_port + nodes - 1))"
echo "try       redis-cli -c -p $first_node_port"
echo "          redis-cli -p $first_node_port cluster nodes"
echo "logs      $workdir/*.log"
echo "Ctrl-C stops the cluster and deletes $workdir"

# runs until Ctrl-C. A node that stops (kill -9 it to watch a failover, or CLUSTER LEAVE it) is reported and the
# rest keep running
reported=()
while true; do
  set +e
  wait -n "${pids[@]}"
  set -e
  [ -z "$stopping" ] || break
  for k in "${!pids[@]}"; do
    if ! kill -0 "${pids[k]}" 2>/dev/null && [ -z "${reported[k]:-}" ]; then
      reported[k]=1
      set +e
      wait "${pids[k]}" 2>/dev/null
      status=$?
      set -e
      if grep -q "AkkaCache node leaving the cluster\|left the cluster" "$workdir/${names[k]}.log" 2>/dev/null || [ "$status" -eq 0 ]; then
        echo "local-cluster: ${names[k]} exited; its shards were handed to the others (log: $workdir/${names[k]}.log)"
      else
        echo "local-cluster: ${names[k]} exited with status $status; its shards fail over to their replicas (log: $workdir/${names[k]}.log)"
      fi
    fi
  done
  sleep 0.2
done
