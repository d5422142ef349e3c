import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { startTracing } from '../src/tracing/tracing';
import { OtlpCollector, type CollectedSpan } from './support/otlp-collector';
import { buildDemoPrivately } from './support/private-demo-build';
import { RedisServer, freePort } from './support/redis-server';
import { until } from './support/until';

/**
 * The demo with OTEL_EXPORTER_OTLP_ENDPOINT set, as it runs in production: a
 * Node process started from its compiled main.js, exporting to a tiny OTLP
 * receiver. Its cache calls arrive as spans, with the Redis command spans of
 * the ioredis instrumentation under them (so tracing started before ioredis
 * loaded), all sent by the time the app has shut down on SIGTERM.
 */
describe('tracing in the demo', () => {
  let build: ReturnType<typeof buildDemoPrivately>;
  let redis: RedisServer;
  let collector: OtlpCollector;

  beforeAll(async () => {
    build = buildDemoPrivately();
    redis = await RedisServer.start();
    collector = await OtlpCollector.start();
  }, 120_000);

  afterAll(async () => {
    await collector?.close();
    await redis?.stop();
    if (build) rmSync(build.dir, { recursive: true, force: true });
  });

  it('does not start without OTEL_EXPORTER_OTLP_ENDPOINT', () => {
    const saved = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    try {
      expect(startTracing()).toBe(false);
    } finally {
      if (saved !== undefined) process.env.OTEL_EXPORTER_OTLP_ENDPOINT = saved;
    }
  });

  it('exports the cache spans of its requests, Redis commands nested under them, by the time it has stopped', async () => {
    const port = await freePort();
    const app: ChildProcess = spawn(process.execPath, [build.main], {
      cwd: build.dir,
      env: {
        PATH: process.env.PATH,
        NODE_PATH: build.nodePath,
        ENV_FILE: '.env.none',
        PORT: String(port),
        REDIS_URL: redis.url,
        DATABASE_PATH: ':memory:',
        LOG_LEVEL: 'silent',
        EMBEDDING_DIMENSIONS: '3',
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    app.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => app.once('exit', resolve));
    try {
      const base = `http://127.0.0.1:${port}`;
      await until(
        () =>
          fetch(`${base}/health/live`).then(
            (response) => response.ok,
            () => false,
          ),
        30_000,
        100,
      );
      const json = { 'content-type': 'application/json' };
      const body = (value: unknown) => JSON.stringify(value);
      const put = await fetch(`${base}/users/alice/embeddings`, {
        method: 'PUT',
        headers: json,
        body: body({ text: 'Hello world', embedding: [1, 2, 3] }),
      });
      expect(put.status).toBe(204);
      const lookup = await fetch(`${base}/users/alice/embeddings/lookup`, {
        method: 'POST',
        headers: json,
        body: body({ text: 'Hello world' }),
      });
      expect(lookup.status).toBe(200);
      app.kill('SIGTERM');
      await exited;
    } finally {
      if (app.exitCode === null && app.signalCode === null) app.kill('SIGKILL');
    }
    expect(stderr).toBe('');

    const spans = collector.spans();
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    const parentName = (span: CollectedSpan) => (span.parentSpanId ? byId.get(span.parentSpanId)?.name : undefined);
    const cache = spans.filter((span) => span.name.startsWith('wbot.cache '));
    expect(cache.map((span) => span.name)).toEqual(['wbot.cache cacheEmbedding', 'wbot.cache getCachedEmbedding']);
    expect(cache.map((span) => span.resource['service.name'])).toEqual(['wbot-demo', 'wbot-demo']);
    expect(cache[1].scope).toBe('@wbot/redis-cache');
    expect(cache[1].attributes).toEqual({
      'db.system.name': 'redis',
      'wbot.cache.connection': 'local',
      'wbot.cache.batch.size': 1,
      'wbot.cache.result': 'hit',
      'wbot.cache.hits': 1,
    });
    const commands = spans.filter((span) => span.name === 'evalsha');
    expect(commands.map(parentName)).toEqual(['wbot.cache cacheEmbedding', 'wbot.cache getCachedEmbedding']);
    // the demo's instrumentation names the command only: no key, id, text or vector
    expect(commands.map((span) => span.attributes['db.query.text'])).toEqual(['evalsha', 'evalsha']);
    expect(collector.paths.every((path) => path === '/v1/traces')).toBe(true);
  }, 60_000);
});
