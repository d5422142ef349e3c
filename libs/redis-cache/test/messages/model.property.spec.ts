import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import {
  EmbeddingCacheService,
  MessageCacheClient,
  createCacheRedis,
  type CachedMessage,
  type EmbeddingCacheStats,
  type MessageCacheStats,
} from '@wbot/redis-cache';
import {
  bucketBudget,
  conversationBucket,
  conversationKeys,
  embeddingField,
  embeddingKeys,
  userTag,
} from '../../src/keys';
import { inspector, waitUntilReady } from '../../../../test/support/redis-client';
import { RedisServer } from '../../../../test/support/redis-server';

/**
 * A model-based walk: random sequences of the app's calls to both caches, run
 * against an in-memory model of the app's system of record (its database), with
 * random keys deleted in between, as Redis's maxmemory eviction or a stray DEL
 * may. The app writes through: the model first, then the cache; it appends to
 * the cache only what it wrote to the model.
 *
 * After every step, from the raw keys (through a separate client, never the
 * caches' reads, which would repair what they read):
 * - every cached conversation list is the header and then exactly the model's
 *   conversation, and its id set (when there) holds exactly its messages' ids;
 * - each bucket's bookkeeping is exact: its LRU and sizes name the same
 *   conversations, each named list's length is its size, the total is the sum
 *   of the sizes, and the lists it names hold at most the bucket's share of
 *   the budget; its keys expire no sooner than any list they name;
 * - a list the bookkeeping does not name is an orphan: it existed when a loss
 *   left its bucket with neither LRU nor sizes, no call on its conversation
 *   ran since (that would have dropped it), and its expiry is the one it had
 *   then (so it is gone within that TTL: maxmemory-repair.spec.ts waits for it);
 * - every cached vector is the one the model last stored for its user and text,
 *   and no user has more than maxEntriesPerUser of them;
 * - every key has a TTL.
 * Every hit a call returns must equal the model; a miss is always allowed.
 *
 * By default 5 seeds × 1000 steps. Environment overrides:
 * - MODEL_SEEDS, MODEL_STEPS: how many walks, and steps per walk
 *   (`npm run test:model-long` runs 20 × 5000, 10^5 steps);
 * - MODEL_SEED: the first seed (default 1); seed s uses (s mod 2) + 1 buckets;
 * - MODEL_REPLAY: a JSON `{"buckets":…,"steps":[…]}`, as a failure prints it
 *   after shrinking, to run only that sequence.
 * A failing walk is shrunk (whole steps removed while it still fails, for at
 * most a minute) and reported with its seed, the failing step, and the shrunk
 * sequence.
 */

const SEEDS = positiveEnv('MODEL_SEEDS', 5);
const STEPS = positiveEnv('MODEL_STEPS', 1000);
const FIRST_SEED = positiveEnv('MODEL_SEED', 1);
const REPLAY = process.env.MODEL_REPLAY;
const SHRINK_BUDGET_MS = 60_000;

const MAX_CACHED_MESSAGES = 30;
const MAX_ENTRIES_PER_USER = 3;
const DEADLINE_MS = 5000;
const HEADER = 'wbot:conversation:v1';

/** Three conversations per bucket with 2 buckets (asserted below); two ids hold glob characters. */
const CONVERSATIONS = ['c0', 'c1', 'g[*]?', 'c2', 'c3', 'a*'];
const USERS = ['u0', 'u1', 'ü😀'];
const TEXTS = ['', 't1', 'hello world', 'ünï\u2028', 't4'];
const CONTENTS = ['hi', 'ünï 😀', 'a "quote" and \\ backslash', 'line\nbreak \u2028', ''];

function positiveEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be an integer >= 1 (got ${raw})`);
  return value;
}

type Step =
  /** getCachedMessages, of the last `last` messages when `last` > 0. */
  | { op: 'read'; c: number; last: number }
  /** cacheMessages with the model's conversation. */
  | { op: 'fill'; c: number }
  /** `count` new messages written to the model, then appended after the last `retry` with ids, sent again. */
  | { op: 'append'; c: number; count: number; retry: number }
  /** clearConversation, after deleting the conversation from the model too when `forget`. */
  | { op: 'clear'; c: number; forget: boolean }
  /**
   * getOrLoadMessages; while the loader runs, nothing, an app write (model, then cache), or the loss of
   * keys; or two concurrent calls.
   */
  | { op: 'load'; c: number; during: 'none' | 'append' | 'loss' | 'join'; picks: number[]; keys?: string[] }
  | { op: 'getEmbedding'; u: number; t: number; float32: boolean }
  | { op: 'getEmbeddings'; u: number; ts: number[] }
  /** A new vector for (user, text), in the model and then the cache. */
  | { op: 'cacheEmbedding'; u: number; t: number }
  | { op: 'cacheEmbeddings'; u: number; ts: number[] }
  /** getOrComputeEmbeddings, computing the model's vector (or a new one, stored in the model). */
  | { op: 'compute'; u: number; ts: number[] }
  | { op: 'clearUser'; u: number; forget: boolean }
  /**
   * DEL of keys picked from KEYS wbot:* (sorted), or of some of a bucket's bookkeeping keys; `keys` records
   * what was chosen, so that a replay or a shrunk walk deletes the same keys whatever came before.
   */
  | { op: 'lose'; scope: 'any' | 'bookkeeping'; picks: number[]; keys?: string[] };

interface Walk {
  readonly buckets: number;
  readonly steps: Step[];
}

const conversation = fc.nat({ max: CONVERSATIONS.length - 1 });
const user = fc.nat({ max: USERS.length - 1 });
const text = fc.nat({ max: TEXTS.length - 1 });
const texts = fc.array(text, { minLength: 1, maxLength: 4 });
const picks = fc.array(fc.nat(), { minLength: 1, maxLength: 3 });

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('read' as const), c: conversation, last: fc.constant(0) }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('read' as const), c: conversation, last: fc.integer({ min: 1, max: 8 }) }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('fill' as const), c: conversation }) },
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('append' as const),
      c: conversation,
      count: fc.integer({ min: 0, max: 4 }),
      retry: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, fc.integer({ min: 1, max: 2 })),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('clear' as const), c: conversation, forget: fc.boolean() }) },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('load' as const),
      c: conversation,
      during: fc.constantFrom('none' as const, 'append' as const, 'loss' as const, 'join' as const),
      picks,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('getEmbedding' as const), u: user, t: text, float32: fc.boolean() }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('getEmbeddings' as const), u: user, ts: texts }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('cacheEmbedding' as const), u: user, t: text }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('cacheEmbeddings' as const), u: user, ts: texts }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('compute' as const), u: user, ts: texts }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('clearUser' as const), u: user, forget: fc.boolean() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('lose' as const),
      scope: fc.constantFrom('any' as const, 'bookkeeping' as const),
      picks,
    }),
  },
);

function generate(seed: number, steps: number): Walk {
  const [generated] = fc.sample(fc.array(stepArbitrary, { minLength: steps, maxLength: steps }), { seed, numRuns: 1 });
  return { buckets: (seed % 2) + 1, steps: generated };
}

/** How much of the caches' behaviour a walk reached, so that a walk that checks nothing shows. */
interface Coverage {
  messageHits: number;
  lastHits: number;
  messageMisses: number;
  embeddingHits: number;
  embeddingMisses: number;
  keysLost: number;
  /** Lists a loss left outside their bucket's bookkeeping. */
  orphaned: number;
  messages: MessageCacheStats;
  embeddings: EmbeddingCacheStats;
}

/** A walk that failed: the steps run until then, with the keys each loss deleted, and the failure. */
class WalkFailure extends Error {
  constructor(
    readonly trace: Step[],
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

let server: RedisServer;
let client: Redis;
let inspect: Redis;

beforeAll(async () => {
  server = await RedisServer.start();
  client = createCacheRedis(server.url, { commandTimeout: DEADLINE_MS });
  await waitUntilReady(client);
  inspect = await inspector(server.url);
});

afterAll(async () => {
  client.disconnect();
  inspect.disconnect();
  await server.stop();
});

/** Where each raw key comes from, to map a key back to the model. */
const USER_BY_TAG = new Map(USERS.map((id) => [userTag(id), id]));
const TEXT_BY_FIELD = new Map(TEXTS.map((t) => [embeddingField('default', 'float32', t), t]));
const MESSAGE_KEY = /^wbot:msg:\{b(\d+)\}:(?:(c|ids|lease):(.+)|(lru|sizes|total))$/s;
const EMBEDDING_KEY = /^wbot:emb:\{([A-Za-z0-9_-]+)\}:(vec|lru|clr)$/;

/** One message bucket's raw keys, as check() read them, and what they must satisfy. */
class BucketKeys {
  /** Each list by conversation id: its number of messages, its PEXPIRETIME and its key. */
  readonly lists = new Map<string, { length: number; expiry: number; key: string }>();
  /** `lru`, `sizes` and `total` when they exist: their value and PEXPIRETIME. */
  readonly bookkeeping = new Map<string, { value: unknown; expiry: number }>();

  problems(b: number, budget: number, orphans: ReadonlyMap<string, number>): string[] {
    const problems: string[] = [];
    const lru = this.bookkeeping.get('lru')?.value as string[] | undefined;
    const sizes = this.bookkeeping.get('sizes')?.value as Record<string, string> | undefined;
    const total = this.bookkeeping.get('total')?.value as string | undefined;
    const named = new Set([...(lru ?? []), ...Object.keys(sizes ?? {})]);
    if (lru && sizes && !isDeepStrictEqual([...lru].sort(), Object.keys(sizes).sort())) {
      problems.push(`bucket ${b}: the LRU names ${JSON.stringify(lru)}, the sizes ${JSON.stringify(sizes)}`);
    }
    const sum = Object.values(sizes ?? {}).reduce((all, size) => all + Number(size), 0);
    if (sizes && total !== undefined && Number(total) !== sum) {
      problems.push(`bucket ${b}: total ${total}, sizes ${JSON.stringify(sizes)}`);
    }
    let listed = 0;
    for (const [id, list] of this.lists) {
      if (named.has(id)) {
        listed += list.length;
        if (sizes && Number(sizes[id]) !== list.length) {
          problems.push(`bucket ${b}: ${id} lists ${list.length} messages, its size is ${sizes[id]}`);
        }
        for (const [name, { expiry }] of this.bookkeeping) {
          if (expiry < list.expiry) problems.push(`bucket ${b}: its ${name} expires before ${list.key}`);
        }
      } else if (!orphans.has(list.key)) {
        problems.push(`bucket ${b}: ${list.key} is named by neither its LRU nor its sizes, and no loss orphaned it`);
      } else if (orphans.get(list.key) !== list.expiry) {
        problems.push(`bucket ${b}: the orphan ${list.key} expires at ${list.expiry}, not ${orphans.get(list.key)}`);
      }
    }
    if (listed > budget) problems.push(`bucket ${b} names lists of ${listed} messages, over its budget of ${budget}`);
    return problems;
  }
}

/** One walk's world: the model (the system of record), the caches under test, and what they reached. */
class World {
  /** The system of record: each conversation's messages, and each user's latest vector per text. */
  private readonly record = new Map<string, CachedMessage[]>();
  private readonly vectors = new Map<string, Map<string, number[]>>();
  private messageCount = 0;
  private vectorVersion = 0;
  /** Each orphan's list key, with its PEXPIRETIME when a loss made it one. */
  private readonly orphans = new Map<string, number>();
  private readonly warnings: string[] = [];
  private readonly messages: MessageCacheClient;
  private readonly embeddings: EmbeddingCacheService;
  private readonly hits = {
    messageHits: 0,
    lastHits: 0,
    messageMisses: 0,
    embeddingHits: 0,
    embeddingMisses: 0,
    keysLost: 0,
    orphaned: 0,
  };

  constructor(readonly buckets: number) {
    const runtime = { deadlineMs: DEADLINE_MS, logger: { warn: (line: string) => this.warnings.push(line) } };
    this.messages = new MessageCacheClient(client, { maxCachedMessages: MAX_CACHED_MESSAGES, buckets }, runtime);
    this.embeddings = new EmbeddingCacheService(client, { maxEntriesPerUser: MAX_ENTRIES_PER_USER }, runtime);
  }

  coverage(): Coverage {
    return { ...this.hits, messages: this.messages.stats(), embeddings: this.embeddings.stats() };
  }

  /** Runs one step and checks what it returned; returns the step with the keys it deleted, if any. */
  async run(step: Step): Promise<Step> {
    const ran = await this.runStep(step);
    // a call on a conversation drops its orphan list, or replaces it with one the bookkeeping names
    if ('c' in step) this.orphans.delete(this.keysOf(CONVERSATIONS[step.c]).messages);
    return ran;
  }

  private async runStep(step: Step): Promise<Step> {
    switch (step.op) {
      case 'read':
        await this.read(step.c, step.last);
        return step;
      case 'fill':
        await this.fill(step.c);
        return step;
      case 'append':
        await this.append(step.c, step.count, step.retry);
        return step;
      case 'clear':
        await this.clear(step.c, step.forget);
        return step;
      case 'load':
        return { ...step, keys: await this.load(step) };
      case 'getEmbedding':
        await this.getEmbedding(step.u, step.t, step.float32);
        return step;
      case 'getEmbeddings':
        await this.getEmbeddings(step.u, step.ts);
        return step;
      case 'cacheEmbedding':
        await this.cacheEmbedding(step.u, step.t);
        return step;
      case 'cacheEmbeddings':
        await this.cacheEmbeddings(step.u, step.ts);
        return step;
      case 'compute':
        await this.compute(step.u, step.ts);
        return step;
      case 'clearUser':
        await this.clearUser(step.u, step.forget);
        return step;
      case 'lose':
        return { ...step, keys: await this.lose(step.scope, step.picks, step.keys) };
    }
  }

  /** The model's conversation; one it never had reads as empty, as a loader would find it. */
  private conversation(id: string): CachedMessage[] {
    return [...(this.record.get(id) ?? [])];
  }

  private budgetOf(id: string): number {
    return bucketBudget(MAX_CACHED_MESSAGES, this.buckets, conversationBucket(id, this.buckets));
  }

  private keysOf(id: string) {
    return conversationKeys(id, conversationBucket(id, this.buckets));
  }

  /**
   * A new message. Ids are unique, but half are numbers and half strings of the same digits ({ id: 3 }
   * and { id: '3' } are different messages), and every fifth message has none. Frozen, so a cache that
   * changed what it was given would throw.
   */
  private newMessage(): CachedMessage {
    const n = this.messageCount++;
    const id = n % 2 === 0 ? n / 2 : String((n - 1) / 2);
    const content = CONTENTS[n % CONTENTS.length];
    const message =
      n % 5 === 4
        ? { n, content }
        : n % 3 === 0
          ? { id, n, content, meta: { n: [n, null, true] } }
          : { id, n, content };
    return Object.freeze(message);
  }

  private async read(c: number, last: number): Promise<void> {
    const id = CONVERSATIONS[c];
    const got = await this.messages.getCachedMessages(id, last > 0 ? { last } : undefined);
    if (got === null) {
      this.hits.messageMisses++;
      return;
    }
    const all = this.conversation(id);
    expect(got).toStrictEqual(last > 0 ? all.slice(-last) : all);
    this.hits.messageHits++;
    if (last > 0) this.hits.lastHits++;
  }

  private async fill(c: number): Promise<void> {
    const id = CONVERSATIONS[c];
    const messages = this.conversation(id);
    const fits = messages.length <= this.budgetOf(id);
    expect(await this.messages.cacheMessages(id, messages)).toBe(fits);
    expect(await inspect.exists(this.keysOf(id).messages)).toBe(fits ? 1 : 0);
  }

  /** The app's write: new messages to the model first, then the cache, after `retry` messages sent again. */
  private async append(c: number, count: number, retry: number): Promise<void> {
    const id = CONVERSATIONS[c];
    const before = this.conversation(id);
    const again = retry > 0 ? before.filter((message) => 'id' in message).slice(-retry) : [];
    const fresh = Array.from({ length: count }, () => this.newMessage());
    this.record.set(id, [...before, ...fresh]);
    const appended = await this.messages.appendMessages(id, [...again, ...fresh]);
    if (appended) expect(await inspect.exists(this.keysOf(id).messages)).toBe(1);
  }

  private async clear(c: number, forget: boolean): Promise<void> {
    const id = CONVERSATIONS[c];
    if (forget) this.record.delete(id);
    expect(await this.messages.clearConversation(id)).toBe(true);
    const k = this.keysOf(id);
    expect(await inspect.exists(k.messages, k.ids, k.lease)).toBe(0);
  }

  /** Returns the keys deleted while the loader ran. */
  private async load(step: Extract<Step, { op: 'load' }>): Promise<string[] | undefined> {
    const id = CONVERSATIONS[step.c];
    const k = this.keysOf(id);
    const before = this.conversation(id);
    const refusedBefore = this.messages.stats().fillsRefused;
    let calls = 0;
    let lost: string[] | undefined;
    let loaded: CachedMessage[] = [];
    const loader = async (): Promise<CachedMessage[]> => {
      calls++;
      loaded = this.conversation(id);
      if (step.during === 'append') await this.append(step.c, 1, 0);
      if (step.during === 'loss') lost = await this.lose('any', step.picks, step.keys);
      return loaded;
    };
    if (step.during === 'join') {
      const both = await Promise.all([
        this.messages.getOrLoadMessages(id, loader),
        this.messages.getOrLoadMessages(id, loader),
      ]);
      expect(both).toStrictEqual([before, before]);
    } else {
      expect(await this.messages.getOrLoadMessages(id, loader)).toStrictEqual(before);
    }
    expect(calls).toBeLessThanOrEqual(1);
    if (calls === 0) {
      this.hits.messageHits++;
      expect(await inspect.exists(k.messages)).toBe(1);
      return lost;
    }
    this.hits.messageMisses++;
    expect(loaded).toStrictEqual(before);
    // a write or the lease's loss while the loader ran voids the fill; otherwise it fills, if it fits
    const refused = step.during === 'append' || (lost ?? []).includes(k.lease);
    expect(this.messages.stats().fillsRefused - refusedBefore).toBe(refused ? 1 : 0);
    const filled = !refused && before.length <= this.budgetOf(id);
    expect(await inspect.exists(k.messages)).toBe(filled ? 1 : 0);
    return lost;
  }

  private expected(u: number, t: number): number[] | undefined {
    return this.vectors.get(USERS[u])?.get(TEXTS[t]);
  }

  /** A hit must be the model's latest vector for the text; a miss is allowed. */
  private checkVector(u: number, t: number, got: number[] | Float32Array | null): void {
    if (got === null) {
      this.hits.embeddingMisses++;
      return;
    }
    expect({ text: TEXTS[t], vector: Array.from(got) }).toStrictEqual({ text: TEXTS[t], vector: this.expected(u, t) });
    this.hits.embeddingHits++;
  }

  private async getEmbedding(u: number, t: number, float32: boolean): Promise<void> {
    if (float32) {
      const got = await this.embeddings.getCachedEmbedding(USERS[u], TEXTS[t], { asFloat32Array: true });
      if (got !== null) expect(got).toBeInstanceOf(Float32Array);
      this.checkVector(u, t, got);
    } else {
      this.checkVector(u, t, await this.embeddings.getCachedEmbedding(USERS[u], TEXTS[t]));
    }
  }

  private async getEmbeddings(u: number, ts: number[]): Promise<void> {
    const got = await this.embeddings.getCachedEmbeddings(
      USERS[u],
      ts.map((t) => TEXTS[t]),
    );
    expect(got).toHaveLength(ts.length);
    ts.forEach((t, i) => this.checkVector(u, t, got[i]));
  }

  /**
   * A new vector for (user, text) in the model: exact in float32, of 1 to 3 dimensions; every other one
   * is passed as a Float32Array.
   */
  private store(u: number, t: number): number[] | Float32Array {
    const version = ++this.vectorVersion;
    const vector = [version, -version / 2, (version % 7) + 0.25].slice(0, (version % 3) + 1);
    const forUser = this.vectors.get(USERS[u]) ?? new Map<string, number[]>();
    forUser.set(TEXTS[t], vector);
    this.vectors.set(USERS[u], forUser);
    return version % 2 === 0 ? Float32Array.from(vector) : vector;
  }

  private async cacheEmbedding(u: number, t: number): Promise<void> {
    const vector = this.store(u, t);
    expect(await this.embeddings.cacheEmbedding(USERS[u], TEXTS[t], vector)).toBe(true);
  }

  /** A batch may name a text twice: the later vector is the model's, and must be the cache's. */
  private async cacheEmbeddings(u: number, ts: number[]): Promise<void> {
    const entries = ts.map((t) => ({ text: TEXTS[t], embedding: this.store(u, t) }));
    expect(await this.embeddings.cacheEmbeddings(USERS[u], entries)).toBe(true);
  }

  private async compute(u: number, ts: number[]): Promise<void> {
    const computed: string[][] = [];
    const got = await this.embeddings.getOrComputeEmbeddings(
      USERS[u],
      ts.map((t) => TEXTS[t]),
      async (missing) => {
        computed.push(missing);
        return missing.map((missingText) => {
          const t = TEXTS.indexOf(missingText);
          return this.expected(u, t) ?? this.store(u, t);
        });
      },
    );
    expect(computed.length).toBeLessThanOrEqual(1);
    expect(got).toStrictEqual(ts.map((t) => this.expected(u, t)));
  }

  private async clearUser(u: number, forget: boolean): Promise<void> {
    if (forget) this.vectors.delete(USERS[u]);
    expect(await this.embeddings.clearUser(USERS[u])).toBe(true);
    const k = embeddingKeys(USERS[u]);
    expect(await inspect.exists(k.vectors, k.lru)).toBe(0);
  }

  /**
   * Deletes `keys`, or the keys `picks` choose: among those that exist now, or a non-empty subset of one
   * bucket's bookkeeping keys, so that losing several of them at once is common. Returns what it deleted.
   */
  private async lose(scope: 'any' | 'bookkeeping', picks: number[], keys?: string[]): Promise<string[]> {
    let chosen = keys;
    if (!chosen && scope === 'bookkeeping') {
      const k = conversationKeys('', picks[0] % this.buckets);
      const mask = (picks[picks.length - 1] % 7) + 1;
      chosen = [k.lru, k.sizes, k.total].filter((_, i) => mask & (1 << i));
    } else if (!chosen) {
      const existing = (await inspect.keys('wbot:*')).sort();
      chosen = existing.length === 0 ? [] : [...new Set(picks.map((pick) => existing[pick % existing.length]))];
    }
    if (chosen.length > 0) this.hits.keysLost += await inspect.del(...chosen);
    await this.recordOrphans();
    return chosen;
  }

  /** The lists of each bucket left with neither LRU nor sizes are orphans from now on, until a call on them. */
  private async recordOrphans(): Promise<void> {
    for (let bucket = 0; bucket < this.buckets; bucket++) {
      const k = conversationKeys('', bucket);
      if ((await inspect.exists(k.lru, k.sizes)) > 0) continue;
      for (const key of await inspect.keys(`${k.messagesPrefix}*`)) {
        if (this.orphans.has(key)) continue;
        this.orphans.set(key, (await inspect.call('PEXPIRETIME', key)) as number);
        this.hits.orphaned++;
      }
    }
  }

  /** The checks after every step, on the raw keys. */
  async check(): Promise<void> {
    const keys = (await inspect.keys('wbot:*')).sort();
    const pipeline = inspect.pipeline();
    for (const key of keys) {
      pipeline.pttl(key);
      pipeline.call('PEXPIRETIME', key);
      const message = MESSAGE_KEY.exec(key);
      if (message?.[2] === 'c') pipeline.lrange(key, 0, -1);
      else if (message?.[2] === 'ids') pipeline.smembers(key);
      else if (message?.[4] === 'lru') pipeline.zrange(key, 0, '-1');
      else if (message?.[4] === 'sizes') pipeline.hgetall(key);
      else if (message?.[4] === 'total') pipeline.get(key);
      else if (EMBEDDING_KEY.exec(key)?.[2] === 'vec') pipeline.hgetallBuffer(key);
      else pipeline.echo('');
    }
    const replies = (await pipeline.exec()) ?? [];
    const problems: string[] = [];
    const lists = new Map<string, string[]>();
    const idSets = new Map<string, string[]>();
    const buckets = Array.from({ length: this.buckets }, () => new BucketKeys());
    keys.forEach((key, i) => {
      const [[ttlError, ttl], [expiryError, expiry], [error, value]] = replies.slice(3 * i, 3 * i + 3);
      if (ttlError || expiryError || error) return problems.push(`${key}: ${String(ttlError ?? expiryError ?? error)}`);
      if (!((ttl as number) > 0)) problems.push(`${key} has PTTL ${String(ttl)}`);
      const message = MESSAGE_KEY.exec(key);
      const embedding = EMBEDDING_KEY.exec(key);
      if (message) {
        const bucket = buckets[Number(message[1])];
        const id = message[3];
        if (!bucket) problems.push(`${key}: no such bucket`);
        if (id !== undefined && !CONVERSATIONS.includes(id)) problems.push(`${key}: no such conversation`);
        if (id !== undefined && conversationBucket(id, this.buckets) !== Number(message[1])) {
          problems.push(`${key}: wrong bucket`);
        }
        if (message[2] === 'c') {
          lists.set(id, value as string[]);
          bucket?.lists.set(id, { length: (value as string[]).length - 1, expiry: expiry as number, key });
        }
        if (message[2] === 'ids') idSets.set(id, value as string[]);
        if (message[4] && bucket) bucket.bookkeeping.set(message[4], { value, expiry: expiry as number });
      } else if (embedding) {
        const userId = USER_BY_TAG.get(embedding[1]);
        if (userId === undefined) problems.push(`${key}: no such user`);
        if (embedding[2] === 'vec') problems.push(...this.checkVectors(key, userId, value as Record<string, Buffer>));
      } else {
        problems.push(`${key}: not a key of the caches`);
      }
    });
    for (const [id, list] of lists) {
      const [header, ...items] = list;
      const cached = items.map((item) => JSON.parse(item) as CachedMessage);
      if (header !== HEADER || !isDeepStrictEqual(cached, this.conversation(id))) {
        problems.push(
          `conversation ${id} cached as ${JSON.stringify(list)}, the model has ${JSON.stringify(this.conversation(id))}`,
        );
      }
      const ids = idSets.get(id);
      const expectedIds = ['', ...cached.filter((m) => 'id' in m).map((m) => JSON.stringify(m.id))].sort();
      if (ids && !isDeepStrictEqual([...ids].sort(), expectedIds)) {
        problems.push(
          `conversation ${id} has the id set ${JSON.stringify(ids.sort())}, its list ${JSON.stringify(expectedIds)}`,
        );
      }
    }
    buckets.forEach((bucket, b) => {
      const budget = bucketBudget(MAX_CACHED_MESSAGES, this.buckets, b);
      problems.push(...bucket.problems(b, budget, this.orphans));
    });
    expect(problems).toStrictEqual([]);
    expect(this.warnings).toStrictEqual([]);
    expect([this.messages.stats().fallbacks, this.embeddings.stats().fallbacks]).toStrictEqual([0, 0]);
  }

  private checkVectors(key: string, userId: string | undefined, hash: Record<string, Buffer>): string[] {
    const problems: string[] = [];
    const fields = Object.keys(hash);
    if (fields.length > MAX_ENTRIES_PER_USER) {
      problems.push(`${key} holds ${fields.length} vectors, over the limit of ${MAX_ENTRIES_PER_USER}`);
    }
    for (const field of fields) {
      const cachedText = TEXT_BY_FIELD.get(field);
      const bytes = hash[field];
      const vector = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(4 * i));
      const expected =
        userId === undefined || cachedText === undefined ? undefined : this.vectors.get(userId)?.get(cachedText);
      if (bytes.length % 4 !== 0 || !isDeepStrictEqual(vector, expected)) {
        problems.push(
          `${userId} / ${JSON.stringify(cachedText)} cached as ${JSON.stringify(vector)}, the model has ${JSON.stringify(expected)}`,
        );
      }
    }
    return problems;
  }
}

/** Runs a walk on an empty server, checking after every step; rejects with a WalkFailure. */
async function run(walk: Walk): Promise<Coverage> {
  await inspect.flushall();
  const world = new World(walk.buckets);
  const trace: Step[] = [];
  for (const step of walk.steps) {
    let resolved = step;
    try {
      resolved = await world.run(step);
      await world.check();
    } catch (cause) {
      throw new WalkFailure([...trace, resolved], cause);
    }
    trace.push(resolved);
  }
  return world.coverage();
}

/** Removes whole steps from a failing walk while it still fails, largest chunks first, within a time budget. */
async function shrink(walk: Walk, failure: WalkFailure): Promise<{ walk: Walk; failure: WalkFailure }> {
  const deadline = Date.now() + SHRINK_BUDGET_MS;
  let best = { walk: { ...walk, steps: failure.trace }, failure };
  let chunk = Math.ceil(best.walk.steps.length / 2);
  while (chunk >= 1 && Date.now() < deadline) {
    let removed = false;
    for (let start = 0; start < best.walk.steps.length && Date.now() < deadline;) {
      const steps = [...best.walk.steps.slice(0, start), ...best.walk.steps.slice(start + chunk)];
      const candidate = { ...walk, steps };
      const outcome = await run(candidate).then(
        () => undefined,
        (error: unknown) => error,
      );
      if (outcome instanceof WalkFailure) {
        best = { walk: { ...walk, steps: outcome.trace }, failure: outcome };
        removed = true;
      } else {
        start += chunk;
      }
    }
    if (!removed) chunk = Math.floor(chunk / 2);
  }
  return best;
}

/** Only the first failing walk of a run is shrunk, so that a broken build fails within minutes. */
let shrunkOne = false;

async function runAndReport(walk: Walk, label: string): Promise<Coverage> {
  try {
    return await run(walk);
  } catch (error) {
    if (!(error instanceof WalkFailure)) throw error;
    const at = error.trace.length - 1;
    const failed = `${label} (${walk.buckets} bucket(s)) failed at step ${at}: ${JSON.stringify(error.trace[at])}`;
    if (shrunkOne) throw new Error(`${failed}\n${error.message}\n\n(not shrunk: an earlier walk was)`);
    shrunkOne = true;
    const shrunk = await shrink(walk, error);
    throw new Error(
      `${failed}\n${error.message}\n\n` +
        `shrunk to ${shrunk.walk.steps.length} steps, which fail with:\n${shrunk.failure.message}\n\n` +
        `replay with MODEL_REPLAY='${JSON.stringify(shrunk.walk)}'`,
    );
  }
}

it('the conversations are spread over both buckets', () => {
  const buckets = CONVERSATIONS.map((id) => conversationBucket(id, 2));
  expect(buckets).toStrictEqual([0, 0, 0, 1, 1, 1]);
});

if (REPLAY) {
  it('replays MODEL_REPLAY', async () => {
    await runAndReport(JSON.parse(REPLAY) as Walk, 'MODEL_REPLAY');
  }, 600_000);
} else {
  const seeds = Array.from({ length: SEEDS }, (_, i) => FIRST_SEED + i);
  it.each(seeds)(
    `seed %i: ${STEPS} steps keep every hit equal to the model, the budgets, and the TTLs`,
    async (seed) => {
      const coverage = await runAndReport(generate(seed, STEPS), `seed ${seed}`);
      if (process.env.MODEL_VERBOSE) console.log(`seed ${seed}`, JSON.stringify(coverage));
      if (STEPS >= 500) {
        // the walk reached what it is for: hits to check, evictions, refused fills, lost keys, orphans
        const reached = {
          messageHits: coverage.messageHits > 0,
          lastHits: coverage.lastHits > 0,
          embeddingHits: coverage.embeddingHits > 0,
          keysLost: coverage.keysLost > 0,
          orphaned: coverage.orphaned > 0,
          messageEvictions: coverage.messages.evictions > 0,
          fillsRefused: coverage.messages.fillsRefused > 0,
          embeddingEvictions: coverage.embeddings.evictions > 0,
        };
        expect(reached).toStrictEqual({
          messageHits: true,
          lastHits: true,
          embeddingHits: true,
          keysLost: true,
          orphaned: true,
          messageEvictions: true,
          fillsRefused: true,
          embeddingEvictions: true,
        });
      }
    },
    SHRINK_BUDGET_MS + 60_000 + STEPS * 40,
  );
}
