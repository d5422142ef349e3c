import calculateSlot from 'cluster-key-slot';
import type { Redis } from 'ioredis';
import { responseKeys, responseLiveKey, responseLockKey } from '../keys';
import { ResponseCacheService } from './response-cache.service';
import type { ResponseStreamPolicy } from './response-call';
import { RESPONSE_SCRIPTS } from './response-scripts';

type ScriptName = (typeof RESPONSE_SCRIPTS)[keyof typeof RESPONSE_SCRIPTS]['name'];

/** What each script answers: enough for every call to lead, relay, end, store and clear. */
const REPLIES: Record<ScriptName, () => unknown> = {
  responseLookup: () => [3, '0'],
  responseStore: () => [1, 0],
  responseFinish: () => [1, 0],
  responseRelay: () => 1,
  responseRenew: () => 0,
  responseClear: () => 1,
};

interface Call {
  command: string;
  keys: string[];
}

/**
 * Records the keys of every script and plain command instead of sending them: pure logic, no I/O. It stands in
 * for ioredis's defineCommand, so the service runs unchanged.
 */
function recordingClient(calls: Call[]): Redis {
  const client: Record<string, unknown> = {
    status: 'ready',
    options: {},
    isCluster: false,
    on: () => client,
    defineCommand(command: string, { numberOfKeys }: { numberOfKeys: number }) {
      const script = command.replace(/^wbotCache_/, '') as ScriptName;
      client[command] = async (...all: unknown[]) => {
        calls.push({ command: script, keys: all.slice(0, numberOfKeys) as string[] });
        return REPLIES[script]();
      };
    },
    get: async (key: string) => {
      calls.push({ command: 'get', keys: [key] });
      return null;
    },
  };
  return client as unknown as Redis;
}

const HOSTILE_TENANTS = ['a}b{c', '{x}', 'user:1', '}{', '{', '}', 'x'.repeat(1024), '👩‍💻 ünïcödé', 'lru', 'gen'];

type Part = { end: boolean };
const POLICY: ResponseStreamPolicy<Part> = {
  classify: (part) => (part.end ? 'finish' : 'part'),
  failurePart: () => ({ end: true }),
};

function streamOf(parts: Part[]): ReadableStream<Part> {
  return new ReadableStream<Part>({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
      controller.close();
    },
  });
}

describe('the response cache in hash slots', () => {
  const calls: Call[] = [];
  const cache = new ResponseCacheService(recordingClient(calls));

  beforeAll(async () => {
    for (const tenant of HOSTILE_TENANTS) {
      await cache.getOrGenerate(tenant, 'generated', async () => 'value');
      const { stream } = await cache.getOrStream(
        tenant,
        'streamed',
        async () => streamOf([{ end: false }, { end: true }]),
        POLICY,
      );
      for await (const _part of stream as unknown as AsyncIterable<Part>);
      await cache.getOrGenerate(tenant, 'refreshed', async () => 'value', { noCache: true });
      // a leader whose caller aborts asks (renewing its lock) whether it has followers
      const caller = new AbortController();
      const abandoned = async () => {
        caller.abort();
        return 'value';
      };
      await cache.getOrGenerate(tenant, 'abandoned', abandoned, { signal: caller.signal }).catch(() => undefined);
      await cache.getCachedResponse(tenant, 'read');
      await cache.cacheResponse(tenant, 'read', 'value');
      await cache.clearTenant(tenant);
    }
  });

  afterAll(() => cache.close());

  it('sends every script at least once', () => {
    const sent = new Set(calls.map((call) => call.command));
    expect(Object.values(RESPONSE_SCRIPTS).filter(({ name }) => !sent.has(name))).toEqual([]);
  });

  it("gives every call keys that all hash to its tenant's slot", () => {
    const spanning = calls.filter((call) => new Set(call.keys.map((key) => calculateSlot(key))).size !== 1);
    expect(spanning).toEqual([]);
  });

  it("makes a call's lock and live stream in its tenant's slot, whatever the tenant id", () => {
    for (const tenant of HOSTILE_TENANTS) {
      const keys = responseKeys(tenant);
      const slot = calculateSlot(keys.entries);
      const made = [keys.lru, keys.deadlines, keys.fence, responseLockKey(keys, 'f'), responseLiveKey(keys, 'f', 't')];
      expect(made.map((key) => calculateSlot(key))).toEqual(made.map(() => slot));
    }
  });
});
