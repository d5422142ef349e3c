import { Injectable } from '@nestjs/common';
import { EmbeddingCacheService, MessageCacheService, ResponseCacheService } from '@wbot/redis-cache';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type CacheConnection = 'local' | 'shared';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const BREAKER_STATES = ['closed', 'open', 'half-open'] as const;
const CONNECTION_STATES = ['wait', 'connecting', 'connect', 'ready', 'close', 'reconnecting', 'end'] as const;
const CHAT_RESULTS = ['hit', 'miss', 'coalesced', 'bypass'] as const;

function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/**
 * The app's Prometheus metrics, in a registry of its own (not prom-client's
 * global one), so that several apps in one process each count for themselves.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method, route pattern and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly cacheDuration = new Histogram({
    name: 'wbot_cache_operation_duration_seconds',
    help: 'Latency of each cache call the app makes, Redis failures and fallbacks included.',
    labelNames: ['connection', 'operation'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly cacheOperations = new Counter({
    name: 'wbot_cache_operations_total',
    help:
      'Cache calls by operation and outcome: hit or miss for reads (a Redis failure reads as a miss), ' +
      'stored or not_stored for writes, cleared or not_cleared for clears, error when the loader or the embedder failed.',
    labelNames: ['connection', 'operation', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly chatResponses = new Counter({
    name: 'wbot_demo_chat_responses_total',
    help:
      'POST /chat answers by how the response cache answered them: hit (stored), miss (the model), coalesced ' +
      '(the model call of an identical request in flight) or bypass (no key: the model, without the cache).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  constructor(embeddings: EmbeddingCacheService, messages: MessageCacheService, responses: ResponseCacheService) {
    collectDefaultMetrics({ register: this.registry });
    // every result from 0, so that a rate over the first answers of each is not lost
    for (const result of CHAT_RESULTS) this.chatResponses.inc({ result }, 0);
    new Counter({
      name: 'wbot_response_cache_events_total',
      help: "The response cache's own counters (stats()): hits, misses, coalesced, takeovers, bypasses, writes, oversized, fenced, evictions, clears, fallbacks.",
      labelNames: ['event'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const [event, value] of Object.entries(responses.stats())) this.inc({ event: snakeCase(event) }, value);
      },
    });
    const libraryCounters = () => [
      { connection: 'local', counters: embeddings.stats() as object },
      { connection: 'shared', counters: messages.stats() as object },
    ];
    new Counter({
      name: 'wbot_cache_events_total',
      help: "The library's own counters (stats()) per connection: hits, misses, writes, appends, fills, fills_refused, evictions, dropped, clears, fallbacks, read_only_hits, near_hits.",
      labelNames: ['connection', 'event'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const { connection, counters } of libraryCounters()) {
          for (const [event, value] of Object.entries(counters))
            this.inc({ connection, event: snakeCase(event) }, value);
        }
      },
    });
    this.nearCacheGauges(embeddings);
    const clients = () => [
      { ...embeddings.connectionState(), connection: 'local' },
      { ...messages.connectionState(), connection: 'shared' },
    ];
    new Gauge({
      name: 'wbot_redis_connection_up',
      help: 'Whether the Redis connection is ready for commands (1) or not (0).',
      labelNames: ['connection'] as const,
      registers: [this.registry],
      collect() {
        for (const { connection, status } of clients()) this.set({ connection }, status === 'ready' ? 1 : 0);
      },
    });
    new Gauge({
      name: 'wbot_redis_connection_state',
      help: "The Redis connection's ioredis status: 1 for the current state, 0 for the others.",
      labelNames: ['connection', 'state'] as const,
      registers: [this.registry],
      collect() {
        for (const { connection, status } of clients()) {
          for (const state of CONNECTION_STATES) this.set({ connection, state }, status === state ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: 'wbot_redis_breaker_state',
      help: "The connection's circuit breaker: 1 for its current state (closed, open, half-open), 0 for the others.",
      labelNames: ['connection', 'state'] as const,
      registers: [this.registry],
      collect() {
        for (const { connection, breaker } of clients()) {
          for (const state of BREAKER_STATES) this.set({ connection, state }, breaker === state ? 1 : 0);
        }
      },
    });
  }

  /** The embedding near cache's size and state, when the app turned it on (EMBEDDING_NEAR_CACHE_BYTES). */
  private nearCacheGauges(embeddings: EmbeddingCacheService): void {
    const usage = embeddings.nearCacheUsage();
    if (!usage) return;
    const gauges = [
      ['wbot_near_cache_bytes', 'What the near cache entries count for, in bytes: at most its maxBytes.', 'bytes'],
      ['wbot_near_cache_entries', 'The vectors the near cache holds.', 'entries'],
      [
        'wbot_near_cache_serving',
        'Whether the near cache serves hits (1): its invalidation channel is live.',
        'serving',
      ],
    ] as const;
    for (const [name, help, figure] of gauges) {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(Number(embeddings.nearCacheUsage()![figure]));
        },
      });
    }
  }

  /** Times one cache call and counts its outcome. */
  async trackCache<T>(
    connection: CacheConnection,
    operation: string,
    call: () => Promise<T>,
    outcomeOf: (result: T) => string,
  ): Promise<T> {
    // timed by hand: prom-client's startTimer() makes two closures and a merged copy of the labels per call
    const started = performance.now();
    let outcome = 'error';
    try {
      const result = await call();
      outcome = outcomeOf(result);
      return result;
    } finally {
      // 'error' stays when the loader or compute failed (e.g. an unknown conversation): Redis failures never reject
      this.cacheOperations.inc({ connection, operation, outcome });
      this.cacheDuration.observe({ connection, operation }, (performance.now() - started) / 1000);
    }
  }
}
