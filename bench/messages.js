'use strict';
// The message suite: with 32 in flight and each worker on its own conversation,
// a fill of 50 messages, a read of the 50, and an append of one. Every system
// is created once; each round runs the fill for every system, then the read,
// then the append, in the round's order. Fill runs first, so that every
// conversation holds the same 50 messages again for the read.

const { measure, timings } = require('./lib/harness');
const { acrossRounds, rotated } = require('./lib/rounds');
const systems = require('./lib/message-systems');

const SYSTEMS = [
  {
    key: 'ours',
    label: 'ours (autopipelining off)',
    create: (url) => systems.ours(url, { enableAutoPipelining: false }),
  },
  {
    key: 'oursAuto',
    label: 'ours (autopipelining on)',
    create: (url) => systems.ours(url, { enableAutoPipelining: true }),
  },
  { key: 'raw', label: 'raw ioredis LIST', create: systems.raw },
  { key: 'langchain', label: 'LangChain.js RedisChatMessageHistory', create: systems.langchain },
];

/** The cases in the order each round runs them: name in the report, and the adapter's method. */
const CASES = [
  ['fill 50', 'fill'],
  ['read 50', 'read'],
  ['append 1', 'append'],
];

async function runMessages(url, admin) {
  const { rounds } = timings();
  const results = { systems: {} };
  const live = [];
  await admin.flushall();
  try {
    for (const { key, label, create } of SYSTEMS) {
      live.push({
        key,
        label,
        system: await create(url),
        ...Object.fromEntries(CASES.map(([, field]) => [field, []])),
      });
    }
    for (let r = 0; r < rounds; r++) {
      const order = rotated(live, r, rounds);
      console.log(`messages, round ${r + 1} of ${rounds}: ${order.map((s) => s.key).join(', ')}`);
      for (const [name, field] of CASES) {
        for (const s of order) s[field].push(await measure(`${s.label} ${name}`, (w) => s.system[field](w), admin));
      }
    }
    for (const s of live) {
      results.systems[s.key] = {
        label: s.label,
        ...Object.fromEntries(CASES.map(([, field]) => [field, acrossRounds(s[field])])),
        stats: s.system.stats?.(),
      };
    }
  } finally {
    await Promise.all(live.map((s) => s.system.close()));
  }
  return results;
}

module.exports = { runMessages };
