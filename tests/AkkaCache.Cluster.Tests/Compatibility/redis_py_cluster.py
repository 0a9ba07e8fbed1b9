"""redis-py's RedisCluster (Debian's python3-redis) against an AkkaCache cluster; prints one JSON line of findings.

Usage: /usr/bin/python3 redis_py_cluster.py PORT[,PORT...] KEYS PREFIX
"""
import json
import sys

from redis.cluster import ClusterNode, RedisCluster

ports = [int(p) for p in sys.argv[1].split(",")]
count = int(sys.argv[2])
prefix = sys.argv[3]

client = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", port) for port in ports], socket_timeout=10)
try:
    written = 0
    for i in range(count):
        if client.set(f"{prefix}{i}", f"value-{i}"):
            written += 1
    read_back = sum(1 for i in range(count) if client.get(f"{prefix}{i}") == f"value-{i}".encode())
    # scan_iter scans every primary; a node that listed the copies it holds for other primaries would repeat keys
    scanned_raw = [key.decode() for key in client.scan_iter(match=f"{prefix}*", count=500)]
    # which node redis-py sends each slot's writes to: it must be a primary for every slot
    primaries = sorted(f"{node.host}:{node.port}" for node in client.get_primaries())
    replicas = sorted(f"{node.host}:{node.port}" for node in client.get_replicas())
    uncovered = sum(1 for slot in range(16384) if client.nodes_manager.get_node_from_slot(slot) is None)
    print(json.dumps({
        "written": written,
        "read_back": read_back,
        "scanned": len(set(scanned_raw)),
        "scanned_raw": len(scanned_raw),
        "primaries": primaries,
        "replicas": replicas,
        "uncovered_slots": uncovered,
    }))
finally:
    client.close()
