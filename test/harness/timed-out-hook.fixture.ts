// Run by test/test-harness.e2e-spec.ts in a Jest run of its own, never by npm test: a hook that times out with two
// servers up and a client that retries for ever, as a cluster's hook did while the cluster was still forming.
import { writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { RedisServer } from '../support/redis-server';

beforeAll(async () => {
  const servers = await Promise.all([RedisServer.start(), RedisServer.start()]);
  writeFileSync(process.env.HARNESS_PORTS_FILE!, JSON.stringify(servers.map((server) => server.port)));
  new Redis(servers[0].port, '127.0.0.1', { retryStrategy: () => 50 }).on('error', () => undefined);
  await new Promise(() => undefined);
}, 1000);

it('is failed by its hook', () => {
  expect(true).toBe(true);
});
