# Sourced by the cluster benchmarks: start_etcd starts a fresh single-member etcd on 127.0.0.1:$ETCD_PORT with its
# data in $WORK/etcd, adds its pid to PIDS (the caller's cleanup kills them) and sets ETCD_PID.
start_etcd() {
  rm -rf "$WORK/etcd"
  etcd --name bench --data-dir "$WORK/etcd" --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
    --initial-cluster "bench=http://127.0.0.1:$((ETCD_PORT + 1))" >"$WORK/etcd.log" 2>&1 &
  PIDS+=($!)
  ETCD_PID=$!
  for _ in $(seq 1 100); do curl -s "http://127.0.0.1:$ETCD_PORT/health" | grep -q true && return 0; sleep 0.1; done
  echo "$(basename "$0"): etcd did not start" >&2; cat "$WORK/etcd.log" >&2; exit 1
}
