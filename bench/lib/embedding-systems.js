'use strict';
// One adapter per embedding cache under test, all with the same shape:
// fill(n) stores texts 0..n-1, hit(i) reads text i back (true only for a
// 1536-d vector), write(i) stores text i, close() releases the connections.
// Each system keeps its entries under keys of its own, so that all of them can
// hold their fill at once.

const { createHash } = require('node:crypto');
const { CacheBackedEmbeddings } = require('@langchain/classic/embeddings/cache_backed');
const { RedisByteStore } = require('@langchain/community/storage/ioredis');
const { Embeddings } = require('@langchain/core/embeddings');
const KeyvRedis = require('@keyv/redis').default;
const { createCache } = require('cache-manager');
const { Keyv } = require('keyv');
const Module = require('node:module');
const { join, sep } = require('node:path');
const library = require('../../libs/redis-cache/dist');
const { viaLoop } = require('./decode-variants');
const { DIMENSIONS, text, vectorFor } = require('./fixtures');
const { floorClient, plainClient, ready } = require('./redis');

const MAX_ENTRIES_PER_USER = 100_000;
const FILL_BATCH = 100;

const isVector = (v) => v != null && v.length === DIMENSIONS;

function hashedKey(prefix, t) {
  return prefix + createHash('sha256').update(t).digest('base64url');
}

async function inBatches(n, call) {
  for (let first = 0; first < n; first += FILL_BATCH) {
    await call(Array.from({ length: Math.min(FILL_BATCH, n - first) }, (_, k) => first + k));
  }
}

/**
 * A second copy of the library, loaded as in an app that does not have `@opentelemetry/api`: the floor for the
 * cost of tracing while no SDK is registered (the repository has the API installed, so every other copy loads it).
 */
function libraryWithoutOpenTelemetry() {
  const dist = join(__dirname, '..', '..', 'libs', 'redis-cache', 'dist');
  const ownModules = () => Object.keys(require.cache).filter((path) => path.startsWith(dist + sep));
  const loaded = Object.fromEntries(ownModules().map((path) => [path, require.cache[path]]));
  for (const path of Object.keys(loaded)) delete require.cache[path];
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    if (request === '@opentelemetry/api') {
      throw Object.assign(new Error(`Cannot find module '${request}'`), { code: 'MODULE_NOT_FOUND' });
    }
    return resolve.call(this, request, ...rest);
  };
  try {
    return require(dist);
  } finally {
    Module._resolveFilename = resolve;
    for (const path of ownModules()) delete require.cache[path];
    Object.assign(require.cache, loaded);
  }
}

/**
 * Ours: EmbeddingCacheService on a client from the library's createCacheRedis,
 * `precision` float32 (the default) or float16; one user per configuration.
 * `withoutOpenTelemetry` runs it on a copy of the library that found no
 * `@opentelemetry/api`; `nearCache` turns the near cache on with those options.
 */
async function ours(
  url,
  { enableAutoPipelining },
  { precision = 'float32', withoutOpenTelemetry = false, nearCache = undefined } = {},
) {
  const { createCacheRedis, EmbeddingCacheService } = withoutOpenTelemetry ? libraryWithoutOpenTelemetry() : library;
  const client = await ready(createCacheRedis(url, { enableAutoPipelining }));
  const cache = new EmbeddingCacheService(client, { maxEntriesPerUser: MAX_ENTRIES_PER_USER, precision, nearCache });
  const user =
    `bench-user-${precision}-autopipelining-${enableAutoPipelining ? 'on' : 'off'}` +
    `${withoutOpenTelemetry ? '-no-otel' : ''}${nearCache ? `-near-${nearCache.maxBytes}` : ''}`;
  // A miss on an absent user loads the script and writes nothing.
  await cache.getCachedEmbedding(user, 'prime');
  return {
    cache,
    user,
    fill: (n) =>
      inBatches(n, async (ids) => {
        const stored = await cache.cacheEmbeddings(
          user,
          ids.map((i) => ({ text: text(i), embedding: vectorFor(i) })),
        );
        if (!stored) throw new Error('ours: fill failed');
      }),
    hit: async (i) => isVector(await cache.getCachedEmbedding(user, text(i))),
    write: (i) => cache.cacheEmbedding(user, text(i), vectorFor(i)),
    stats: () => cache.stats(),
    close: async () => {
      await cache.close();
      await client.quit();
    },
  };
}

/**
 * Copies when ioredis hands back a Buffer at an offset a Float32Array view
 * can't start at; converts with the fastest plain loop, as a floor should.
 */
function decodeFloat32(bytes) {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes);
  return viaLoop(new Float32Array(aligned.buffer, aligned.byteOffset, aligned.length / 4));
}

function encodeFloat32(vector) {
  const floats = Float32Array.from(vector);
  return Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength);
}

/** The floor: GET/SET of float32 bytes under a sha256-hashed string key, decoded to number[]. */
async function raw(url) {
  const client = await floorClient(url);
  const key = (i) => hashedKey('raw:', text(i));
  return {
    fill: (n) =>
      inBatches(n, async (ids) => {
        const pipeline = client.pipeline();
        for (const i of ids) pipeline.set(key(i), encodeFloat32(vectorFor(i)));
        await pipeline.exec();
      }),
    hit: async (i) => {
      const bytes = await client.getBuffer(key(i));
      return bytes !== null && isVector(decodeFloat32(bytes));
    },
    write: async (i) => (await client.set(key(i), encodeFloat32(vectorFor(i)))) === 'OK',
    close: () => client.quit(),
  };
}

/**
 * The "model" behind CacheBackedEmbeddings: returns the fixture vectors, so the
 * cost measured is the cache's. While `computing` is false it refuses, so a
 * hit case that missed fails instead of passing silently.
 */
class FixtureEmbeddings extends Embeddings {
  constructor() {
    super({});
    this.computing = true;
  }

  async embedDocuments(texts) {
    if (!this.computing) throw new Error('LangChain.js: cache miss during a hit case');
    return texts.map((t) => vectorFor(Number(/#(\d+)/.exec(t)[1])));
  }

  async embedQuery(t) {
    const [vector] = await this.embedDocuments([t]);
    return vector;
  }
}

/** LangChain.js: CacheBackedEmbeddings.fromBytesStore over RedisByteStore (ioredis). */
async function langchain(url) {
  const client = await plainClient(url);
  const model = new FixtureEmbeddings();
  const embeddings = CacheBackedEmbeddings.fromBytesStore(model, new RedisByteStore({ client }), {
    namespace: 'lc:',
  });
  return {
    fill: (n) =>
      inBatches(n, async (ids) => {
        model.computing = true;
        await embeddings.embedDocuments(ids.map(text));
      }),
    hit: async (i) => {
      model.computing = false;
      const [vector] = await embeddings.embedDocuments([text(i)]);
      return isVector(vector);
    },
    write: async (i) => {
      model.computing = true;
      const [vector] = await embeddings.embedDocuments([text(i)]);
      return isVector(vector);
    },
    close: () => client.quit(),
  };
}

/** cache-manager 7 over Keyv + @keyv/redis, number[] vectors (serialized as JSON) under hashed keys. */
async function cacheManager(url) {
  const cache = createCache({ stores: [new Keyv({ store: new KeyvRedis(url) })] });
  const key = (i) => hashedKey('cm:', text(i));
  await cache.get('prime');
  return {
    fill: (n) => inBatches(n, (ids) => cache.mset(ids.map((i) => ({ key: key(i), value: vectorFor(i) })))),
    hit: async (i) => isVector(await cache.get(key(i))),
    write: async (i) => isVector(await cache.set(key(i), vectorFor(i))),
    close: () => cache.disconnect(),
  };
}

module.exports = { cacheManager, langchain, ours, raw };
