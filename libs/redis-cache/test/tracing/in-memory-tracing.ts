import { context, trace, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import type { Redis } from 'ioredis';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { connectedCacheRedis } from '../../../../test/support/redis-client';
import { RedisServer } from '../../../../test/support/redis-server';

/**
 * An OpenTelemetry SDK registered for one spec file, as an app registers one:
 * a global tracer provider whose spans end up in memory, and the
 * AsyncLocalStorage context manager, which carries the active span across
 * awaits. The ioredis instrumentation is the real one, configured as
 * docs/tracing.md recommends; Jest loads modules itself, past the
 * require hook through which the instrumentation patches ioredis in an app,
 * so its patch is applied here to the ioredis module that Jest loaded.
 */
export class InMemoryTracing {
  readonly exporter = new InMemorySpanExporter();
  readonly provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(this.exporter)] });
  private readonly contextManager = new AsyncLocalStorageContextManager();
  private readonly ioredis = new IORedisInstrumentation({ dbStatementSerializer: (command) => command });

  start(): void {
    trace.setGlobalTracerProvider(this.provider);
    context.setGlobalContextManager(this.contextManager.enable());
    this.ioredis.setTracerProvider(this.provider);
    for (const definition of this.ioredis.getModuleDefinitions()) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      definition.patch?.(require('ioredis'), (require('ioredis/package.json') as { version: string }).version);
    }
  }

  async stop(): Promise<void> {
    for (const definition of this.ioredis.getModuleDefinitions()) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      definition.unpatch?.(require('ioredis'));
    }
    await this.provider.shutdown();
    trace.disable();
    context.disable();
  }

  /** Runs `call` under a span of the app's, as a request handler would, and ends that span after it. */
  async underParent<T>(call: (parent: Span) => Promise<T>): Promise<T> {
    return trace.getTracer('app').startActiveSpan('app request', async (parent) => {
      try {
        return await call(parent);
      } finally {
        parent.end();
      }
    });
  }

  /** The spans ended so far, in the order they ended; forgotten after. */
  take(): ReadableSpan[] {
    const spans = this.exporter.getFinishedSpans();
    this.exporter.reset();
    return spans;
  }
}

/** The cache's own spans among `spans`. */
export function cacheSpans(spans: readonly ReadableSpan[]): ReadableSpan[] {
  return spans.filter((span) => span.name.startsWith('wbot.cache '));
}

/** The id of a span's parent, or undefined for a root span. */
export function parentOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

export function idOf(span: ReadableSpan | Span): string {
  return span.spanContext().spanId;
}

/** The private redis-server of a traced spec file, and a client on it; set once the file's `beforeAll` has run. */
export interface TracedRedis {
  server: RedisServer;
  client: Redis;
}

/**
 * Registers the hooks of a spec file that traces the caches: `tracing` started,
 * a private redis-server and a client on it for the whole file, and all three
 * stopped after it.
 */
export function tracedRedis(tracing: InMemoryTracing): TracedRedis {
  const redis = {} as TracedRedis;
  beforeAll(async () => {
    tracing.start();
    redis.server = await RedisServer.start();
    redis.client = await connectedCacheRedis(redis.server.url);
  });
  afterAll(async () => {
    redis.client.disconnect();
    await redis.server.stop();
    await tracing.stop();
  });
  return redis;
}
