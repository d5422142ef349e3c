import type { Span, SpanOptions } from '@opentelemetry/api';
import { CacheSpan } from './cache-span';
import { cacheTracer, openTelemetry } from './tracer';
import {
  ATTR_BATCH_SIZE,
  ATTR_CONNECTION,
  ATTR_DB_SYSTEM_NAME,
  CACHE_OPERATIONS,
  type CacheConnectionRole,
  type CacheOperation,
} from './span-attributes';

/**
 * Runs `work` outside any trace: the timers it starts and the connections it
 * opens run their callbacks, and send their Redis commands, in the root
 * context, not in the context of the call that happened to start them. For the
 * near cache's background work (touches, heartbeat), which belongs to no call.
 */
export function untraced<T>(work: () => T): T {
  if (openTelemetry === undefined) return work();
  return openTelemetry.context.with(openTelemetry.ROOT_CONTEXT, work);
}

/** The span names, made once. */
const SPAN_NAMES = Object.fromEntries(
  CACHE_OPERATIONS.map((operation) => [operation, `wbot.cache ${operation}`]),
) as Record<CacheOperation, string>;

/** One options object for every span, so that a call that is not traced allocates none. */
const SPAN_OPTIONS: SpanOptions | undefined = openTelemetry && { kind: openTelemetry.SpanKind.CLIENT };

/**
 * Traces a cache's public operations, one CLIENT span each, as children of the
 * caller's active span. The call runs with its span active, so that the spans
 * of what it calls (the ioredis instrumentation's commands, the app's
 * `compute` or `loader`) nest under it. Without the OpenTelemetry API, or
 * while its span does not record (no SDK registered, or sampled out), the call
 * runs as it is: no attribute is computed and no context is entered.
 */
export class CacheTracing {
  constructor(private readonly connection: CacheConnectionRole) {}

  /** Runs `call` under the operation's span; `batchSize` is left out where the operation takes no batch. */
  run<T>(
    operation: CacheOperation,
    batchSize: number | undefined,
    call: (span: CacheSpan | undefined) => Promise<T>,
  ): Promise<T> {
    const started = this.start(operation, batchSize);
    if (started === undefined) return call(undefined);
    const [span, traced] = started;
    const { context, trace } = openTelemetry!;
    return context.with(trace.setSpan(context.active(), span), call, undefined, traced).then(
      (value) => {
        traced.end();
        return value;
      },
      (error: unknown) => {
        traced.end(error);
        throw error;
      },
    );
  }

  /**
   * Traces an operation that was done at once, without Redis (a hit the near
   * cache served): a span that `describe` fills in and that ends at once; no
   * context is entered, since nothing runs under it.
   */
  done(operation: CacheOperation, batchSize: number | undefined, describe: (span: CacheSpan) => void): void {
    const started = this.start(operation, batchSize);
    if (started === undefined) return;
    describe(started[1]);
    started[1].end();
  }

  /** The operation's span and what records it, or undefined when it does not record. */
  private start(operation: CacheOperation, batchSize: number | undefined): [Span, CacheSpan] | undefined {
    if (cacheTracer === undefined) return undefined;
    const span = cacheTracer.startSpan(SPAN_NAMES[operation], SPAN_OPTIONS);
    if (!span.isRecording()) {
      span.end();
      return undefined;
    }
    span.setAttribute(ATTR_DB_SYSTEM_NAME, 'redis');
    span.setAttribute(ATTR_CONNECTION, this.connection);
    if (batchSize !== undefined) span.setAttribute(ATTR_BATCH_SIZE, batchSize);
    return [span, new CacheSpan(span)];
  }
}
