import type { Redis } from 'ioredis';
import { Embeddings } from '@langchain/core/embeddings';
import { SyntheticEmbeddings } from '@langchain/core/utils/testing';
import { EmbeddingCacheService, createCacheRedis, type EmbeddingCacheOptions } from '@wbot/redis-cache';
import { CachedEmbeddings } from '@wbot/redis-cache/langchain';
import { embeddingKeys } from '../../src/keys';
import { inspector, waitUntilReady } from '../../../../test/support/redis-client';
import { RedisServer } from '../../../../test/support/redis-server';
import { embeddingStats } from '../../../../test/support/cache-stats';
import { expectInputError } from '../support/input-error';
import { entryCommands, serving } from '../support/near-cache';

/** A generous deadline: these tests prove behaviour, and a slow CI machine must not turn a call into a fallback. */
const RUNTIME_DEADLINE_MS = 5000;

/**
 * LangChain's SyntheticEmbeddings, whose vector is a function of the text, recording every call
 * the adapter makes. Its queries embed `query <text>`, as E5-style models prefix them, so that a
 * query's vector differs from the same text's document vector, as with many real providers.
 */
class RecordingEmbeddings extends Embeddings {
  readonly documentCalls: string[][] = [];
  readonly queryCalls: string[] = [];

  constructor(private readonly synthetic = new SyntheticEmbeddings({ vectorSize: 6 })) {
    super({});
  }

  async embedDocuments(documents: string[]): Promise<number[][]> {
    this.documentCalls.push([...documents]);
    return Promise.all(documents.map((document) => this.synthetic.embedQuery(document)));
  }

  async embedQuery(query: string): Promise<number[]> {
    this.queryCalls.push(query);
    return this.synthetic.embedQuery(`query ${query}`);
  }
}

/** A vector as the cache stores it (float32) and therefore returns it, cached or just computed. */
const float32 = (vector: number[]): number[] => Array.from(Float32Array.from(vector));
const synthetic = new SyntheticEmbeddings({ vectorSize: 6 });
const documentVector = async (text: string): Promise<number[]> => float32(await synthetic.embedQuery(text));
const queryVector = async (text: string): Promise<number[]> => float32(await synthetic.embedQuery(`query ${text}`));

function connect(url: string): Redis {
  // ioredis's disconnect() on a socket the server already closed leaves a 2 s
  // disconnectTimeout timer behind, which would keep Jest from exiting
  return createCacheRedis(url, { commandTimeout: RUNTIME_DEADLINE_MS, disconnectTimeout: 50 });
}

function service(redis: Redis, options: EmbeddingCacheOptions = {}): EmbeddingCacheService {
  return new EmbeddingCacheService(redis, options, { deadlineMs: RUNTIME_DEADLINE_MS, logger: { warn: () => {} } });
}

const TEXTS = ['apple pie', 'banana split', 'cherry tart', 'date loaf'];

describe('CachedEmbeddings on a real Redis', () => {
  let server: RedisServer;
  let redis: Redis;
  let inspect: Redis;

  beforeAll(async () => {
    server = await RedisServer.start();
    redis = connect(server.url);
    await waitUntilReady(redis);
    inspect = await inspector(server.url);
  });

  afterAll(async () => {
    redis.disconnect();
    inspect.disconnect();
    await server.stop();
  });

  beforeEach(async () => {
    await inspect.flushall();
  });

  it('uses texts whose vectors all differ, so that a vector at the wrong position shows', async () => {
    const vectors = await Promise.all([...TEXTS.map(documentVector), ...TEXTS.map(queryVector)]);
    expect(new Set(vectors.map(String)).size).toBe(2 * TEXTS.length);
  });

  it('embeds documents once: a repeated call is served from the cache, vector for vector, with no model call', async () => {
    const model = new RecordingEmbeddings();
    const cache = service(redis);
    const embeddings = new CachedEmbeddings({ embeddings: model, cache, userId: 'alice' });
    const expected = await Promise.all(TEXTS.map(documentVector));
    expect(await embeddings.embedDocuments(TEXTS)).toEqual(expected);
    expect(await embeddings.embedDocuments(TEXTS)).toEqual(expected);
    expect(model.documentCalls).toEqual([TEXTS]);
    expect(model.queryCalls).toEqual([]);
    expect(cache.stats()).toEqual(embeddingStats({ hits: 4, misses: 4, writes: 4 }));
    expect(await inspect.hlen(embeddingKeys('alice').vectors)).toBe(4);
  });

  it("serves repeated documents and queries from the cache's near cache, with neither a model call nor a Redis call", async () => {
    const model = new RecordingEmbeddings();
    const cache = await serving(service(redis, { nearCache: { maxBytes: 100_000 } }));
    try {
      const embeddings = new CachedEmbeddings({ embeddings: model, cache, userId: 'alice' });
      await embeddings.embedDocuments(TEXTS);
      await embeddings.embedQuery('apple pie');
      await embeddings.embedDocuments(TEXTS);
      await embeddings.embedQuery('apple pie');
      const before = await entryCommands([inspect]);

      expect(await embeddings.embedDocuments(TEXTS)).toEqual(await Promise.all(TEXTS.map(documentVector)));
      expect(await embeddings.embedQuery('apple pie')).toEqual(await queryVector('apple pie'));
      expect(await entryCommands([inspect])).toBe(before);
      expect(model.documentCalls).toEqual([TEXTS]);
      expect(model.queryCalls).toEqual(['apple pie']);
      expect(cache.stats()).toEqual(embeddingStats({ hits: 10, misses: 5, writes: 5, nearHits: 5 }));
    } finally {
      await cache.close();
    }
  });

  it('on a partial hit sends only the missing documents to the model, and puts every vector at its own position', async () => {
    const model = new RecordingEmbeddings();
    const embeddings = new CachedEmbeddings({ embeddings: model, cache: service(redis), userId: 'alice' });
    await embeddings.embedDocuments(['banana split', 'date loaf']);
    const vectors = await embeddings.embedDocuments(TEXTS);
    expect(model.documentCalls).toEqual([
      ['banana split', 'date loaf'],
      ['apple pie', 'cherry tart'],
    ]);
    expect(vectors).toEqual(await Promise.all(TEXTS.map(documentVector)));
  });

  it('computes a document repeated within one call once, and gives every occurrence its vector', async () => {
    const model = new RecordingEmbeddings();
    const embeddings = new CachedEmbeddings({ embeddings: model, cache: service(redis), userId: 'alice' });
    const [apple, banana] = await Promise.all(['apple pie', 'banana split'].map(documentVector));
    expect(await embeddings.embedDocuments(['apple pie', 'banana split', 'apple pie', 'apple pie'])).toEqual([
      apple,
      banana,
      apple,
      apple,
    ]);
    expect(model.documentCalls).toEqual([['apple pie', 'banana split']]);
  });

  it('caches embedQuery too: a query asked again makes no model call', async () => {
    const model = new RecordingEmbeddings();
    const cache = service(redis);
    const embeddings = new CachedEmbeddings({ embeddings: model, cache, userId: 'alice' });
    const expected = await queryVector('cherry tart');
    expect(await embeddings.embedQuery('cherry tart')).toEqual(expected);
    expect(await embeddings.embedQuery('cherry tart')).toEqual(expected);
    expect(model.queryCalls).toEqual(['cherry tart']);
    expect(model.documentCalls).toEqual([]);
    expect(cache.stats()).toEqual(embeddingStats({ hits: 1, misses: 1, writes: 1 }));
  });

  it('caches a text as a query and as a document apart, each with the vector the model gave that way', async () => {
    const model = new RecordingEmbeddings();
    const embeddings = new CachedEmbeddings({ embeddings: model, cache: service(redis), userId: 'alice' });
    const asDocument = await documentVector('apple pie');
    const asQuery = await queryVector('apple pie');
    expect(await embeddings.embedDocuments(['apple pie'])).toEqual([asDocument]);
    expect(await embeddings.embedQuery('apple pie')).toEqual(asQuery);
    expect(await embeddings.embedDocuments(['apple pie'])).toEqual([asDocument]);
    expect(await embeddings.embedQuery('apple pie')).toEqual(asQuery);
    expect(model.documentCalls).toEqual([['apple pie']]);
    expect(model.queryCalls).toEqual(['apple pie']);
    expect(await inspect.hlen(embeddingKeys('alice').vectors)).toBe(2);
  });

  it('keeps users apart: one user never gets a vector cached for another', async () => {
    const cache = service(redis);
    const aliceModel = new RecordingEmbeddings();
    // another model, so that a vector served across users would not equal the right one
    const bobModel = new RecordingEmbeddings(new SyntheticEmbeddings({ vectorSize: 3 }));
    const alice = new CachedEmbeddings({ embeddings: aliceModel, cache, userId: 'alice' });
    const bob = new CachedEmbeddings({ embeddings: bobModel, cache, userId: 'bob' });
    const bobVector = float32(await new SyntheticEmbeddings({ vectorSize: 3 }).embedQuery('query date loaf'));
    expect(await alice.embedQuery('date loaf')).toEqual(await queryVector('date loaf'));
    expect(await bob.embedQuery('date loaf')).toEqual(bobVector);
    expect(await alice.embedQuery('date loaf')).toEqual(await queryVector('date loaf'));
    expect(await bob.embedQuery('date loaf')).toEqual(bobVector);
    expect(aliceModel.queryCalls).toEqual(['date loaf']);
    expect(bobModel.queryCalls).toEqual(['date loaf']);
  });

  it('shares one model call among concurrent calls that miss the same text', async () => {
    const model = new RecordingEmbeddings();
    const cache = service(redis);
    const first = new CachedEmbeddings({ embeddings: model, cache, userId: 'alice' });
    const second = new CachedEmbeddings({ embeddings: model, cache, userId: 'alice' });
    const expected = await queryVector('banana split');
    expect(await Promise.all([first.embedQuery('banana split'), second.embedQuery('banana split')])).toEqual([
      expected,
      expected,
    ]);
    expect(model.queryCalls).toEqual(['banana split']);
  });

  it('splits a call past maxBatchSize into cache batches and returns the vectors in input order', async () => {
    const model = new RecordingEmbeddings();
    const embeddings = new CachedEmbeddings({
      embeddings: model,
      cache: service(redis, { maxBatchSize: 3 }),
      userId: 'alice',
    });
    const texts = [...TEXTS, 'elder jelly', 'fig roll', 'grape juice'];
    expect(await embeddings.embedDocuments(texts)).toEqual(await Promise.all(texts.map(documentVector)));
    // the batches run concurrently, so the model sees them in any order
    const calls = [...model.documentCalls].sort((a, b) => texts.indexOf(a[0]) - texts.indexOf(b[0]));
    expect(calls).toEqual([texts.slice(0, 3), texts.slice(3, 6), texts.slice(6)]);
  });

  it('embeds documents whose vectors pass maxCallBytes in one model call, and caches them all', async () => {
    const model = new RecordingEmbeddings();
    // 6 float32 elements, 24 bytes, per vector: two fit in one write
    const cache = service(redis, { maxCallBytes: 48 });
    const embeddings = new CachedEmbeddings({ embeddings: model, cache, userId: 'alice' });
    const expected = await Promise.all(TEXTS.map(documentVector));
    expect(await embeddings.embedDocuments(TEXTS)).toEqual(expected);
    expect(await embeddings.embedDocuments(TEXTS)).toEqual(expected);
    expect(model.documentCalls).toEqual([TEXTS]);
    expect(cache.stats()).toEqual(embeddingStats({ misses: 4, writes: 4, hits: 4 }));
  });

  it('returns [] for no documents without calling the model', async () => {
    const model = new RecordingEmbeddings();
    const embeddings = new CachedEmbeddings({ embeddings: model, cache: service(redis), userId: 'alice' });
    expect(await embeddings.embedDocuments([])).toEqual([]);
    expect(model.documentCalls).toEqual([]);
  });

  it("rejects with the model's failure and caches nothing", async () => {
    const failure = new Error('rate limited');
    const model = new RecordingEmbeddings();
    model.embedQuery = () => Promise.reject(failure);
    const embeddings = new CachedEmbeddings({ embeddings: model, cache: service(redis), userId: 'alice' });
    await expect(embeddings.embedQuery('apple pie')).rejects.toBe(failure);
    expect(await inspect.exists(embeddingKeys('alice').vectors)).toBe(0);
  });

  it('throws RedisCacheInputError naming the bad argument', async () => {
    const cache = service(redis);
    const embeddings = new RecordingEmbeddings();
    const build = (options: unknown) => () => new CachedEmbeddings(options as never);
    await expectInputError(build(undefined), 'embeddings');
    await expectInputError(build({ embeddings: {}, cache, userId: 'alice' }), 'embeddings');
    await expectInputError(build({ embeddings, cache: redis, userId: 'alice' }), 'cache');
    await expectInputError(build({ embeddings, cache, userId: '' }), 'userId');
    const cached = new CachedEmbeddings({ embeddings, cache, userId: 'alice' });
    await expectInputError(() => cached.embedDocuments('apple pie' as never), 'documents');
    await expectInputError(() => cached.embedDocuments(['apple pie', 7 as never]), 'documents[1]');
    await expectInputError(() => cached.embedQuery(undefined as never), 'query');
    expect(embeddings.documentCalls).toEqual([]);
    expect(embeddings.queryCalls).toEqual([]);
  });
});

describe('CachedEmbeddings with Redis down', () => {
  it('still embeds every call, once per distinct text, once the server was killed', async () => {
    const doomed = await RedisServer.start();
    const redis = connect(doomed.url);
    try {
      await waitUntilReady(redis);
      const model = new RecordingEmbeddings();
      const cache = service(redis);
      const embeddings = new CachedEmbeddings({ embeddings: model, cache, userId: 'alice' });
      expect(await embeddings.embedQuery('apple pie')).toEqual(await queryVector('apple pie'));
      const closed = new Promise((resolve) => redis.once('close', resolve));
      await doomed.kill();
      await closed;
      const texts = ['banana split', 'apple pie', 'banana split'];
      const expected = await Promise.all(texts.map(documentVector));
      expect(await embeddings.embedDocuments(texts)).toEqual(expected);
      expect(await embeddings.embedDocuments(texts)).toEqual(expected);
      expect(await embeddings.embedQuery('apple pie')).toEqual(await queryVector('apple pie'));
      expect(model.documentCalls).toEqual([
        ['banana split', 'apple pie'],
        ['banana split', 'apple pie'],
      ]);
      expect(model.queryCalls).toEqual(['apple pie', 'apple pie']);
      // three reads and three writes gave their fallback
      expect(cache.stats()).toEqual(embeddingStats({ misses: 1, writes: 1, fallbacks: 6 }));
    } finally {
      redis.disconnect();
      await doomed.stop();
    }
  });
});
