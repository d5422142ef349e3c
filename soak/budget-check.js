'use strict';
// The budget at the end, from the raw keys (never through the cache, whose reads would repair what they read),
// once no worker runs: for each message bucket, the conversation lists found by SCAN, and in one MULTI on the
// bucket's server its total, sizes, LRU and deadlines and each list's length and header. Exact when:
// - every list starts with the header, and its messages are its `sizes` field;
// - every `sizes` field without its list is a conversation past its TTL, which the next script purges;
// - `total` is the sum of `sizes`, so the lists hold `total` messages once those are purged;
// - `total` is at most the bucket's budget.

const { bucketPrefix, CONVERSATION_HEADER } = require('../libs/redis-cache/dist/keys');
const { MESSAGES_TTL_SECONDS, buckets } = require('./cache-options');
const { withClient } = require('./test-support');

const SCAN_COUNT = 10_000;

/** The conversation ids with a list, by bucket, on the server on `port`. */
async function listsByBucket(port) {
  const found = new Map();
  await withClient(port, async (admin) => {
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', 'wbot:msg:*', 'COUNT', SCAN_COUNT);
      cursor = next;
      for (const key of keys) {
        const match = /^wbot:msg:\{b(\d+)\}:c:(.*)$/s.exec(key);
        if (!match) continue;
        const bucket = Number(match[1]);
        if (!found.has(bucket)) found.set(bucket, []);
        found.get(bucket).push(match[2]);
      }
    } while (cursor !== '0');
  });
  return found;
}

const pairs = (flat) => {
  const map = new Map();
  for (let i = 0; i < flat.length; i += 2) map.set(flat[i], Number(flat[i + 1]));
  return map;
};

/** One bucket's figures and what is wrong with them (`problems` empty when exact). */
async function checkBucket(port, { bucket, budget, keys }, listed) {
  return withClient(port, async (admin) => {
    const prefix = `${bucketPrefix(bucket)}c:`;
    const sizesBefore = await admin.hkeys(keys.sizes);
    const ids = [...new Set([...listed, ...sizesBefore])];
    const multi = admin.multi().time().get(keys.total).hgetall(keys.sizes);
    multi.zrange(keys.lru, 0, -1, 'WITHSCORES').zrange(keys.deadlines, 0, -1, 'WITHSCORES');
    for (const id of ids) multi.llen(prefix + id).lindex(prefix + id, 0);
    const replies = (await multi.exec()).map(([error, value]) => {
      if (error) throw error;
      return value;
    });
    const [[seconds, micros], totalText, sizesRecord, lruFlat, deadlinesFlat] = replies;
    const nowUs = Number(seconds) * 1e6 + Number(micros);
    const sizes = new Map(Object.entries(sizesRecord).map(([id, size]) => [id, Number(size)]));
    const lru = pairs(lruFlat);
    const deadlines = pairs(deadlinesFlat);
    const expired = (id) =>
      deadlines.size > 0
        ? (deadlines.get(id) ?? Infinity) < nowUs
        : (lru.get(id) ?? Infinity) < nowUs - MESSAGES_TTL_SECONDS * 1e6;
    const problems = [];
    let messages = 0;
    let lists = 0;
    let phantoms = 0;
    ids.forEach((id, i) => {
      const length = replies[5 + 2 * i];
      const head = replies[6 + 2 * i];
      const counted = sizes.get(id);
      if (length === 0) {
        if (counted === undefined) return;
        if (expired(id)) phantoms += counted;
        else problems.push(`${id}: counted ${counted} but has no list, and is not expired`);
        return;
      }
      lists++;
      messages += length - 1;
      if (head !== CONVERSATION_HEADER) problems.push(`${id}: a list without the header`);
      if (counted === undefined) problems.push(`${id}: a list of ${length - 1} not counted in sizes`);
      else if (counted !== length - 1) problems.push(`${id}: ${length - 1} messages, counted ${counted}`);
      if (!lru.has(id)) problems.push(`${id}: a list not in the LRU`);
    });
    const sizesSum = [...sizes.values()].reduce((sum, size) => sum + size, 0);
    const total = totalText === null ? null : Number(totalText);
    if (total === null && (lists > 0 || sizes.size > 0)) problems.push('no total, with conversations cached');
    if (total !== null && total !== sizesSum) problems.push(`total ${total}, but the sizes sum to ${sizesSum}`);
    if (total !== null && messages !== total - phantoms) {
      problems.push(`the lists hold ${messages} messages, total says ${total} (${phantoms} of them expired)`);
    }
    if (messages > budget || (total ?? 0) > budget) problems.push(`over the budget of ${budget}`);
    return { bucket, budget, total, lists, messages, phantoms, problems };
  });
}

/** Every bucket of `topology` (a started Topology), checked. */
async function checkBudgets(topology) {
  const found = new Map();
  for (const server of topology.servers()) {
    for (const [bucket, ids] of await listsByBucket(server.port))
      found.set(bucket, [...(found.get(bucket) ?? []), ...ids]);
  }
  const results = [];
  for (const bucket of buckets(topology.name)) {
    const server = await topology.serverOfBucket(bucket.keys);
    results.push(await checkBucket(server.port, bucket, found.get(bucket.bucket) ?? []));
  }
  return results;
}

module.exports = { checkBudgets };
