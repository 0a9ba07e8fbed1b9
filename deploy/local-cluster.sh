#!/usr/bin/env bash
# A throwaway local AkkaCache cluster: one etcd and N nodes on 127.0.0.1, until Ctrl-C.
#
#   deploy/local-cluster.sh 3               etcd on 2379, nodes node-1..node-3 on ports 7000..7002
#   REPLICAS=1 deploy/local-cluster.sh 3    one replica per shard
#   ETCD_PORT=2479 deploy/local-cluster.sh 3
#   ADMIN_BASE_PORT=8000 deploy/local-cluster.sh 3   health endpoints on 8000..8002 (GET /health/ready)
#   deploy/local-cluster.sh 0               etcd alone
#
# Everything (etcd's data, one log per process) lives in a temporary directory that Ctrl-C removes along with the processes.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
nodes=${1:-3}
etcd_port=${ETCD_PORT:-2379}
etcd_peer_port=${ETCD_PEER_PORT:-$((etcd_port + 1))}
first_node_port=${BASE_PORT:-7000}
replicas=${REPLICAS:-}
admin_base_port=${ADMIN_BASE_PORT:-}
server="$repo/src/AkkaCache.Server/bin/Release/net10.0/akkacache-server"

usage() {
  echo "usage: [REPLICAS=r] [ETCD_PORT=p] [BASE_PORT=p] [ADMIN_BASE_PORT=p] $0 NODES   (NODES >= 0; 0 starts etcd alone)" >&2
  exit 2
}
is_number() { [[ "$1" =~ ^[0-9]+$ ]]; }
is_number "$nodes" || usage
is_number "$etcd_port" && is_number "$etcd_peer_port" && is_number "$first_node_port" || usage
[ -z "$replicas" ] || is_number "$replicas" || usage
[ -z "$admin_base_port" ] || is_number "$admin_base_port" || usage

if ! command -v etcd >/dev/null 2>&1; then
  echo "local-cluster: etcd is not installed; run ./build.sh deps or: sudo apt-get install -y etcd-server" >&2
  exit 1
fi

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for port in "$etcd_port" "$etcd_peer_port"; do
  if port_in_use "$port"; then
    echo "local-cluster: port $port is taken (Debian's etcd service? sudo systemctl stop etcd), or choose ETCD_PORT=..." >&2
    exit 1
  fi
done
for ((i = 0; i < nodes; i++)); do
  if port_in_use $((first_node_port + i)); then
    echo "local-cluster: port $((first_node_port + i)) is taken; choose BASE_PORT=..." >&2
    exit 1
  fi
done

if [ "$nodes" -gt 0 ] && [ ! -x "$server" ]; then
  echo "local-cluster: building akkacache-server"
  dotnet build "$repo/src/AkkaCache.Server" -c Release --nologo -v quiet
fi

workdir=$(mktemp -d -t akkacache-cluster.XXXXXX)
pids=()
names=()

stop_all() {
  trap - INT TERM EXIT
  # nodes first, so none sees its etcd vanish while it is still serving; SIGINT stops a node at once
  # (SIGTERM would be a graceful leave, which has nowhere to go when every node stops)
  for ((k = ${#pids[@]} - 1; k >= 1; k--)); do kill -INT "${pids[k]}" 2>/dev/null || true; done
  kill -TERM "${pids[0]}" 2>/dev/null || true
  local deadline=$((SECONDS + 5))
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$workdir"
  echo "local-cluster: stopped; removed $workdir"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# the log of a process that failed, shown before the directory holding it goes away
fail() {
  echo "local-cluster: $1" >&2
  if [ -f "$2" ]; then
    echo "--- last lines of $2" >&2
    tail -n 30 "$2" >&2
  fi
  exit 1
}

etcd_answers() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -m 2 "http://127.0.0.1:$etcd_port/health" 2>/dev/null | grep -q '"health":"true"'
  else
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$etcd_port; printf 'GET /health HTTP/1.0\r\n\r\n' >&3; grep -q '\"health\":\"true\"' <&3" 2>/dev/null
  fi
}

etcd_url="http://127.0.0.1:$etcd_port"
etcd_peer_url="http://127.0.0.1:$etcd_peer_port"
etcd --name local \
  --data-dir "$workdir/etcd" \
  --listen-client-urls "$etcd_url" --advertise-client-urls "$etcd_url" \
  --listen-peer-urls "$etcd_peer_url" --initial-advertise-peer-urls "$etcd_peer_url" \
  --initial-cluster "local=$etcd_peer_url" --initial-cluster-state new \
  --logger zap --log-outputs stderr \
  >"$workdir/etcd.log" 2>&1 &
pids+=($!)
names+=(etcd)

deadline=$((SECONDS + 30))
until etcd_answers; do
  kill -0 "${pids[0]}" 2>/dev/null || fail "etcd exited while starting" "$workdir/etcd.log"
  [ $SECONDS -lt $deadline ] || fail "etcd did not answer on $etcd_url within 30 s" "$workdir/etcd.log"
  sleep 0.2
done
echo "local-cluster: etcd ready on $etcd_url (data and logs in $workdir)"

for ((i = 1; i <= nodes; i++)); do
  port=$((first_node_port + i - 1))
  args=(--port "$port" --cluster-enabled yes --etcd "$etcd_url" --cluster-name local --node-id "node-$i" --announce "127.0.0.1:$port")
  [ -z "$replicas" ] || args+=(--replicas "$replicas")
  [ -z "$admin_base_port" ] || args+=(--admin-port $((admin_base_port + i - 1)))
  "$server" "${args[@]}" >"$workdir/node-$i.log" 2>&1 &
  pids+=($!)
  names+=("node-$i")
done

deadline=$((SECONDS + 60))
for ((i = 1; i <= nodes; i++)); do
  port=$((first_node_port + i - 1))
  until port_in_use "$port"; do
    kill -0 "${pids[i]}" 2>/dev/null || fail "node-$i exited while starting" "$workdir/node-$i.log"
    [ $SECONDS -lt $deadline ] || fail "node-$i did not listen on port $port within 60 s" "$workdir/node-$i.log"
    sleep 0.2
  done
done

echo
echo "etcd      $etcd_url    etcdctl --endpoints $etcd_url get '' --prefix --keys-only"
if [ "$nodes" -gt 0 ]; then
  echo "nodes     127.0.0.1:$first_node_port..$((first_node_port + nodes - 1))${replicas:+, $replicas replica(s) per shard}"
  [ -z "$admin_base_port" ] || echo "health    http://127.0.0.1:$admin_base_port/health/ready .. port $((admin_base_port + nodes - 1))"
  echo "try       redis-cli -c -p $first_node_port"
  echo "          redis-cli -p $first_node_port cluster nodes"
fi
echo "logs      $workdir/*.log"
echo "Ctrl-C stops the cluster and deletes $workdir"

# runs until Ctrl-C. A node that dies (kill -9 it to watch a failover) is reported and the rest keep running;
# etcd dying ends everything
reported=()
while true; do
  set +e
  wait -n "${pids[@]}"
  set -e
  kill -0 "${pids[0]}" 2>/dev/null || fail "etcd exited unexpectedly" "$workdir/etcd.log"
  for k in "${!pids[@]}"; do
    if ! kill -0 "${pids[k]}" 2>/dev/null && [ -z "${reported[k]:-}" ]; then
      reported[k]=1
      echo "local-cluster: ${names[k]} exited; its shards fail over to the others (log: $workdir/${names[k]}.log)"
    fi
  done
  sleep 0.2
done
