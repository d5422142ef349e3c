import type { Cluster, Redis } from 'ioredis';
import { EmbeddingCacheService, MessageCacheClient, type CachedMessage } from '@wbot/redis-cache';
import { connectedCacheRedis } from '../../../../test/support/redis-client';
import { RedisServer } from '../../../../test/support/redis-server';
import { startTopology, type Topology } from '../support/topology';

/**
 * The commands a cache sends in one tick leave in one socket write: a message
 * read is a script and an `LRANGE`, and several requests served in the same
 * tick share that write too. Counted on the socket itself: each `_write` or
 * `_writev` it makes is one system call.
 */
const MESSAGES: CachedMessage[] = [
  { id: 'm1', role: 'user', content: 'hello' },
  { id: 'm2', role: 'assistant', content: 'hi' },
];

let server: RedisServer;
let client: Redis;
let messages: MessageCacheClient;
let embeddings: EmbeddingCacheService;

type Writable = Record<'_write' | '_writev', (...args: unknown[]) => void>;

/** The socket writes made while `run` is under way, on the sockets of `clients`, and what it resolved to. */
async function socketWrites<T>(
  run: () => Promise<T>,
  clients: Redis[] = [client],
): Promise<{ writes: number; result: T }> {
  let writes = 0;
  const restores = clients.map(({ stream }) => {
    const socket = stream as unknown as Writable;
    const originals = { _write: socket._write, _writev: socket._writev };
    for (const name of ['_write', '_writev'] as const) {
      socket[name] = function (this: unknown, ...args: unknown[]) {
        writes++;
        return originals[name].apply(this, args);
      };
    }
    return () => Object.assign(socket, originals);
  });
  try {
    const result = await run();
    return { writes, result };
  } finally {
    restores.forEach((restore) => restore());
  }
}

beforeAll(async () => {
  server = await RedisServer.start();
  client = await connectedCacheRedis(server.url);
  messages = new MessageCacheClient(client);
  embeddings = new EmbeddingCacheService(client);
  await messages.cacheMessages('conv', MESSAGES);
  await embeddings.cacheEmbedding('user', 'text', [1, 2, 3]);
});

afterAll(async () => {
  client?.disconnect();
  await server?.stop();
});

it('sends a message read, its script and its LRANGE, in one socket write', async () => {
  const { writes, result } = await socketWrites(() => messages.getCachedMessages('conv'));
  expect(result).toEqual(MESSAGES);
  expect(writes).toBe(1);
});

it('sends the calls made in one tick, by several requests and both caches, in one socket write', async () => {
  const { writes, result } = await socketWrites(() =>
    Promise.all([
      messages.getCachedMessages('conv'),
      messages.getCachedMessages('conv', { last: 1 }),
      embeddings.getCachedEmbedding('user', 'text'),
      embeddings.getCachedEmbeddings('user', ['text', 'absent']),
    ]),
  );
  expect(result).toEqual([MESSAGES, [MESSAGES[1]], [1, 2, 3], [[1, 2, 3], null]]);
  expect(writes).toBe(1);
});

it('sends the calls of the next tick in a write of their own', async () => {
  const { writes, result } = await socketWrites(async () => {
    const first = await messages.getCachedMessages('conv');
    const second = await messages.getCachedMessages('conv');
    return [first, second];
  });
  expect(result).toEqual([MESSAGES, MESSAGES]);
  expect(writes).toBe(2);
});

describe('on a three-master cluster', () => {
  let topology: Topology;
  let cluster: Cluster;

  beforeAll(async () => {
    topology = await startTopology('a three-master cluster');
    cluster = (await topology.connect()) as Cluster;
  });

  afterAll(async () => {
    cluster?.disconnect();
    await topology?.stop();
  });

  it("sends the calls made in one tick to a conversation's node in one write to that node", async () => {
    const onCluster = new MessageCacheClient(cluster);
    expect(await onCluster.cacheMessages('conv', MESSAGES)).toBe(true);
    const { writes, result } = await socketWrites(
      () => Promise.all([onCluster.getCachedMessages('conv'), onCluster.getCachedMessages('conv', { last: 1 })]),
      cluster.nodes('master'),
    );
    expect(result).toEqual([MESSAGES, [MESSAGES[1]]]);
    expect(writes).toBe(1);
  });
});
