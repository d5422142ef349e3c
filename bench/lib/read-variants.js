'use strict';
// A micro-benchmark of a proposed change to the library's message read, run on
// the conversations that ours just filled: the script as shipped against two
// variants that stop assembling the JSON array inside Lua. All three are called
// the same way (a plain ioredis client, no SafeRedis), so only the script differs.
//
// It leans on the library's internals (the assembled script, the key layout
// and the argument order) on purpose: it measures a script, not the API.

const Redis = require('ioredis');
const { SCRIPTS } = require('../../libs/redis-cache/dist/scripts');
const { bucketBudget, conversationKeys } = require('../../libs/redis-cache/dist/keys');
const { MESSAGE_DEFAULTS } = require('../../libs/redis-cache/dist');
const { CONVERSATION_LENGTH } = require('./fixtures');
const { measure } = require('./harness');
const { ready } = require('./redis');

/** The shipped script's last two lines: the JSON array is built by table.concat in Lua. */
const SHIPPED_TAIL = `local items = redis.call('LRANGE', messages, first, -1)
return { 1, '[' .. table.concat(items, ',') .. ']' }`;

const VARIANT_TAILS = {
  // The elements go back as an array reply; Node joins them and parses once.
  array: `local items = redis.call('LRANGE', messages, first, -1)
return { 1, items }`,
  // The script only does the bookkeeping; LRANGE runs natively in the same MULTI.
  multi: `return { 1, first }`,
};

function variantSources() {
  const shipped = SCRIPTS.messageRead.lua;
  if (!shipped.trimEnd().endsWith(SHIPPED_TAIL)) return null;
  const head = shipped.trimEnd().slice(0, -SHIPPED_TAIL.length);
  return { shipped, array: head + VARIANT_TAILS.array, multi: head + VARIANT_TAILS.multi };
}

/**
 * Measures the three reads with 32 in flight, each worker on its own
 * conversation `conversationId(w)`, with ours' `maxCachedMessages` and the
 * default TTL. Returns null when the shipped script no longer ends as
 * SHIPPED_TAIL, i.e. the proposal no longer applies.
 */
async function measureReadVariants(url, admin, conversationId, { maxCachedMessages }) {
  const sources = variantSources();
  if (!sources) {
    console.log('  read variants: skipped, the shipped message read no longer builds JSON in Lua');
    return null;
  }
  const client = await ready(new Redis(url));
  try {
    for (const [name, lua] of Object.entries(sources)) client.defineCommand(`read_${name}`, { numberOfKeys: 6, lua });
    const call = (w) => {
      const k = conversationKeys(conversationId(w), 0);
      const keys = [k.messages, k.ids, k.lease, k.lru, k.sizes, k.total];
      const args = [
        conversationId(w),
        MESSAGE_DEFAULTS.ttlSeconds * 1000,
        bucketBudget(maxCachedMessages, 1, 0),
        k.messagesPrefix,
        k.idsPrefix,
        0,
        '',
        MESSAGE_DEFAULTS.leaseTtlMs,
      ];
      return { keys, args, messages: k.messages };
    };
    const parsedLength = (json) => JSON.parse(json).length === CONVERSATION_LENGTH;
    const ops = {
      shipped: async (w) => {
        const { keys, args } = call(w);
        const [hit, json] = await client.read_shipped(...keys, ...args);
        return hit === 1 && parsedLength(json);
      },
      array: async (w) => {
        const { keys, args } = call(w);
        const [hit, items] = await client.read_array(...keys, ...args);
        return hit === 1 && parsedLength(`[${items.join(',')}]`);
      },
      multi: async (w) => {
        const { keys, args, messages } = call(w);
        const [[, [hit]], [, items]] = await client
          .multi()
          .read_multi(...keys, ...args)
          .lrange(messages, 1, -1)
          .exec();
        return hit === 1 && parsedLength(`[${items.join(',')}]`);
      },
    };
    const results = {};
    for (const [name, op] of Object.entries(ops)) {
      results[name] = await measure(`read 50, script variant "${name}"`, op, admin);
    }
    return results;
  } finally {
    await client.quit();
  }
}

module.exports = { measureReadVariants };
