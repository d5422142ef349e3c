'use strict';
// The message suite: for each system, with 32 in flight and each worker on
// its own conversation, a fill of 50 messages, a read of the 50, and an append
// of one. Fill runs first so that every conversation exists for the others;
// for ours, variants of the read script run on the same conversations.

const { measure } = require('./lib/harness');
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

async function runMessages(url, admin) {
  const results = { systems: {} };
  for (const { key, label, create } of SYSTEMS) {
    console.log(`messages: ${label}`);
    await admin.flushall();
    const system = await create(url);
    try {
      const fill = await measure(`${label} fill 50`, (w) => system.fill(w), admin);
      const read = await measure(`${label} read 50`, (w) => system.read(w), admin);
      const append = await measure(`${label} append 1`, (w) => system.append(w), admin);
      results.systems[key] = { label, fill, read, append, stats: system.stats?.() };
    } finally {
      await system.close();
    }
  }
  return results;
}

module.exports = { runMessages };
