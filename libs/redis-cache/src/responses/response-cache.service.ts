import type { Cluster, Redis } from 'ioredis';
import { RedisCacheInputError } from '../errors';
import { DEFAULT_READY_TIMEOUT_MS, RECENT_RESPONSE_MISSES } from '../options/defaults';
import { assertFunction, assertTenant, writeTtlMs } from '../options/input';
import type {
  CacheRuntimeOptions,
  CacheWriteOptions,
  ResolvedResponseOptions,
  ResponseCacheOptions,
} from '../options/redis-cache-options';
import { resolveDeadline, resolveResponseOptions } from '../options/resolve-options';
import type { ConnectionState } from '../resilience/breaker';
import { SafeRedis } from '../resilience/safe-redis';
import { defineScripts } from '../scripts/lua-scripts';
import type { CacheSpan } from '../tracing/cache-span';
import { CacheTracing } from '../tracing/cache-tracing';
import type { LeaderRelay } from './leader-relay';
import type { ResponseCacheStats } from './response-cache-stats';
import { assertResponseKey, resolveCall, type Call } from './call-checks';
import type {
  GenerateCallOptions,
  GeneratedResponse,
  GenerateResponse,
  ResponseKey,
  ResponseSource,
  ResponseStreamPolicy,
  StreamCallOptions,
  StreamedResponse,
  StreamResponse,
} from './response-call';
import { decodeResponse, encodeResponse } from './response-codec';
import type { Flight } from './response-flight';
import { ResponseFlights } from './response-flights';
import { ResponseIndex, type ResponseTarget } from './response-index';
import { RESPONSE_SCRIPTS } from './response-scripts';
import { OriginStream, flightStream, replayStream, unlessAborted } from './response-streams';

/** A signal that never aborts, for a model call that no caller's abort should stop. */
const NEVER = new AbortController().signal;

/** The encoded form of what a call records, or undefined when it records nothing or cannot be encoded. */
function encodeRecorded(recorded: unknown): string | undefined {
  return recorded === undefined ? undefined : encodeResponse(recorded);
}

/**
 * An exact cache of language model responses, per tenant, on the `local` connection unless the options say
 * otherwise: an exact LRU of `maxEntriesPerTenant` responses, each served for `ttlSeconds` after it was stored.
 * A call is keyed by the caller (`ResponseKey`, hashed again here). Only a response that completed is stored.
 *
 * Identical calls in flight share one model call, across processes: the first takes a lock in Redis and asks the
 * model (the leader); the others (followers) read its response as it comes, through a Redis stream, on a
 * connection of the cache's own that may block. A follower that has had nothing after `coalesceTimeoutMs`, or
 * whose leader failed or died first, asks the model itself. The calls of one process read one flight of a key.
 * With Redis down every call asks the model. With the OpenTelemetry API installed and an SDK registered, each
 * call is a span. Framework-free: a Next.js route handler uses it as it is (`@wbot/redis-cache/client`).
 */
export class ResponseCacheService {
  /** The options in effect, defaults filled in. */
  readonly options: ResolvedResponseOptions;
  private readonly redis: SafeRedis;
  private readonly counters: ResponseCacheStats = {
    hits: 0,
    misses: 0,
    coalesced: 0,
    takeovers: 0,
    bypasses: 0,
    writes: 0,
    oversized: 0,
    fenced: 0,
    evictions: 0,
    clears: 0,
    fallbacks: 0,
  };
  private readonly tracing: CacheTracing;
  private readonly index: ResponseIndex;
  private readonly flights: ResponseFlights;
  /** The tenant's generation seen by the last misses of `getCachedResponse`, for the `cacheResponse` after them. */
  private readonly misses = new Map<string, string>();

  constructor(client: Redis | Cluster, options: ResponseCacheOptions = {}, runtime: CacheRuntimeOptions = {}) {
    this.options = resolveResponseOptions(options);
    this.tracing = new CacheTracing(this.options.connection);
    defineScripts(client, RESPONSE_SCRIPTS);
    this.redis = new SafeRedis(client, {
      connection: this.options.connection,
      deadlineMs: resolveDeadline(runtime.deadlineMs),
      logger: runtime.logger ?? console,
      breaker: runtime.breaker,
      onFallback: () => this.counters.fallbacks++,
    });
    this.index = new ResponseIndex(this.redis, this.options, this.counters);
    this.flights = new ResponseFlights(this.index, this.options);
  }

  /**
   * The result of `generate`, or of an identical call: the stored one, that of a call of the same key in flight
   * (in any process), or `generate`'s own, which is then stored (what `options.record` makes of it), unless it is
   * larger than `maxEntryBytes`. A `generate` failure rejects, and is never stored; followers of a failed call ask
   * the model themselves. Results go through Redis as JSON (with `Date`s and `Uint8Array`s revived), so a result
   * that is not (a `BigInt`, say) is returned but neither shared nor stored.
   */
  async getOrGenerate<T>(
    tenant: string,
    key: ResponseKey,
    generate: GenerateResponse<T>,
    options?: GenerateCallOptions<T>,
  ): Promise<GeneratedResponse<T>> {
    assertTenant(tenant);
    assertResponseKey(key);
    assertFunction(generate, 'generate');
    const call = resolveCall(options, this.ttlMs);
    const record = options?.record ?? ((value: T): unknown => value);
    return this.tracing.run('getOrGenerateResponse', undefined, async (span) => {
      if (key === null) return { source: this.answered('bypass', span), value: await generate(call.signal ?? NEVER) };
      const target = this.index.target(tenant, 'value', key);
      const startedAt = performance.now();
      let tookOver = false;
      for (;;) {
        const decision = await this.flights.decide(target, call, startedAt, tookOver, span);
        if (decision.kind === 'hit') return { source: this.answered('hit', span), value: decision.value as T };
        if (decision.kind === 'join') {
          const { flight } = decision;
          flight.join();
          try {
            const first = await flight.firstPart(startedAt + this.options.coalesceTimeoutMs, call.signal);
            if (first === 'part') {
              return { source: this.answered('coalesced', span), value: decodeResponse(flight.parts[0]) as T };
            }
          } finally {
            flight.leave();
          }
          tookOver = true;
          continue;
        }
        this.answered('miss', span, tookOver);
        if (decision.kind === 'solo') {
          const value = await generate(call.signal ?? NEVER);
          if (!call.noStore) {
            await this.index.store(target, decision.generation, encodeRecorded(record(value)), call.ttlMs);
          }
          return { source: 'miss', value };
        }
        const { flight, relay, abort } = decision;
        flight.join();
        const led = this.leadGenerate(flight, relay, () => generate(abort.signal), record, call);
        try {
          return { source: 'miss', value: await unlessAborted(led, call.signal) };
        } finally {
          flight.leave();
        }
      }
    });
  }

  /**
   * The stream of `stream`, or of an identical call: a stored one (replayed at once, or one part every
   * `replayDelayMs`), that of a call of the same key in flight in any process (followed live: its parts come as
   * the leader gets them), or `stream`'s own. It resolves when the source is known: for a follower, at its first
   * part. A stream is stored once it has ended after a `finish` part and without a `failure` part; one that
   * errors or is aborted is not. Parts go through Redis as JSON (with `Date`s and `Uint8Array`s revived).
   */
  async getOrStream<P>(
    tenant: string,
    key: ResponseKey,
    stream: StreamResponse<P>,
    options: StreamCallOptions<P>,
  ): Promise<StreamedResponse<P>> {
    assertTenant(tenant);
    assertResponseKey(key);
    assertFunction(stream, 'stream');
    const call = resolveCall(options, this.ttlMs);
    assertFunction(options.classify, 'options.classify');
    assertFunction(options.failurePart, 'options.failurePart');
    return this.tracing.run('getOrStreamResponse', undefined, async (span) => {
      if (key === null) return { source: this.answered('bypass', span), stream: await stream(call.signal ?? NEVER) };
      const target = this.index.target(tenant, 'stream', key);
      const startedAt = performance.now();
      let tookOver = false;
      for (;;) {
        const decision = await this.flights.decide(target, call, startedAt, tookOver, span);
        if (decision.kind === 'hit') {
          const parts = decision.value as P[];
          return { source: this.answered('hit', span), stream: replayStream(parts, options.replayDelayMs ?? 0) };
        }
        if (decision.kind === 'join') {
          const { flight } = decision;
          flight.join();
          const first = await flight
            .firstPart(startedAt + this.options.coalesceTimeoutMs, call.signal)
            .catch((reason: unknown) => {
              flight.leave();
              throw reason;
            });
          if (first === 'part') {
            const followed = flightStream(flight, call.signal, options.failurePart);
            return { source: this.answered('coalesced', span), stream: followed };
          }
          flight.leave();
          tookOver = true;
          continue;
        }
        this.answered('miss', span, tookOver);
        if (decision.kind === 'solo') {
          const model = await stream(call.signal ?? NEVER);
          const generation = call.noStore ? undefined : decision.generation;
          return { source: 'miss', stream: this.storedAlone(target, generation, model, call, options) };
        }
        const { flight, relay, abort } = decision;
        // the origin reads the flight from now on, so that no joiner that leaves meanwhile abandons it
        flight.join();
        let model: ReadableStream<P>;
        try {
          model = await stream(abort.signal);
        } catch (error) {
          await this.flights.end(flight, relay, 'failed', call.ttlMs);
          flight.leave();
          throw error;
        }
        const origin = new OriginStream<P>(flight, call.signal);
        void this.pump(flight, relay, model, origin, call, options);
        return { source: 'miss', stream: origin.stream };
      }
    });
  }

  /**
   * The stored response of `key` (as `getOrGenerate` stores it), or `null` on a miss or a Redis failure; for a
   * cache that looks up and stores apart, as LangChain's does. It neither waits for nor leads a call in flight.
   */
  async getCachedResponse(tenant: string, key: ResponseKey): Promise<unknown> {
    assertTenant(tenant);
    assertResponseKey(key);
    return this.tracing.run('getCachedResponse', undefined, async (span) => {
      if (key === null) {
        this.answered('bypass', span);
        return null;
      }
      const target = this.index.target(tenant, 'value', key);
      const reply = await this.index.lookup(target, 'read', '', span);
      if (reply?.[0] === 1) {
        this.answered('hit', span);
        return reply[1];
      }
      this.answered('miss', span);
      if (reply) this.rememberMiss(target.id, reply[1]);
      return null;
    });
  }

  /**
   * Stores `value` as the response of `key`: `true` once stored; `false` on a Redis failure, for a value larger
   * than `maxEntryBytes`, for a `null` key, or when `clearTenant` came after this process's `getCachedResponse`
   * of the key missed. `options.ttlSeconds` gives it a TTL of its own.
   *
   * @throws RedisCacheInputError naming `value` when it is not JSON (with `Date`s and `Uint8Array`s).
   */
  async cacheResponse(tenant: string, key: ResponseKey, value: unknown, options?: CacheWriteOptions): Promise<boolean> {
    assertTenant(tenant);
    assertResponseKey(key);
    const ttlMs = writeTtlMs(options, this.ttlMs);
    const encoded = encodeResponse(value);
    if (encoded === undefined) throw new RedisCacheInputError('value', 'must be JSON, with Dates and Uint8Arrays');
    return this.tracing.run('cacheResponse', undefined, async (span) => {
      if (key === null) return false;
      const target = this.index.target(tenant, 'value', key);
      const generation = this.misses.get(target.id) ?? '*';
      this.misses.delete(target.id);
      const { stored } = await this.index.store(target, generation, encoded, ttlMs, span);
      span?.wrote(stored);
      return stored;
    });
  }

  /**
   * Removes every stored response of the tenant, and fences off every call of it in flight, here and in other
   * processes: none stores what it answers, and no later call follows one. `true` once done, `false` on a Redis
   * failure (the calls in flight in this process are fenced off all the same).
   */
  async clearTenant(tenant: string): Promise<boolean> {
    assertTenant(tenant);
    const keys = this.index.keysOf(tenant);
    this.flights.fence(keys.base);
    // no generation is ever this one: the store after such a miss is fenced off even if the clear fails
    for (const id of this.misses.keys()) if (id.startsWith(`${keys.base}\n`)) this.misses.set(id, 'cleared');
    return this.tracing.run('clearTenant', undefined, (span) => this.index.clear(keys, span));
  }

  /** The cache's counters since it was created, as a copy. */
  stats(): ResponseCacheStats {
    return { ...this.counters };
  }

  /** Resolves true once the connection is ready, false after `timeoutMs`; never rejects. */
  ready(timeoutMs: number = DEFAULT_READY_TIMEOUT_MS): Promise<boolean> {
    return this.redis.whenReady(timeoutMs);
  }

  /** The connection's name, its ioredis status and its circuit breaker's state, for metrics. */
  connectionState(): ConnectionState {
    return this.redis.connectionState();
  }

  /**
   * Closes the connection the cache opened for its followers' blocking reads, if it did; the app closes its own
   * client. The Nest module calls it at shutdown.
   */
  close(): Promise<void> {
    return this.flights.close();
  }

  private get ttlMs(): number {
    return this.options.ttlSeconds * 1000;
  }

  /** Counts how a call was answered, and says so on its span. */
  private answered(source: ResponseSource, span: CacheSpan | undefined, tookOver = false): ResponseSource {
    const counters = { hit: 'hits', miss: 'misses', coalesced: 'coalesced', bypass: 'bypasses' } as const;
    this.counters[counters[source]]++;
    if (tookOver) this.counters.takeovers++;
    span?.answered(source);
    return source;
  }

  /** A leader's result: what it records goes to its flight and its followers, then into the cache. */
  private async leadGenerate<T>(
    flight: Flight,
    relay: LeaderRelay | undefined,
    generate: () => PromiseLike<T>,
    record: (value: T) => unknown,
    call: Call,
  ): Promise<T> {
    try {
      const value = await generate();
      const encoded = encodeRecorded(record(value));
      if (encoded !== undefined) {
        flight.append([encoded]);
        relay?.relay([encoded]);
      }
      await this.flights.end(flight, relay, encoded === undefined ? 'failed' : 'done', call.ttlMs, encoded);
      return value;
    } catch (error) {
      await this.flights.end(flight, relay, 'failed', call.ttlMs);
      throw error;
    }
  }

  /**
   * Feeds the origin with the model's parts as they are, and the flight and its relay with them encoded, until
   * the first failure: then the flight fails (its followers learn it at once), and the origin is fed on. The
   * origin's stream closes once the response is stored, so that a call after it finds it.
   */
  private async pump<P>(
    flight: Flight,
    relay: LeaderRelay | undefined,
    model: ReadableStream<P>,
    origin: OriginStream<P>,
    call: Call,
    policy: ResponseStreamPolicy<P>,
  ): Promise<void> {
    const reader = model.getReader();
    let failed = false;
    let finished = false;
    try {
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        origin.push(read.value);
        if (failed) continue;
        const kind = policy.classify(read.value);
        const encoded = kind === 'failure' ? undefined : encodeResponse(read.value);
        if (encoded === undefined) {
          failed = true;
          void this.flights.end(flight, relay, 'failed', call.ttlMs);
          continue;
        }
        flight.append([encoded]);
        relay?.relay([encoded]);
        finished ||= kind === 'finish';
      }
      if (!failed) {
        const value = finished ? `[${flight.parts.join(',')}]` : undefined;
        await this.flights.end(flight, relay, finished ? 'done' : 'failed', call.ttlMs, value);
      }
      origin.close();
    } catch (error) {
      if (!failed) await this.flights.end(flight, relay, 'failed', call.ttlMs);
      origin.error(error);
    }
  }

  /**
   * A model's stream, passed on as it is, that stores itself once it has ended cleanly (the stream of a call that
   * asked the model without a lock), unless `generation` is undefined.
   */
  private storedAlone<P>(
    target: ResponseTarget,
    generation: string | undefined,
    model: ReadableStream<P>,
    call: Call,
    policy: ResponseStreamPolicy<P>,
  ): ReadableStream<P> {
    if (generation === undefined) return model;
    const parts: string[] = [];
    let storable = true;
    let finished = false;
    return model.pipeThrough(
      new TransformStream<P, P>({
        transform: (part, controller) => {
          controller.enqueue(part);
          const kind = policy.classify(part);
          const encoded = kind === 'failure' ? undefined : encodeResponse(part);
          if (encoded === undefined) storable = false;
          else parts.push(encoded);
          finished ||= kind === 'finish';
        },
        flush: async () => {
          if (storable && finished) await this.index.store(target, generation, `[${parts.join(',')}]`, call.ttlMs);
        },
      }),
    );
  }

  private rememberMiss(id: string, generation: string): void {
    this.misses.delete(id);
    if (this.misses.size >= RECENT_RESPONSE_MISSES) this.misses.delete(this.misses.keys().next().value as string);
    this.misses.set(id, generation);
  }
}
