import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Redis } from 'ioredis';
import { generateText, streamText, wrapLanguageModel } from 'ai';
import {
  RedisCacheFollowError,
  ResponseCacheService,
  createCacheRedis,
  type ResponseCacheOptions,
  type ResponseCacheStats,
} from '@wbot/redis-cache';
import { responseCacheMiddleware } from '@wbot/redis-cache/ai-sdk';
import { responseKeys } from '../../src/keys';
import { inspector, waitUntilReady } from '../../../../test/support/redis-client';
import { installLibraryPrivately } from '../../../../test/support/private-demo-build';
import { RedisServer } from '../../../../test/support/redis-server';
import { until } from '../../../../test/support/until';
import { gate, scriptedModel, specificationVersion, type MockModel } from './language-models';

/**
 * Coalescing across processes, for real: a second Node process runs the built package's `client` and `ai-sdk`
 * entries with the real AI SDK (ai 7 under the `ai7` project), beside this one, on one Redis. Both call the same
 * model (provider and id) for the same tenant, so their identical calls have one key.
 */
const ROOT = join(__dirname, '..', '..', '..', '..');
const FIXTURE = join(__dirname, 'fixtures', 'response-client-process.js');
const TENANT = 'shared-tenant';
const AI_PACKAGE = (specificationVersion as string) === 'v4' ? 'ai7' : 'ai';
const DEADLINE_MS = 5000;

interface Reply {
  result?: unknown;
  error?: { name: string; message: string };
}

interface ChildGenerate {
  text: string;
  providerMetadata: Record<string, unknown> | null;
}

interface ChildStream {
  deltas: string[];
  providerMetadata: Record<string, unknown> | null;
}

/** Drives the child: one JSON command per line, one JSON reply per line, and its reports of first parts. */
class ChildModelProcess {
  readonly firstParts: string[] = [];
  readonly modelCalls: string[] = [];
  private readonly replies = new Map<number, (reply: Reply) => void>();
  private nextId = 0;
  private readonly exited: Promise<unknown>;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', resolve));
  }

  static async start(dir: string, url: string, options: ResponseCacheOptions): Promise<ChildModelProcess> {
    const args = [join(dir, 'client-process.js'), url, JSON.stringify(options), AI_PACKAGE];
    const child = spawn(process.execPath, args, {
      cwd: dir,
      env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const driver = new ChildModelProcess(child);
    let onReady!: () => void;
    const ready = new Promise<void>((resolve) => (onReady = resolve));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as Reply & {
        id?: number;
        ready?: boolean;
        firstPart?: string;
        modelCall?: string;
      };
      if (message.ready) onReady();
      else if (message.modelCall) driver.modelCalls.push(message.modelCall);
      else if (message.firstPart !== undefined) driver.firstParts.push(message.firstPart);
      else driver.replies.get(message.id!)?.(message);
    });
    await ready;
    return driver;
  }

  async call<T>(method: string, ...args: unknown[]): Promise<T> {
    const id = this.nextId++;
    const reply = new Promise<Reply>((resolve) => this.replies.set(id, resolve));
    this.child.stdin!.write(`${JSON.stringify({ id, method, args })}\n`);
    const { result, error } = await reply;
    if (error) throw new Error(`child ${method} failed: ${error.name}: ${error.message}`);
    return result as T;
  }

  async stop(): Promise<void> {
    this.child.stdin!.end();
    await this.exited;
  }

  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

describe(`response coalescing across two processes, with ${specificationVersion} models`, () => {
  let dir: string;
  let server: RedisServer;
  let client: Redis;
  let inspect: Redis;
  let cache: ResponseCacheService;
  let child: ChildModelProcess | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wbot-response-process-'));
    installLibraryPrivately(dir);
    copyFileSync(FIXTURE, join(dir, 'client-process.js'));
    server = await RedisServer.start();
    client = createCacheRedis(server.url, { commandTimeout: DEADLINE_MS, disconnectTimeout: 50 });
    await waitUntilReady(client);
    inspect = await inspector(server.url);
  }, 120_000);

  afterAll(async () => {
    client.disconnect();
    inspect.disconnect();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(options: ResponseCacheOptions = {}) {
    await inspect.flushall();
    cache = new ResponseCacheService(client, options, { deadlineMs: DEADLINE_MS, logger: { warn: () => undefined } });
    child = await ChildModelProcess.start(dir, server.url, options);
  }

  afterEach(async () => {
    await child?.stop();
    child = undefined;
    await cache.close();
  });

  function wrapped(model: MockModel) {
    return wrapLanguageModel({ model, middleware: responseCacheMiddleware({ cache, tenant: TENANT }) });
  }

  /** The followers the lock of this process's call has had: calls elsewhere that read its live stream. */
  async function lockFollowers(): Promise<number> {
    const [lock] = await inspect.keys(`${responseKeys(TENANT).base}:lock:*`);
    return lock ? Number(await inspect.hget(lock, 'followers')) : 0;
  }

  const counts = (stats: ResponseCacheStats) => ({
    misses: stats.misses,
    coalesced: stats.coalesced,
    hits: stats.hits,
  });

  it('makes one model call for 20 identical generateText calls, 10 in each process, all answered by it', async () => {
    await start();
    const held = gate();
    const model = scriptedModel({ gate: held.opened });
    const here = Array.from({ length: 10 }, () => generateText({ model: wrapped(model), prompt: 'Popular question' }));
    await until(() => model.doGenerateCalls.length === 1);
    const there = child!.call<ChildGenerate[]>('generateMany', 'Popular question', 10);
    // the child's calls follow this one's: once its flight follows the lock, the others join it in the child
    await until(async () => (await lockFollowers()) >= 1);
    await child!.call('settle');
    held.open();

    const texts = [
      ...(await Promise.all(here)).map((result) => result.text),
      ...(await there).map((result) => result.text),
    ];
    expect(texts).toEqual(texts.map(() => 'Let me look.'));
    expect([model.doGenerateCalls.length, child!.modelCalls.length]).toEqual([1, 0]);
    expect((await there).map((result) => result.providerMetadata?.wbotCache)).toEqual(
      Array.from({ length: 10 }, () => ({ coalesced: true, usage: expect.any(Object) as unknown })),
    );
    expect(counts(cache.stats())).toEqual({ misses: 1, coalesced: 9, hits: 0 });
    expect(counts(await child!.call<ResponseCacheStats>('stats'))).toEqual({ misses: 0, coalesced: 10, hits: 0 });
  });

  it("makes one model call for 20 identical streamText calls, 10 in each process; the other process's calls get their first part before the leader's last, then every part", async () => {
    await start();
    const held = gate();
    // the leader's model holds its stream before its second text part, until the child's calls have their first
    const model = scriptedModel({ gate: held.opened, gateAt: 8 });
    const here = Array.from({ length: 10 }, () => streamText({ model: wrapped(model), prompt: 'Popular question' }));
    await until(() => model.doStreamCalls.length === 1);
    const there = child!.call<ChildStream[]>('streamMany', 'Popular question', 10);
    await until(() => child!.firstParts.length === 10);
    expect(child!.firstParts).toEqual(child!.firstParts.map(() => 'Let me'));
    held.open();

    const hereDeltas = await Promise.all(here.map(async (result) => (await result.text).length));
    expect(hereDeltas).toEqual(hereDeltas.map(() => 'Let me look.'.length));
    expect((await there).map((result) => result.deltas)).toEqual((await there).map(() => ['Let me', ' look.']));
    expect([model.doStreamCalls.length, child!.modelCalls.length]).toEqual([1, 0]);
    expect(counts(cache.stats())).toEqual({ misses: 1, coalesced: 9, hits: 0 });
    expect(counts(await child!.call<ResponseCacheStats>('stats'))).toEqual({ misses: 0, coalesced: 10, hits: 0 });
  });

  it('takes over within the lease when the leading process dies before its first part: one model call, here', async () => {
    await start({ leaseTtlMs: 300 });
    void child!.call('generateMany', 'Orphaned question', 1, 'never').catch(() => undefined);
    await until(() => child!.modelCalls.length === 1);
    const model = scriptedModel();
    const followers = Array.from({ length: 5 }, () =>
      generateText({ model: wrapped(model), prompt: 'Orphaned question' }),
    );
    await until(async () => (await lockFollowers()) >= 1);
    await child!.kill();
    child = undefined;

    const results = await Promise.all(followers);
    expect(results.map((result) => result.text)).toEqual(results.map(() => 'Let me look.'));
    expect(model.doGenerateCalls).toHaveLength(1);
    expect(cache.stats()).toMatchObject({ misses: 1, coalesced: 4, takeovers: 1 });
  });

  it('ends a follower that had parts with a RedisCacheFollowError part when the leading process dies, and stores nothing', async () => {
    await start({ leaseTtlMs: 300 });
    void child!.call('streamMany', 'Cut short', 1, 'never').catch(() => undefined);
    await until(() => child!.firstParts.length === 1);
    const model = scriptedModel();
    const parts: { type: string; error?: unknown }[] = [];
    const result = streamText({ model: wrapped(model), prompt: 'Cut short', onError: () => undefined });
    const reading = (async () => {
      for await (const part of result.fullStream) parts.push(part);
    })();
    await until(() => parts.some((part) => part.type === 'text-delta'));
    await child!.kill();
    child = undefined;
    await reading;

    const errors = parts.filter((part) => part.type === 'error');
    expect(errors.map((part) => (part.error as Error).name)).toEqual(['RedisCacheFollowError']);
    expect(errors[0].error).toBeInstanceOf(RedisCacheFollowError);
    expect(model.doStreamCalls).toHaveLength(0);
    expect(await inspect.exists(responseKeys(TENANT).entries)).toBe(0);
  });

  it("fences off the other process's call in flight with clearTenant: it stores nothing, and no call here follows it", async () => {
    await start();
    const answer = child!.call<ChildGenerate[]>('generateMany', 'Before the clear', 1, 'late');
    await until(() => child!.modelCalls.length === 1);
    expect(await cache.clearTenant(TENANT)).toBe(true);
    const model = scriptedModel();
    expect((await generateText({ model: wrapped(model), prompt: 'Before the clear' })).text).toBe('Let me look.');
    await child!.call('open', 'late');
    expect((await answer)[0].text).toMatch(/^answer to Before the clear from \d+$/);

    await generateText({ model: wrapped(model), prompt: 'Before the clear' });
    expect(model.doGenerateCalls).toHaveLength(1);
    expect(await child!.call<ResponseCacheStats>('stats')).toMatchObject({ writes: 0, fenced: 1 });
    expect(cache.stats()).toMatchObject({ misses: 1, hits: 1, coalesced: 0 });
  });
});
