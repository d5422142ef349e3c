'use strict';
// node bench/script-cost.js (after `npm run build:lib`): where the Redis time of
// a message read and a message append goes. On a private redis-server it fills
// one conversation of 50 messages of 400 characters, then runs, 5000 times each,
// a native LRANGE, a script that only returns that LRANGE, and the library's
// read; then appends one new message at a time, 5000 times over 32 cached
// conversations, with the library and natively (RPUSH + PEXPIRE, what
// LangChain.js's addMessage sends); and, to tell where an append's time goes
// besides its commands, runs with an append's keys and arguments a script that
// only returns, and one that only runs the preludes every message script starts
// with (defining the shared functions, TIME and one EXISTS). Prints Redis's own
// time per call (INFO commandstats: usec_per_call of the command, and of the
// commands the scripts call). Prints; writes nothing.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { MessageCacheClient } = require('../libs/redis-cache/dist');
const { conversationKeys } = require('../libs/redis-cache/dist/keys');
const { MESSAGE_PRELUDE } = require('../libs/redis-cache/dist/messages/message-scripts');
const { withPrivateServer } = require('./lib/servers');

const CALLS = 5000;
const MESSAGES = Array.from({ length: 50 }, (_, i) => ({ id: `m${i}`, role: 'user', content: 'x'.repeat(400) }));

/** Redis's time per call of each command that ran since the last reset, in µs. */
async function usPerCall(admin) {
  const stats = await admin.info('commandstats');
  const rows = [...stats.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)];
  return Object.fromEntries(
    rows.map(([, name, calls, usec]) => [name, { calls: Number(calls), us: Number(usec) / Number(calls) }]),
  );
}

async function measure(admin, name, call) {
  await call(0); // loads a script once, outside the count
  await admin.config('RESETSTAT');
  await Promise.all(Array.from({ length: CALLS }, (_, i) => call(i + 1)));
  const stats = await usPerCall(admin);
  const rows = Object.entries(stats)
    .filter(([command]) => !command.startsWith('config'))
    .map(([command, { calls, us }]) => `${command} ${us.toFixed(1)} µs × ${calls / CALLS}`);
  console.log(`${name}: ${rows.join(', ')}`);
}

async function main() {
  await withPrivateServer([], async ({ client, admin }) => {
    const cache = new MessageCacheClient(client, {}, { deadlineMs: 10_000 });
    if (!(await cache.cacheMessages('conversation', MESSAGES))) throw new Error('fill failed');
    const key = conversationKeys('conversation', 0).messages;
    await measure(admin, 'native LRANGE', () => client.lrange(key, 1, -1));
    await measure(admin, "script: return redis.call('LRANGE', ...)", () =>
      client.eval("return redis.call('LRANGE', KEYS[1], 1, -1)", 1, key),
    );
    await measure(admin, 'library read script (getCachedMessages)', async () => {
      if ((await cache.getCachedMessages('conversation'))?.length !== MESSAGES.length) throw new Error('read failed');
    });
    const conversations = Array.from({ length: 32 }, (_, i) => `appended-${i}`);
    for (const id of conversations) if (!(await cache.cacheMessages(id, MESSAGES))) throw new Error('fill failed');
    const message = (i) => ({ id: `new-${i}`, role: 'user', content: 'y'.repeat(400) });
    await measure(admin, 'native RPUSH + PEXPIRE of one message', (i) => {
      const key = conversationKeys(conversations[i % 32], 0).messages;
      return client
        .multi()
        .rpush(key, JSON.stringify(message(i)))
        .pexpire(key, 86_400_000)
        .exec();
    });
    await measure(admin, 'library append script (appendMessages of one)', async (i) => {
      if (!(await cache.appendMessages(conversations[i % 32], [message(i)]))) throw new Error('append failed');
    });
    // the append's 7 keys and 8 arguments (conversation, TTL, budget, two prefixes, n, the id, the message)
    const k = conversationKeys(conversations[0], 0);
    const keys = [k.messages, k.ids, k.lease, k.lru, k.sizes, k.total, k.deadlines];
    const args = (i) => [
      conversations[0],
      86_400_000,
      10_000,
      k.messagesPrefix,
      k.idsPrefix,
      1,
      `"x${i}"`,
      'y'.repeat(400),
    ];
    const preludes = MESSAGE_PRELUDE.map((file) =>
      readFileSync(join(__dirname, '..', 'libs', 'redis-cache', 'dist', 'scripts', file), 'utf8'),
    );
    for (const [name, lua] of [
      ['script that only returns, with the keys and arguments of an append', 'return 1'],
      ["script of the message scripts' preludes alone", `${preludes.join('\n')}\nreturn 1`],
    ]) {
      const sha = await client.script('LOAD', lua);
      await measure(admin, name, (i) => client.evalsha(sha, keys.length, ...keys, ...args(i)));
    }
  });
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
