#!/usr/bin/env bash
# Shard dispatch and socket-completion choices, end to end: redis-benchmark -c 50 -d 64 -r 100000 -t set,get
# against one AkkaCache node per choice, one unrecorded warm-up round each, ROUNDS rounds interleaved.
# Usage: bench/scheduling.sh [ROUNDS]; prints one line per run (take the medians into bench/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
PORT=7499
BIN=src/AkkaCache.Server/bin/Release/net10.0/akkacache-server
dotnet build -c Release src/AkkaCache.Server >/dev/null
declare -A CHOICES=(
  [default]=""
  [mailbox]="--inline-when-idle false"
  [poolhop]="--inline-socket-completions false"
)
for pipeline in 1 16; do
  requests=200000; [ "$pipeline" = 16 ] && requests=1000000
  for round in $(seq 1 "$ROUNDS"); do
    for choice in default mailbox poolhop; do
      # shellcheck disable=SC2086
      $BIN --port $PORT ${CHOICES[$choice]} >/dev/null 2>&1 &
      pid=$!
      for _ in $(seq 1 100); do redis-cli -p $PORT PING 2>/dev/null | grep -q PONG && break; sleep 0.1; done
      redis-benchmark -p $PORT -c 50 -d 64 -r 100000 -t set,get -n 200000 -q >/dev/null 2>&1
      out=$(redis-benchmark -p $PORT -c 50 -d 64 -r 100000 -t set,get -n "$requests" -P "$pipeline" --csv 2>/dev/null |
        tr -d '"' | awk -F, 'NR>1 { printf "%s=%s p99=%s ", $1, $2, $7 }')
      echo "P$pipeline round $round $choice: $out"
      kill $pid; wait $pid 2>/dev/null || true
    done
  done
done
