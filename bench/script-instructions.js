'use strict';
// node bench/script-instructions.js [calls] [--write | --check] (after `npm run build:lib`; needs valgrind):
// the instructions redis-server executes per library call, counted by callgrind.
// Unlike a time, the count hardly moves from run to run whatever else the machine
// is doing, so it tells a change of the scripts' cost that the timed benches'
// noise hides. Runs a private redis-server under `valgrind --tool=callgrind` on a
// free port, fills 32 conversations of 50 messages and 200 embeddings, then, one
// call at a time (no pipelining, so that the count per call is stable), zeroes
// the counters, makes `calls` calls of one kind and dumps them: a message append
// of one, a message read of 50, an embedding hit, write and 100-text batch read.
//
// What Redis does on its own clock would count too, and more the slower the run: its cron (`--hz 1`, the least),
// the active expiry of keys with a TTL (every key of ours has one; off, with DEBUG SET-ACTIVE-EXPIRE 0) and the
// incremental rehashing (`activerehashing no`). Without them two runs agree within about 1% (docs/benchmarks.md).
//
//   --write  writes the figures to bench/script-instructions.json, the committed guard
//   --check  (npm run bench:instructions) measures with the committed number of calls and exits 1, naming each
//            call and its script, if any figure is more than 5% above its committed one (bench/lib/instruction-budget.js)
// To compare two builds, run it in a checkout of each.
const { execFileSync } = require('node:child_process');
const { readdirSync, readFileSync, statSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { parseArgs } = require('node:util');
const { setTimeout: sleep } = require('node:timers/promises');
const { createCacheRedis, EmbeddingCacheService, MessageCacheClient } = require('../libs/redis-cache/dist');
const { CONVERSATION, DIMENSIONS, message, vectorFor } = require('./lib/fixtures');
const { ready } = require('./lib/redis');
const { startServer } = require('./lib/servers');
const { TOLERANCE, compareInstructions } = require('./lib/instruction-budget');

const COMMITTED = join(__dirname, 'script-instructions.json');
const { values: flags, positionals } = parseArgs({
  options: { write: { type: 'boolean', default: false }, check: { type: 'boolean', default: false } },
  allowPositionals: true,
});
const committed = flags.check ? JSON.parse(readFileSync(COMMITTED, 'utf8')) : undefined;
const CALLS = committed?.calls ?? Number(positionals[0] ?? 300);
const CONVERSATIONS = 32;
const TEXTS = 200;
/** Under valgrind a call takes milliseconds: no deadline of the library's may cut one short. */
const SLOW = { deadlineMs: 60_000 };

/** The scripts each call runs, which a failed check names. */
const SCRIPTS = {
  'message append (1)': 'message-append.lua',
  'message read (50)': 'message-read.lua, then LRANGE',
  'embedding hit': 'embedding-get.lua',
  'embedding write': 'embedding-set.lua',
  'embedding batch read (100)': 'embedding-get.lua, 100 fields',
};

const int = (n) => n.toLocaleString('en-US');

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
  const quiet = ['--hz', '1', '--activerehashing', 'no', '--enable-debug-command', 'local'];
  const server = await startServer(quiet, {
    under: (dir) => ['valgrind', '--tool=callgrind', `--callgrind-out-file=${join(dir, 'callgrind.out')}`],
    // valgrind takes seconds to start redis-server
    startMs: 30_000,
  });
  // under valgrind a command takes milliseconds, and more on a loaded machine
  const client = createCacheRedis(server.url, { commandTimeout: 60_000 });
  const measured = {};
  let redis;
  try {
    await ready(client);
    await client.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    redis = /^redis_version:(\S+)/m.exec(await client.info('server'))[1];
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
    const unknown = cases.filter(([name]) => !SCRIPTS[name]).map(([name]) => name);
    if (unknown.length) throw new Error(`no script named for ${unknown.join(', ')} (SCRIPTS)`);
    console.log(`Instructions redis-server executed per call (callgrind), ${CALLS} calls each:`);
    for (const [name, call] of cases) {
      await call(0); // loads the script, outside the count
      execFileSync('callgrind_control', ['--zero', String(server.child.pid)], { stdio: 'ignore' });
      for (let i = 0; i < CALLS; i++) if (!(await call(i))) throw new Error(`${name} failed`);
      execFileSync('callgrind_control', ['--dump', String(server.child.pid)], { stdio: 'ignore' });
      await sleep(200);
      measured[name] = Math.round(lastDump(server.dir) / CALLS);
      console.log(`  ${name} (${SCRIPTS[name]}): ${int(measured[name])}`);
    }
  } finally {
    client.disconnect();
    await server.stop();
  }
  if (flags.write) write(redis, measured);
  if (committed) check(redis, measured);
}

function write(redis, measured) {
  const figures = { redis, calls: CALLS, instructions: measured };
  writeFileSync(COMMITTED, `${JSON.stringify(figures, null, 2)}\n`);
  console.log(`wrote ${COMMITTED}`);
}

/** Fails (exit code 1) naming each call and script more than the tolerance above its committed figure. */
function check(redis, measured) {
  const { over, missing, ok } = compareInstructions(committed.instructions, measured);
  const percent = (rise) => `${(rise * 100).toFixed(1)}%`;
  if (ok) {
    console.log(`OK: no figure more than ${percent(TOLERANCE)} above bench/script-instructions.json`);
    return;
  }
  for (const { name, committed: before, measured: now, rise } of over) {
    console.error(
      `FAILED: ${name} (${SCRIPTS[name]}): ${int(now)} instructions per call, ${percent(rise)} above the committed ` +
        `${int(before)} (more than ${percent(TOLERANCE)}): say why in the change's note and run --write`,
    );
  }
  for (const name of missing) console.error(`FAILED: ${name} is committed but was not measured`);
  if (redis !== committed.redis) {
    console.error(`(the figures were committed on redis-server ${committed.redis}, this is ${redis})`);
  }
  process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
