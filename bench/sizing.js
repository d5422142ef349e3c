'use strict';
// node bench/sizing.js (after `npm run build:lib`): measures what the cache costs
// in Redis memory, on a private redis-server it starts and stops, and writes the
// tables into docs/sizing.md between the sizing markers.
//
// Bytes are MEMORY USAGE ... SAMPLES 0 (exact, per key, allocator size classes
// included) and the used_memory delta of INFO memory (everything, over the entries).

const { join } = require('node:path');
const { EmbeddingCacheService, MessageCacheClient } = require('../libs/redis-cache/dist');
const { conversationBucket, conversationKeys, embeddingKeys } = require('../libs/redis-cache/dist/keys');
const { writeSection } = require('./lib/doc-section');
const { withPrivateServer } = require('./lib/servers');

const DOC = join(__dirname, '..', 'docs', 'sizing.md');
const START = '<!-- sizing:start -->';
const END = '<!-- sizing:end -->';
const LIMIT = 1000;
const DIMENSIONS = [384, 768, 1536, 3072];
const PRECISIONS = ['float16', 'float32', 'float64'];
const MESSAGE_BYTES = [100, 500, 2000];
const CONVERSATIONS = 200;
const MESSAGES_PER_CONVERSATION = 50;

/** A deterministic stream of floats, so every run stores the same bytes. */
function floats(count, seed) {
  let state = seed >>> 0 || 1;
  return Array.from({ length: count }, () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) / 2 ** 32) * 2 - 1;
  });
}

async function usedMemory(admin) {
  return Number(/^used_memory:(\d+)/m.exec(await admin.info('memory'))[1]);
}

async function memoryUsage(admin, key) {
  return Number(await admin.memory('USAGE', key, 'SAMPLES', 0));
}

async function reset(admin) {
  await admin.flushall();
  await admin.memory('PURGE');
  return usedMemory(admin);
}

const kb = (bytes) => Math.round(bytes / 1024).toLocaleString('en-US');
const round = (value) => Math.round(value).toLocaleString('en-US');

async function embeddingRow(client, admin, dimensions, precision, users, entriesPerUser) {
  const before = await reset(admin);
  const cache = new EmbeddingCacheService(client, { precision, maxEntriesPerUser: LIMIT }, { deadlineMs: 10_000 });
  let keyBytes = 0;
  for (let u = 0; u < users; u++) {
    const userId = `user-${u}`;
    for (let first = 0; first < entriesPerUser; first += 100) {
      const entries = [];
      for (let i = first; i < Math.min(first + 100, entriesPerUser); i++) {
        entries.push({ text: `text ${i} of ${userId}`, embedding: floats(dimensions, u * 100_000 + i + 1) });
      }
      if (!(await cache.cacheEmbeddings(userId, entries))) throw new Error('a sizing write fell back');
    }
    const keys = embeddingKeys(userId);
    keyBytes += (await memoryUsage(admin, keys.vectors)) + (await memoryUsage(admin, keys.lru));
  }
  const entries = users * entriesPerUser;
  const payload = dimensions * { float16: 2, float32: 4, float64: 8 }[precision];
  return {
    dimensions,
    precision,
    users,
    entriesPerUser,
    payload,
    perEntry: keyBytes / entries,
    perEntryUsed: ((await usedMemory(admin)) - before) / entries,
  };
}

/** A message whose JSON is exactly `bytes` long. */
function message(conversation, i, bytes) {
  const base = { id: `${conversation}-m${i}`, role: 'user', content: '' };
  const padding = bytes - Buffer.byteLength(JSON.stringify(base));
  return { ...base, content: 'x'.repeat(padding) };
}

async function messageRow(client, admin, bytes) {
  const before = await reset(admin);
  const total = CONVERSATIONS * MESSAGES_PER_CONVERSATION;
  const cache = new MessageCacheClient(client, { maxCachedMessages: total }, { deadlineMs: 10_000 });
  for (let c = 0; c < CONVERSATIONS; c++) {
    const id = `conversation-${c}`;
    const batch = Array.from({ length: MESSAGES_PER_CONVERSATION }, (_, i) => message(id, i, bytes));
    if (!(await cache.cacheMessages(id, batch))) throw new Error('a sizing fill fell back');
  }
  const one = conversationKeys('conversation-0', conversationBucket('conversation-0', 1));
  const list = await memoryUsage(admin, one.messages);
  const ids = await memoryUsage(admin, one.ids);
  const bookkeeping =
    (await memoryUsage(admin, one.lru)) + (await memoryUsage(admin, one.sizes)) + (await memoryUsage(admin, one.total));
  return {
    bytes,
    perMessageList: list / MESSAGES_PER_CONVERSATION,
    perMessageIds: ids / MESSAGES_PER_CONVERSATION,
    perConversationBookkeeping: bookkeeping / CONVERSATIONS,
    perMessageUsed: ((await usedMemory(admin)) - before) / total,
  };
}

function embeddingTable(rows) {
  const lines = [
    '| Dimensions | Precision | Vector payload (B) | Bytes per entry (MEMORY USAGE) | Bytes per entry (used_memory) | Per user at 1,000 entries |',
    '| ---: | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.dimensions} | ${row.precision} | ${round(row.payload)} | ${round(row.perEntry)} | ${round(row.perEntryUsed)} | ${kb(row.perEntry * LIMIT)} KB |`,
    );
  }
  return lines.join('\n');
}

function smallUserTable(rows) {
  const lines = [
    '| Entries per user | Users | Bytes per entry (MEMORY USAGE) | Bytes per entry (used_memory) |',
    '| ---: | ---: | ---: | ---: |',
  ];
  for (const row of rows) {
    lines.push(`| ${row.entriesPerUser} | ${row.users} | ${round(row.perEntry)} | ${round(row.perEntryUsed)} |`);
  }
  return lines.join('\n');
}

function messageTable(rows) {
  const lines = [
    '| Message JSON (B) | List element (B per message) | Id set (B per message) | Bucket bookkeeping (B per conversation) | All in (used_memory, B per message) |',
    '| ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const row of rows) {
    lines.push(
      `| ${round(row.bytes)} | ${round(row.perMessageList)} | ${round(row.perMessageIds)} | ${round(row.perConversationBookkeeping)} | ${round(row.perMessageUsed)} |`,
    );
  }
  return lines.join('\n');
}

async function main() {
  await withPrivateServer(['--maxmemory-policy', 'noeviction'], async ({ client, admin }) => {
    const version = /^redis_version:(\S+)/m.exec(await admin.info('server'))[1];
    const allocator = /^mem_allocator:(\S+)/m.exec(await admin.info('memory'))[1];
    // a first fill loads the scripts and grows Redis's own structures: it is not counted
    await embeddingRow(client, admin, 384, 'float32', 1, 100);
    const embeddings = [];
    for (const dimensions of DIMENSIONS) {
      for (const precision of PRECISIONS) {
        embeddings.push(await embeddingRow(client, admin, dimensions, precision, 1, LIMIT));
      }
    }
    const small = [];
    for (const entries of [1, 10, 100, 1000]) {
      small.push(await embeddingRow(client, admin, 1536, 'float32', Math.max(1, 1000 / entries), entries));
    }
    const messages = [];
    for (const bytes of MESSAGE_BYTES) messages.push(await messageRow(client, admin, bytes));

    const generated = [
      `Measured by \`node bench/sizing.js\` on Redis ${version} (${allocator}), ${new Date().toISOString().slice(0, 10)}.`,
      '',
      `### Embeddings: one user at the limit (${LIMIT.toLocaleString('en-US')} entries)`,
      '',
      embeddingTable(embeddings),
      '',
      '### Embeddings: 1536-d float32, by entries per user (1,000 entries in all)',
      '',
      smallUserTable(small),
      '',
      `### Messages: ${CONVERSATIONS} conversations of ${MESSAGES_PER_CONVERSATION} messages, each with an \`id\``,
      '',
      messageTable(messages),
    ].join('\n');
    await writeSection(DOC, START, END, generated);
    console.log(generated);
  });
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
