import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import {
  EmbeddingCacheService,
  RedisCacheHealthIndicator,
  RedisCacheModule,
  createCacheRedis,
  type RedisConnectionOptions,
} from '@wbot/redis-cache';
import { waitUntilReady } from '../../../../test/support/redis-client';
import { RedisServer, freePort } from '../../../../test/support/redis-server';
import { until } from '../../../../test/support/until';

/**
 * TLS against a real redis-server with TLS on: a CA, a server certificate for
 * 127.0.0.1 and a client certificate are made with openssl for this run, and the
 * server requires the client certificate.
 */
interface Pki {
  ca: Buffer;
  wrongCa: Buffer;
  cert: Buffer;
  key: Buffer;
  files: Record<'ca' | 'serverCert' | 'serverKey', string>;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function selfSignedCa(dir: string, name: string): void {
  openssl(
    dir,
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-days',
    '1',
    '-subj',
    `/CN=${name}`,
  );
}

function signed(dir: string, name: string, extensions: string): void {
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, 'req', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    `${name}.crt`,
    '-days',
    '1',
    '-extfile',
    `${name}.ext`,
  );
}

function makePki(dir: string): Pki {
  selfSignedCa(dir, 'ca');
  selfSignedCa(dir, 'wrong-ca');
  signed(dir, 'server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  signed(dir, 'client', 'extendedKeyUsage=clientAuth\n');
  const read = (file: string) => readFileSync(join(dir, file));
  return {
    ca: read('ca.crt'),
    wrongCa: read('wrong-ca.crt'),
    cert: read('client.crt'),
    key: read('client.key'),
    files: { ca: join(dir, 'ca.crt'), serverCert: join(dir, 'server.crt'), serverKey: join(dir, 'server.key') },
  };
}

let dir: string;
let pki: Pki;
let server: RedisServer;
let tlsUrl: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wbot-tls-'));
  pki = makePki(dir);
  const tlsPort = await freePort();
  server = await RedisServer.start([
    '--tls-port',
    String(tlsPort),
    '--tls-cert-file',
    pki.files.serverCert,
    '--tls-key-file',
    pki.files.serverKey,
    '--tls-ca-cert-file',
    pki.files.ca,
    '--tls-auth-clients',
    'yes',
  ]);
  tlsUrl = `rediss://127.0.0.1:${tlsPort}`;
});

afterAll(async () => {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function boot(local: RedisConnectionOptions): Promise<{ app: INestApplicationContext; warnings: string[] }> {
  const warnings: string[] = [];
  const moduleRef = await Test.createTestingModule({
    imports: [RedisCacheModule.forRoot({ connections: { local, shared: { url: server.url } } })],
  }).compile();
  moduleRef.useLogger({ log() {}, error() {}, warn: (message: string) => warnings.push(message) });
  return { app: await moduleRef.init(), warnings };
}

it('a rediss:// URL with the CA, client certificate and key options caches over TLS', async () => {
  const { app } = await boot({ url: tlsUrl, tls: { ca: pki.ca, cert: pki.cert, key: pki.key } });
  const embeddings = app.get(EmbeddingCacheService);
  await until(() => embeddings.connectionState().status === 'ready');
  expect(await embeddings.cacheEmbedding('user', 'over tls', [1, 2])).toBe(true);
  expect(await embeddings.getCachedEmbedding('user', 'over tls')).toEqual([1, 2]);
  expect((await app.get(RedisCacheHealthIndicator).isHealthy('local'))['redis-local'].status).toBe('up');
  await app.close();
});

it('a server certificate from another CA is refused: calls fall back, health is down, the log says why', async () => {
  const { app, warnings } = await boot({ url: tlsUrl, tls: { ca: pki.wrongCa, cert: pki.cert, key: pki.key } });
  const embeddings = app.get(EmbeddingCacheService);
  await until(() => warnings.length > 0);
  expect(await embeddings.cacheEmbedding('user', 'refused', [1])).toBe(false);
  expect(await embeddings.getCachedEmbedding('user', 'refused')).toBeNull();
  expect(embeddings.stats().fallbacks).toBe(2);
  expect((await app.get(RedisCacheHealthIndicator).isHealthy('local'))['redis-local'].status).toBe('down');
  expect(warnings[0]).toMatch(/^Redis connection "local" is down: .*certificate/);
  await app.close();
});

it('without a client certificate the server refuses the connection, and calls fall back', async () => {
  const client: Redis = createCacheRedis(tlsUrl, { tls: { ca: pki.ca } });
  const cache = new EmbeddingCacheService(client, {}, { logger: { warn: () => undefined } });
  await new Promise((resolve) => client.once('error', resolve));
  expect(client.status).not.toBe('ready');
  expect(await cache.cacheEmbedding('user', 'no client certificate', [1])).toBe(false);
  client.disconnect();
});

it('the same server, over TLS, is reachable with the fail-fast client outside Nest', async () => {
  const client = createCacheRedis(tlsUrl, { tls: { ca: pki.ca, cert: pki.cert, key: pki.key } });
  await waitUntilReady(client);
  expect(await client.ping()).toBe('PONG');
  client.disconnect();
});
