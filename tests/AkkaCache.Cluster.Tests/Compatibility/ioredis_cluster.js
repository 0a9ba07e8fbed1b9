// ioredis's Cluster (from npm, installed by ./build.sh deps) against an AkkaCache cluster; prints one JSON line.
// Usage: node ioredis_cluster.js PORT[,PORT...] KEYS PREFIX
'use strict';
const { Cluster } = require('ioredis');

async function main() {
  const ports = process.argv[2].split(',').map(Number);
  const count = Number(process.argv[3]);
  const prefix = process.argv[4];
  const cluster = new Cluster(ports.map(port => ({ host: '127.0.0.1', port })), {
    scaleReads: 'master',
    redisOptions: { connectTimeout: 10000 },
  });
  try {
    let written = 0;
    for (let i = 0; i < count; i++) {
      if ((await cluster.set(`${prefix}${i}`, `value-${i}`)) === 'OK') written++;
    }
    let readBack = 0;
    for (let i = 0; i < count; i++) {
      if ((await cluster.get(`${prefix}${i}`)) === `value-${i}`) readBack++;
    }
    // every master's keys, scanned node by node as ioredis users do it
    const masters = cluster.nodes('master');
    const scanned = new Set();
    let scannedRaw = 0;
    for (const node of masters) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        keys.forEach(k => scanned.add(k));
        scannedRaw += keys.length;
        cursor = next;
      } while (cursor !== '0');
    }
    const slots = cluster.slots;
    let uncovered = 0;
    for (let slot = 0; slot < 16384; slot++) if (!slots[slot] || slots[slot].length === 0) uncovered++;
    console.log(JSON.stringify({
      written,
      read_back: readBack,
      scanned: scanned.size,
      scanned_raw: scannedRaw,
      primaries: masters.map(n => `${n.options.host}:${n.options.port}`).sort(),
      replicas: cluster.nodes('slave').map(n => `${n.options.host}:${n.options.port}`).sort(),
      uncovered_slots: uncovered,
    }));
  } finally {
    cluster.disconnect();
  }
}

main().catch(error => { console.error(error && error.stack || String(error)); process.exit(1); });
