import fc from 'fast-check';
import type { Redis } from 'ioredis';
import {
  EmbeddingCacheService,
  MessageCacheService,
  RedisCacheInputError,
  createCacheRedis,
  type CachedMessage,
} from '@wbot/redis-cache';
import { MAX_CONVERSATION_ID_LENGTH, MAX_USER_ID_LENGTH } from '../src/options/defaults';
import { conversationKeys, embeddingKeys } from '../src/keys';
import { inspector, waitUntilReady } from '../../../test/support/redis-client';
import { RedisServer } from '../../../test/support/redis-server';

/**
 * Hostile input, generated: arbitrary unicode (lone surrogates included), empty
 * and huge ids and texts, odd vectors and message objects. Every call either
 * works on its own user's or conversation's data or rejects with
 * RedisCacheInputError, and the victim's data is never read, changed or removed.
 */
const DEADLINE_MS = 5000;
const MAX_DIMENSIONS = 64;
const VICTIM_USER = 'victim-user';
const VICTIM_CONVERSATION = 'victim-conversation';
const VICTIM_TEXT = 'victim text';
const VICTIM_VECTOR = [1234.5, -987.25, 42.125];
const VICTIM_MESSAGES = [{ id: 'v1', role: 'user', content: 'the victim secret' }];

let server: RedisServer;
let client: Redis;
let inspect: Redis;
let embeddings: EmbeddingCacheService;
let messages: MessageCacheService;

beforeAll(async () => {
  server = await RedisServer.start();
  client = createCacheRedis(server.url, { commandTimeout: DEADLINE_MS });
  await waitUntilReady(client);
  inspect = await inspector(server.url);
  const runtime = { deadlineMs: DEADLINE_MS, logger: { warn: () => undefined } };
  embeddings = new EmbeddingCacheService(client, { maxDimensions: MAX_DIMENSIONS }, runtime);
  messages = new MessageCacheService(client, { maxCachedMessages: 1_000_000 }, runtime);
  expect(await embeddings.cacheEmbedding(VICTIM_USER, VICTIM_TEXT, VICTIM_VECTOR)).toBe(true);
  expect(await messages.cacheMessages(VICTIM_CONVERSATION, VICTIM_MESSAGES)).toBe(true);
});

afterAll(async () => {
  client.disconnect();
  inspect.disconnect();
  await server.stop();
});

/** Everything Redis holds for the victim, down to LRU scores, which even a read by another would move. */
async function victimData(): Promise<unknown> {
  const user = embeddingKeys(VICTIM_USER);
  const conversation = conversationKeys(VICTIM_CONVERSATION, 0);
  return Promise.all([
    inspect.hgetallBuffer(user.vectors),
    inspect.zrange(user.lru, 0, '-1', 'WITHSCORES'),
    inspect.lrange(conversation.messages, 0, -1),
    inspect.smembers(conversation.ids),
    inspect.zscore(conversation.lru, VICTIM_CONVERSATION),
    inspect.hget(conversation.sizes, VICTIM_CONVERSATION),
  ]);
}

const unicode = fc.string({ unit: 'binary', maxLength: 40 });
const huge = (min: number) => fc.string({ minLength: min, maxLength: min + 64 });
const lookalikes = (victim: string) =>
  fc.constantFrom(
    `${victim} `,
    victim.toUpperCase(),
    `${victim}}`,
    `{${victim}}`,
    `${victim}\u0000`,
    `${victim}:vec`,
    `c:${victim}`,
    `ids:${victim}`,
    victim.normalize('NFD') + '\u0301',
    `wbot:msg:{b0}:c:${victim}`,
  );
const id = (victim: string, maxLength: number) =>
  fc
    .oneof(unicode, fc.constant(''), huge(maxLength - 32), lookalikes(victim), fc.anything())
    .filter((value) => value !== victim);
const text = fc.oneof(unicode, fc.constant(''), fc.constant(VICTIM_TEXT), huge(4096), fc.anything());
const vector = fc.oneof(
  fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), { minLength: 1, maxLength: 8 }),
  fc.array(fc.double(), { maxLength: 8 }),
  fc.float32Array({ maxLength: 8 }),
  fc.constant([]),
  fc.constant(new Array(MAX_DIMENSIONS + 1).fill(0)),
  fc.anything(),
);
const message = fc.oneof(
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  fc.record({ id: fc.oneof(fc.string(), fc.integer(), fc.constant('v1')), content: unicode }),
  fc.anything(),
);
const messageList = fc.oneof(fc.array(message, { maxLength: 4 }), fc.anything());

type Operation = (
  userId: unknown,
  conversationId: unknown,
  text: unknown,
  vector: unknown,
  list: unknown,
) => Promise<unknown>;

/** Every public operation, called with whatever was generated. */
const OPERATIONS: Record<string, Operation> = {
  getCachedEmbedding: (user, _c, text) => embeddings.getCachedEmbedding(user as string, text as string),
  getCachedEmbeddings: (user, _c, text) => embeddings.getCachedEmbeddings(user as string, [text as string]),
  cacheEmbedding: (user, _c, text, vector) =>
    embeddings.cacheEmbedding(user as string, text as string, vector as number[]),
  cacheEmbeddings: (user, _c, text, vector) =>
    embeddings.cacheEmbeddings(user as string, [{ text: text as string, embedding: vector as number[] }]),
  getOrComputeEmbeddings: (user, _c, text, vector) =>
    embeddings.getOrComputeEmbeddings(user as string, [text as string], async () => [vector as number[]]),
  clearUser: (user) => embeddings.clearUser(user as string),
  getCachedMessages: (_u, conversation) => messages.getCachedMessages(conversation as string),
  appendMessages: (_u, conversation, _t, _v, list) =>
    messages.appendMessages(conversation as string, list as CachedMessage[]),
  cacheMessages: (_u, conversation, _t, _v, list) =>
    messages.cacheMessages(conversation as string, list as CachedMessage[]),
  getOrLoadMessages: (_u, conversation, _t, _v, list) =>
    messages.getOrLoadMessages(conversation as string, async () => list as CachedMessage[]),
  clearConversation: (_u, conversation) => messages.clearConversation(conversation as string),
};

it('no input reads or changes another user or conversation, and every rejection is a RedisCacheInputError', async () => {
  const before = await victimData();
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...Object.keys(OPERATIONS)),
      id(VICTIM_USER, MAX_USER_ID_LENGTH),
      id(VICTIM_CONVERSATION, MAX_CONVERSATION_ID_LENGTH),
      text,
      vector,
      messageList,
      async (operation, userId, conversationId, anyText, anyVector, list) => {
        const outcome = await OPERATIONS[operation](userId, conversationId, anyText, anyVector, list).then(
          (value) => ({ value }),
          (error: unknown) => ({ error }),
        );
        if ('error' in outcome) expect(outcome.error).toBeInstanceOf(RedisCacheInputError);
        else expect(JSON.stringify(outcome.value ?? null)).not.toMatch(/1234\.5|the victim secret/);
        expect(await victimData()).toEqual(before);
      },
    ),
    { numRuns: 500 },
  );
  expect(embeddings.stats().fallbacks + messages.stats().fallbacks).toBe(0);
  expect(await embeddings.getCachedEmbedding(VICTIM_USER, VICTIM_TEXT)).toEqual(VICTIM_VECTOR);
  expect(await messages.getCachedMessages(VICTIM_CONVERSATION)).toEqual(VICTIM_MESSAGES);
}, 60_000);

/** Inputs that are wrong whatever else is passed, and the argument the error must name. */
const badUserIds = fc.oneof(
  fc.constant(''),
  fc.string({ minLength: MAX_USER_ID_LENGTH + 1, maxLength: MAX_USER_ID_LENGTH + 8 }),
  fc.string({ maxLength: 8 }).map((s) => `${s}\ud800${s}`),
  fc.anything().filter((value) => typeof value !== 'string'),
);
const badConversationIds = fc.oneof(
  fc.constant(''),
  fc.string({ minLength: MAX_CONVERSATION_ID_LENGTH + 1, maxLength: MAX_CONVERSATION_ID_LENGTH + 8 }),
  fc.string({ maxLength: 8 }).map((s) => `${s}\udfff`),
  fc.integer({ min: 0, max: 31 }).map((code) => `conversation${String.fromCharCode(code)}`),
  fc.anything().filter((value) => typeof value !== 'string'),
);
const badVectors = fc.oneof(
  fc.constant([]),
  fc.constant(new Array(MAX_DIMENSIONS + 1).fill(0)),
  fc.constantFrom(NaN, Infinity, -Infinity, 1e39, '1', null).map((element) => [0, element]),
  fc.anything().filter((value) => !Array.isArray(value) && !ArrayBuffer.isView(value)),
);
const circular = (): CachedMessage => {
  const message: CachedMessage = { id: 1 };
  message.self = message;
  return message;
};
const badMessages = fc.oneof(
  fc.constantFrom<unknown>(null, 'text', 1, [], new Date(0), new Map(), Object.create({ inherited: 1 })),
  fc.constantFrom<unknown>(() => 1, undefined, Symbol('s'), 1n, NaN, Infinity, new Date(0)).map((value) => ({ value })),
  fc.constant(JSON.parse('{"__proto__": {"polluted": true}}') as unknown),
  fc.constant(null).map(circular),
);

it('each bad argument rejects with RedisCacheInputError naming it, and writes nothing', async () => {
  const keysBefore = (await inspect.keys('*')).sort();
  await fc.assert(
    fc.asyncProperty(badUserIds, async (userId) => {
      await expect(embeddings.getCachedEmbedding(userId as string, 'text')).rejects.toMatchObject({
        name: 'RedisCacheInputError',
        argument: 'userId',
      });
    }),
  );
  await fc.assert(
    fc.asyncProperty(badConversationIds, async (conversationId) => {
      await expect(messages.getCachedMessages(conversationId as string)).rejects.toMatchObject({
        name: 'RedisCacheInputError',
        argument: 'conversationId',
      });
    }),
  );
  await fc.assert(
    fc.asyncProperty(badVectors, async (embedding) => {
      await expect(embeddings.cacheEmbedding('user', 'text', embedding as number[])).rejects.toMatchObject({
        name: 'RedisCacheInputError',
        argument: expect.stringMatching(/^embedding/),
      });
    }),
  );
  await fc.assert(
    fc.asyncProperty(badMessages, async (bad) => {
      await expect(messages.cacheMessages('conversation', [{ id: 0 }, bad as CachedMessage])).rejects.toMatchObject({
        name: 'RedisCacheInputError',
        argument: expect.stringMatching(/^messages\[1\]/),
      });
    }),
  );
  expect((await inspect.keys('*')).sort()).toEqual(keysBefore);
}, 60_000);
