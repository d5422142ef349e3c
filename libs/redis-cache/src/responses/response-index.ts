import { responseFieldHasher, responseKeys, responseLiveKey, responseLockKey, type ResponseKeys } from '../keys';
import { RECENT_TENANT_KEYS, RESPONSE_FENCE_TTL_MS } from '../options/defaults';
import type { ResolvedResponseOptions } from '../options/redis-cache-options';
import type { SafeRedis } from '../resilience/safe-redis';
import { runScript } from '../scripts/lua-scripts';
import type { CacheSpan } from '../tracing/cache-span';
import { LeaderRelay, NOT_STORED, storeOutcome, type StoreOutcome } from './leader-relay';
import type { ResponseCacheStats } from './response-cache-stats';
import { decodeResponse } from './response-codec';
import { RESPONSE_SCRIPTS } from './response-scripts';

/** Where a call's response lives: its tenant's keys, its entry field, its lock, and its id among flights. */
export interface ResponseTarget {
  readonly keys: ResponseKeys;
  readonly field: string;
  readonly lock: string;
  readonly id: string;
}

/** What a lookup may do on a miss: nothing, follow a leader, or follow one or lead. */
export type LookupMode = 'read' | 'follow' | 'lead';

/**
 * The lookup script's reply: 1 a hit (decoded), 2 a leader to follow (`<generation>:<token>`), 3 this call leads
 * (the generation), 0 a miss that does neither (the generation).
 */
export type LookupReply = [1, unknown] | [2, string] | [3, string] | [0, string];

/** A tenant's four index keys, in the order the scripts take them. */
function indexKeys({ entries, lru, deadlines, fence }: ResponseKeys): [string, string, string, string] {
  return [entries, lru, deadlines, fence];
}

/**
 * The Redis side of the response cache: a tenant's index (its responses, their LRU, their deadlines and its
 * fence), through the scripts, each within the deadline. Redis failures give the fallbacks (`null`, nothing
 * stored) and are counted; what Redis did (writes, evictions, fenced writes, clears) is counted too.
 */
export class ResponseIndex {
  private readonly fieldOf: Record<'value' | 'stream', (key: string) => string>;
  /** The key names of the tenants seen last, oldest first: a tenant's tag is a SHA-256 of its id. */
  private readonly recentKeys = new Map<string, ResponseKeys>();

  constructor(
    readonly redis: SafeRedis,
    private readonly options: ResolvedResponseOptions,
    private readonly counters: ResponseCacheStats,
  ) {
    const { hashSecret } = options;
    this.fieldOf = {
      value: responseFieldHasher('value', hashSecret),
      stream: responseFieldHasher('stream', hashSecret),
    };
  }

  /** The target of a key: a result's (`value`) or a stream's, which are stored apart. */
  target(tenant: string, kind: 'value' | 'stream', key: string): ResponseTarget {
    const keys = this.keysOf(tenant);
    const field = this.fieldOf[kind](key);
    return { keys, field, lock: responseLockKey(keys, field), id: `${keys.base}\n${field}` };
  }

  /** A tenant's key names, made once for each of the last `RECENT_TENANT_KEYS` tenants. */
  keysOf(tenant: string): ResponseKeys {
    let keys = this.recentKeys.get(tenant);
    if (keys) return keys;
    keys = responseKeys(tenant);
    if (this.recentKeys.size >= RECENT_TENANT_KEYS) this.recentKeys.delete(this.recentKeys.keys().next().value!);
    this.recentKeys.set(tenant, keys);
    return keys;
  }

  /** The lookup script's reply, a hit decoded; null on a Redis failure (or a stored value that fails to decode). */
  lookup(target: ResponseTarget, mode: LookupMode, token: string, span?: CacheSpan): Promise<LookupReply | null> {
    const { keys, field, lock } = target;
    return this.redis.run(
      'getCachedResponse',
      null,
      async () => {
        const args = [field, token, this.options.leaseTtlMs, mode];
        const reply = (await runScript(
          this.redis.client,
          RESPONSE_SCRIPTS.lookup,
          [...indexKeys(keys), lock],
          args,
        )) as LookupReply | [1, string];
        return reply[0] === 1 ? [1, decodeResponse(reply[1] as string)] : reply;
      },
      keys.entries,
      span,
    );
  }

  /** The tenant's generation now, for a call that stores without having looked up; undefined on a Redis failure. */
  async generation(target: ResponseTarget): Promise<string | undefined> {
    const { fence } = target.keys;
    const generation = await this.redis.run<string | null | undefined>(
      'getOrGenerateResponse',
      undefined,
      () => this.redis.client.get(fence),
      fence,
    );
    // no fence yet: no clear yet
    return generation === undefined ? undefined : (generation ?? '0');
  }

  /**
   * Stores a response made by a call that holds no lock, unless the tenant's generation moved past `generation`
   * (`*`: stores whatever it is); nothing for an undefined generation (Redis could not say) or response.
   */
  async store(
    target: ResponseTarget,
    generation: string | undefined,
    encoded: string | undefined,
    ttlMs: number,
    span?: CacheSpan,
  ): Promise<StoreOutcome> {
    const value = generation === undefined ? undefined : this.storable(encoded);
    if (value === undefined) return NOT_STORED;
    const { keys, field } = target;
    const args = [field, generation!, ttlMs, this.options.maxEntriesPerTenant, value];
    const reply = await this.redis.run(
      'cacheResponse',
      null,
      () => runScript(this.redis.client, RESPONSE_SCRIPTS.store, indexKeys(keys), args) as Promise<[number, number]>,
      keys.entries,
      span,
    );
    return reply ? this.count(storeOutcome(reply)) : NOT_STORED;
  }

  /** A response, if it may be stored: encoded (not `undefined`) and within `maxEntryBytes`. */
  storable(encoded: string | undefined): string | undefined {
    if (encoded === undefined) return undefined;
    if (Buffer.byteLength(encoded) <= this.options.maxEntryBytes) return encoded;
    this.counters.oversized++;
    return undefined;
  }

  count(outcome: StoreOutcome): StoreOutcome {
    if (outcome.stored) this.counters.writes++;
    if (outcome.fenced) this.counters.fenced++;
    this.counters.evictions += outcome.evicted;
    return outcome;
  }

  /** The relay of a leader that took the target's lock in `generation`, as `token`. */
  relay(target: ResponseTarget, generation: string, token: string): LeaderRelay {
    const { keys, field, lock } = target;
    const live = responseLiveKey(keys, field, token);
    const owner = `${generation}:${token}`;
    return new LeaderRelay(this.redis, { index: indexKeys(keys), lock, live }, field, owner, this.options.leaseTtlMs);
  }

  /** Removes every stored response of the tenant and moves its generation on: `true` once done. */
  clear(keys: ResponseKeys, span: CacheSpan | undefined): Promise<boolean> {
    return this.redis.run(
      'clearTenant',
      false,
      async () => {
        await runScript(this.redis.client, RESPONSE_SCRIPTS.clear, indexKeys(keys), [RESPONSE_FENCE_TTL_MS]);
        this.counters.clears++;
        span?.wrote(true);
        return true;
      },
      keys.entries,
      span,
    );
  }
}
