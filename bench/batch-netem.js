'use strict';
// The batch suite across a link of 0.5 ms round trip, where users run it: a batch saves per-call costs, and on
// loopback those are small. A redis-server of its own behind the link (bench/lib/slow-link.js: netem in a network
// namespace, or a delay proxy where the kernel has no netem), ours filled with the embedding suite's 2,000
// texts, then each round one 100-text batch read against the same 100 read one after another, one caller, as the
// embedding suite does on loopback. Also the link's PING round trip, and loopback's, as measured.

const { BATCH, FILLED, batchVersusSequential } = require('./embeddings');
const { timings } = require('./lib/harness');
const { acrossRounds, summarize } = require('./lib/rounds');
const systems = require('./lib/embedding-systems');
const { floorClient } = require('./lib/redis');
const { startSlowLink } = require('./lib/slow-link');

/** The round trip the link adds, in ms: half of it each way. */
const RTT_MS = 0.5;
const PINGS = 200;

/** PING round trips one after another on `client`: their median, min and max, in ms. */
async function pingRtt(client) {
  const times = [];
  for (let i = 0; i < PINGS; i++) {
    const start = performance.now();
    await client.ping();
    times.push(performance.now() - start);
  }
  const { value, min, max } = summarize(times);
  return { value, min, max };
}

async function runBatchNetem(url, admin) {
  const { rounds } = timings();
  const link = await startSlowLink(RTT_MS);
  console.log(`batchNetem: ${link.description}`);
  let far;
  let ours;
  try {
    far = await floorClient(link.url);
    const ping = { link: await pingRtt(far), loopback: await pingRtt(admin) };
    console.log(
      `  PING round trip: ${ping.link.value.toFixed(3)} ms across the link, ${ping.loopback.value.toFixed(3)} ms on loopback (medians)`,
    );
    ours = await systems.ours(link.url, { enableAutoPipelining: false });
    await ours.fill(FILLED);
    const batches = [];
    for (let r = 0; r < rounds; r++) {
      console.log(`batchNetem, round ${r + 1} of ${rounds}`);
      batches.push(await batchVersusSequential(ours, far));
    }
    return {
      rttMs: RTT_MS,
      link: { kind: link.kind, description: link.description, why: link.why },
      ping,
      size: BATCH,
      batch: acrossRounds(batches.map((b) => b.batch)),
      sequential: acrossRounds(batches.map((b) => b.sequential)),
    };
  } finally {
    await ours?.close();
    far?.disconnect();
    await link.stop();
  }
}

module.exports = { runBatchNetem };
