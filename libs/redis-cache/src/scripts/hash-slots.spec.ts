import calculateSlot from 'cluster-key-slot';
import type { Redis } from 'ioredis';
import { EmbeddingCacheService } from '../embeddings/embedding-cache.service';
import { bucketPrefix } from '../keys';
import { MessageCacheClient } from '../messages/message-cache.client';
import { EMBEDDING_SCRIPTS } from '../embeddings/embedding-scripts';
import { MESSAGE_SCRIPTS } from '../messages/message-scripts';

const SCRIPTS = [...Object.values(EMBEDDING_SCRIPTS), ...Object.values(MESSAGE_SCRIPTS)];
type ScriptName = (typeof SCRIPTS)[number]['name'];

/** What each script would answer; enough for the services to run every path that sends keys. */
const REPLIES: Record<ScriptName, (args: unknown[]) => unknown> = {
  embeddingGet: (args) => [...args.slice(1).map(() => null), '0'],
  embeddingTouch: () => [0, '0'],
  embeddingNearTouch: (args) => ['0', ...args.slice(1).map(() => 0)],
  embeddingSet: () => 0,
  embeddingClear: () => 2,
  messageRead: (args) => [0, args[5], 0, 0],
  messageFill: () => [1, 0, 0],
  messageAppend: () => [1, 0, 0],
  messageClear: () => [1, 0, 0],
};

interface Call {
  script: ScriptName;
  keys: string[];
  args: unknown[];
}

/**
 * Records the keys of every script call instead of sending it: pure logic, no I/O.
 * It stands in for ioredis's defineCommand and EVALSHA, so the services run unchanged. In a
 * round trip, the key of the plain command sent after a script (HMGET, LRANGE) counts
 * as one of that script's keys: the round trip must stay in one slot too.
 */
function recordingClient(calls: Call[]): Redis {
  const scripts: Record<string, (...all: unknown[]) => Call> = {};
  const client: Record<string, unknown> = {
    status: 'ready',
    options: {},
    on: () => client,
    defineCommand(command: string, { numberOfKeys }: { numberOfKeys: number }) {
      const script = command.replace(/^wbotCache_/, '') as ScriptName;
      scripts[command] = (...all: unknown[]) => {
        const call = { script, keys: all.slice(0, numberOfKeys) as string[], args: all.slice(numberOfKeys) };
        calls.push(call);
        return call;
      };
      const record = async (...all: unknown[]) => REPLIES[script](scripts[command](...all).args);
      client[command] = record;
      client[`${command}Buffer`] = record;
    },
    // a script sent with a plain command (runScriptThen) goes whole (EVAL) the first time on a socket, then as
    // EVALSHA, by its SHA-1
    eval: async (lua: string, _numberOfKeys: number, ...all: unknown[]) => {
      const { name } = SCRIPTS.find((script) => script.lua === lua)!;
      return REPLIES[name](scripts[`wbotCache_${name}`](...all).args);
    },
    evalsha: async (sha: string, _numberOfKeys: number, ...all: unknown[]) => {
      const { name } = SCRIPTS.find((script) => script.sha === sha)!;
      return REPLIES[name](scripts[`wbotCache_${name}`](...all).args);
    },
    // the plain commands sent right after a script (runScriptThen): their key counts as the script's
    hmgetBuffer: async (key: string, ...fields: unknown[]) => {
      calls[calls.length - 1].keys.push(key);
      return fields.map(() => null);
    },
    lrange: async (key: string) => {
      calls[calls.length - 1].keys.push(key);
      return [];
    },
    // runScriptThen sends its two commands with sendCommand (sendUntimed): each goes to its stand-in above
    sendCommand: (command: { name: string; args: unknown[] }) => {
      const name = command.name === 'hmget' ? 'hmgetBuffer' : command.name;
      return (client[name] as (...all: unknown[]) => Promise<unknown>)(...command.args);
    },
    // the near cache's subscriber connection: one that never connects
    duplicate: () => ({ status: 'end', on: () => undefined, connect: async () => undefined }),
  };
  return client as unknown as Redis;
}

const HOSTILE_IDS = [
  'a}b{c',
  '{x}',
  'user:1',
  '}{',
  '{',
  '}',
  'x'.repeat(256),
  '👩‍💻 ünïcödé',
  'a\u00a0b',
  'lru',
  'sizes',
];

describe('hash slots', () => {
  const calls: Call[] = [];
  const embeddings = new EmbeddingCacheService(recordingClient(calls));
  const nearEmbeddings = new EmbeddingCacheService(recordingClient(calls), { nearCache: { maxBytes: 1_000_000 } });
  const messages = new MessageCacheClient(recordingClient(calls));
  const bucketed = new MessageCacheClient(recordingClient(calls), { buckets: 16, maxCachedMessages: 1600 });

  beforeAll(async () => {
    for (const id of HOSTILE_IDS) {
      await embeddings.getCachedEmbedding(id, 'text');
      await embeddings.getCachedEmbeddings(id, ['a', 'b']);
      await embeddings.cacheEmbedding(id, 'text', [1, 2]);
      await embeddings.cacheEmbeddings(id, [{ text: 'a', embedding: [1] }]);
      await embeddings.getOrComputeEmbeddings(id, ['a'], async () => [[1]]);
      await embeddings.clearUser(id);
      await nearEmbeddings.getCachedEmbedding(id, 'text');
      await nearEmbeddings.getCachedEmbeddings(id, ['a', 'b']);
      for (const client of [messages, bucketed]) {
        await client.getCachedMessages(id);
        await client.getCachedMessages(id, { last: 2 });
        await client.getOrLoadMessages(id, async () => [{ id: 1, content: 'x' }]);
        await client.cacheMessages(id, [{ content: 'x' }]);
        await client.appendMessages(id, [{ id: 'm', content: 'y' }]);
        await client.clearConversation(id);
      }
    }
  });

  afterAll(() => nearEmbeddings.close());

  it('sends every script at least once', () => {
    expect(new Set(calls.map((call) => call.script))).toEqual(new Set(SCRIPTS.map(({ name }) => name)));
  });

  it('gives every script call keys that all hash to one slot', () => {
    const spanning = calls.filter((call) => new Set(call.keys.map((key) => calculateSlot(key))).size !== 1);
    expect(spanning).toEqual([]);
  });

  it('keeps the keys a message script makes itself (to evict other conversations) in the slot of its keys', () => {
    const messageCalls = calls.filter((call) => call.script.startsWith('message'));
    expect(messageCalls.length).toBeGreaterThan(0);
    for (const { script, keys, args } of messageCalls) {
      const [, , , messagesPrefix, idsPrefix, leasePrefix] = args as string[];
      const prefixes =
        script === 'messageClear' ? [messagesPrefix, idsPrefix, leasePrefix] : [messagesPrefix, idsPrefix];
      const slot = calculateSlot(keys[0]);
      for (const other of HOSTILE_IDS) {
        expect(prefixes.map((prefix) => calculateSlot(prefix + other))).toEqual(prefixes.map(() => slot));
      }
    }
  });

  it('puts each bucket of the message budget under its own hash tag', () => {
    const slots = new Set(Array.from({ length: 16 }, (_, bucket) => calculateSlot(`${bucketPrefix(bucket)}lru`)));
    expect(slots.size).toBe(16);
  });
});
