import { LIVE_STREAM_TTL_MS, RESPONSE_FENCE_TTL_MS } from '../options/defaults';
import type { SafeRedis } from '../resilience/safe-redis';
import { runScript, type ScriptArgument } from '../scripts/lua-scripts';
import type { FlightEnd } from './response-flight';
import { RESPONSE_SCRIPTS } from './response-scripts';

/** The keys of one leader's call: its tenant's four index keys, then its lock and its live stream. */
export interface LeaderKeys {
  readonly index: readonly [entries: string, lru: string, deadlines: string, fence: string];
  readonly lock: string;
  readonly live: string;
}

/** A response to store when the call ends, and for how long; within the cache's limit of entries. */
export interface StoredResponse {
  readonly value: string;
  readonly ttlMs: number;
  readonly maxEntries: number;
  /** The tenant's generation when the call started: a clear since then fences the response out. */
  readonly generation: string;
}

/** What the end of a call did with its response: stored (with the entries it evicted), fenced out, or neither. */
export interface StoreOutcome {
  readonly stored: boolean;
  readonly fenced: boolean;
  readonly evicted: number;
}

/** A response neither stored nor fenced out: nothing was asked of Redis, or Redis failed. */
export const NOT_STORED: StoreOutcome = { stored: false, fenced: false, evicted: 0 };

/** The reply of the store and finish scripts: 1 stored, -1 fenced out, 0 nothing to store; then the evictions. */
export function storeOutcome([status, evicted]: [number, number]): StoreOutcome {
  return { stored: status === 1, fenced: status === -1, evicted };
}

/**
 * The Redis side of a leader, the one call that asks the model for a response its followers wait for. It renews
 * its lock every third of the lease while it runs; it relays the response's parts to its live stream as they
 * come, in order, one entry at a time while the one before is being written (so parts that come meanwhile go
 * together); and at the end it writes the end, releases the lock and stores the response, in one script after
 * the last part. Each entry carries its sequence number, so a follower tells a lost entry from the end. Once an
 * entry could not be written, none is: the end then says `failed`, and the followers that have had nothing yet
 * call the model themselves.
 */
export class LeaderRelay {
  private sequence = 0;
  private pending: string[] = [];
  private sending?: Promise<void>;
  private broken = false;
  private readonly renewal: NodeJS.Timeout;

  constructor(
    private readonly redis: SafeRedis,
    private readonly keys: LeaderKeys,
    private readonly field: string,
    private readonly owner: string,
    private readonly leaseTtlMs: number,
  ) {
    this.renewal = setInterval(() => void this.renew(), Math.floor(leaseTtlMs / 3));
    this.renewal.unref();
  }

  /** Relays parts, each encoded, after those before them. */
  relay(parts: readonly string[]): void {
    if (this.broken) return;
    this.pending.push(...parts);
    this.sending ??= this.flush();
  }

  /**
   * How many followers the call has had, in any process, or 0 when Redis cannot say; also renews the lock. An
   * abandoned leader (no reader of its own left) goes on for them, and stops when there are none.
   */
  async followers(): Promise<number> {
    return Math.max(0, await this.renew());
  }

  /** Ends the call for its followers, after its last part, and stores `response` if given. */
  async finish(end: FlightEnd, response?: StoredResponse): Promise<StoreOutcome> {
    clearInterval(this.renewal);
    await this.sending;
    const args: ScriptArgument[] = [
      this.field,
      this.owner,
      this.broken ? 'failed' : end,
      this.sequence,
      LIVE_STREAM_TTL_MS,
    ];
    if (response) args.push(response.generation, response.ttlMs, response.maxEntries, response.value);
    const keys = [...this.keys.index, this.keys.lock, this.keys.live];
    const reply = await this.redis.run(
      'getOrGenerateResponse',
      null,
      () => runScript(this.redis.client, RESPONSE_SCRIPTS.finish, keys, args) as Promise<[number, number]>,
      this.keys.lock,
    );
    return reply ? storeOutcome(reply) : NOT_STORED;
  }

  private async flush(): Promise<void> {
    while (this.pending.length > 0 && !this.broken) {
      const batch = this.pending.join('\n');
      this.pending = [];
      const sent = await this.redis.run(
        'getOrStreamResponse',
        false,
        async () => {
          const args = [LIVE_STREAM_TTL_MS, this.sequence, batch];
          await runScript(this.redis.client, RESPONSE_SCRIPTS.relay, [this.keys.live], args);
          return true;
        },
        this.keys.live,
      );
      if (sent) this.sequence++;
      else this.broken = true;
    }
    this.pending = [];
    this.sending = undefined;
  }

  /** The followers the lock has had, or -1 when the lock is no longer this leader's or Redis failed. */
  private renew(): Promise<number> {
    const keys = [this.keys.lock, this.keys.index[3], this.keys.live];
    const args = [this.owner, this.leaseTtlMs, RESPONSE_FENCE_TTL_MS, LIVE_STREAM_TTL_MS];
    return this.redis.run(
      'getOrStreamResponse',
      -1,
      () => runScript(this.redis.client, RESPONSE_SCRIPTS.renew, keys, args) as Promise<number>,
      this.keys.lock,
    );
  }
}
