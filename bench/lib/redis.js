'use strict';
// Connections to the bench's private Redis (started by run.sh, never 6379).

const { once } = require('node:events');
const { setTimeout: sleep } = require('node:timers/promises');
const { join } = require('node:path');
const Redis = require('ioredis');

/** The ioredis the library loads (the repository's); the bench's own is the one its peers declare (5). */
const LibraryRedis = require(
  require.resolve('ioredis', { paths: [join(__dirname, '..', '..', 'libs', 'redis-cache')] }),
);

const READY_TIMEOUT_MS = 5000;

function redisUrl() {
  const url = process.env.BENCH_REDIS_URL;
  if (!url) throw new Error('BENCH_REDIS_URL is not set: run the benchmarks with `npm run bench`');
  if (new URL(url).port === '6379') throw new Error('refusing to benchmark against port 6379');
  return url;
}

/** Resolves once an ioredis client is ready; the library's clients refuse calls before that. */
async function ready(client) {
  if (client.status === 'ready') return client;
  const timeout = sleep(READY_TIMEOUT_MS, 'timeout', { ref: false });
  const outcome = await Promise.race([once(client, 'ready').then(() => 'ready'), timeout]);
  if (outcome !== 'ready') throw new Error(`Redis client not ready within ${READY_TIMEOUT_MS} ms`);
  return client;
}

/** A plain ioredis client with ioredis's own defaults, of the major the peers declare (LangChain.js's ioredis store). */
function plainClient(url) {
  return ready(new Redis(url));
}

/**
 * A plain client of the ioredis the library runs on, with ioredis's defaults: the raw floors. On one client
 * major, a ratio to the floor measures the cache's own cost; ioredis 6 reads a 50-message LRANGE with more
 * Node time than 5 does.
 */
function floorClient(url) {
  return ready(new LibraryRedis(url));
}

async function serverInfo(admin) {
  const server = await admin.info('server');
  const memory = await admin.info('memory');
  return { version: /^redis_version:(\S+)/m.exec(server)[1], allocator: /^mem_allocator:(\S+)/m.exec(memory)[1] };
}

module.exports = { floorClient, plainClient, ready, redisUrl, serverInfo };
