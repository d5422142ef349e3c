'use strict';
// Connections to the bench's private Redis (started by run.sh, never 6379).

const { once } = require('node:events');
const { setTimeout: sleep } = require('node:timers/promises');
const Redis = require('ioredis');

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

/** A plain ioredis client with ioredis's own defaults: what the raw floor and the peers use. */
function plainClient(url) {
  return ready(new Redis(url));
}

async function serverInfo(admin) {
  const server = await admin.info('server');
  const memory = await admin.info('memory');
  return { version: /^redis_version:(\S+)/m.exec(server)[1], allocator: /^mem_allocator:(\S+)/m.exec(memory)[1] };
}

module.exports = { plainClient, ready, redisUrl, serverInfo };
