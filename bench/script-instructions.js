'use strict';
// node bench/script-instructions.js [calls] (after `npm run build:lib`; needs valgrind):
// the instructions redis-server executes per library call, counted by callgrind.
// Unlike a time, the count is the same from run to run whatever else the machine
// is doing, so it tells a change of the scripts' cost that the timed benches'
// noise hides. Runs a private redis-server under `valgrind --tool=callgrind` on a
// free port, fills 32 conversations of 50 messages and 200 embeddings, then, one
// call at a time (no pipelining, so that the count per call is stable), zeroes
// the counters, makes `calls` calls of one kind and dumps them: a message append
// of one, a message read of 50, an embedding hit, write and 100-text batch read.
// To compare two builds, run it in a checkout of each. Prints; writes nothing.
const { execFileSync } = require('node:child_process');
const { readdirSync, readFileSync, statSync } = require('node:fs');
const { join } = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');
const { createCacheRedis, EmbeddingCacheService, MessageCacheClient } = require('../libs/redis-cache/dist');
const { CONVERSATION, DIMENSIONS, message, vectorFor } = require('./lib/fixtures');
const { ready } = require('./lib/redis');
const { startServer } = require('./lib/servers');

const CALLS = Number(process.argv[2] ?? 1000);
const CONVERSATIONS = 32;
const TEXTS = 200;
/** Under valgrind a call takes milliseconds: no deadline of the library's may cut one short. */
const SLOW = { deadlineMs: 60_000 };

/** The instructions of the dump callgrind wrote last. */
function lastDump(dir) {
  const [newest] = readdirSync(dir)
    .filter((name) => name.startsWith('callgrind.out'))
    .map((name) => join(dir, name))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return Number(/^(?:summary|totals): (\d+)/m.exec(readFileSync(newest, 'utf8'))[1]);
}

async function main() {
  execFileSync('valgrind', ['--version']);
  const server = await startServer([], {
    under: (dir) => ['valgrind', '--tool=callgrind', `--callgrind-out-file=${join(dir, 'callgrind.out')}`],
    // valgrind takes seconds to start redis-server
    startMs: 30_000,
  });
  const client = createCacheRedis(server.url);
  try {
    await ready(client);
    const messages = new MessageCacheClient(client, { maxCachedMessages: 10_000_000 }, SLOW);
    const embeddings = new EmbeddingCacheService(client, { maxEntriesPerUser: 100_000 }, SLOW);
    const conversation = (i) => `conversation-${i % CONVERSATIONS}`;
    for (let c = 0; c < CONVERSATIONS; c++) {
      if (!(await messages.cacheMessages(conversation(c), CONVERSATION))) throw new Error('fill failed');
    }
    const text = (i) => `text ${i % TEXTS}`;
    const entries = Array.from({ length: TEXTS }, (_, i) => ({ text: text(i), embedding: vectorFor(i) }));
    if (!(await embeddings.cacheEmbeddings('user', entries))) throw new Error('embedding fill failed');
    const batch = entries.slice(0, 100).map((entry) => entry.text);

    let appended = 0;
    const cases = [
      [
        'message append (1)',
        () => messages.appendMessages(conversation(appended), [message(`new-${appended++}`, 'user')]),
      ],
      ['message read (50)', async (i) => (await messages.getCachedMessages(conversation(i)))?.length >= 50],
      ['embedding hit', async (i) => (await embeddings.getCachedEmbedding('user', text(i)))?.length === DIMENSIONS],
      ['embedding write', (i) => embeddings.cacheEmbedding('user', `written ${i % 300}`, vectorFor(i))],
      ['embedding batch read (100)', async () => (await embeddings.getCachedEmbeddings('user', batch)).every(Boolean)],
    ];
    console.log(`Instructions redis-server executed per call (callgrind), ${CALLS} calls each:`);
    for (const [name, call] of cases) {
      await call(0); // loads the script, outside the count
      execFileSync('callgrind_control', ['--zero', String(server.child.pid)], { stdio: 'ignore' });
      for (let i = 0; i < CALLS; i++) if (!(await call(i))) throw new Error(`${name} failed`);
      execFileSync('callgrind_control', ['--dump', String(server.child.pid)], { stdio: 'ignore' });
      await sleep(200);
      console.log(`  ${name}: ${Math.round(lastDump(server.dir) / CALLS).toLocaleString('en-US')}`);
    }
  } finally {
    client.disconnect();
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
