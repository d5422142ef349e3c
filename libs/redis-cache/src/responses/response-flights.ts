import { randomUUID } from 'node:crypto';
import { LIVE_READ_BLOCK_MS, LIVE_READ_COUNT } from '../options/defaults';
import type { ResolvedResponseOptions } from '../options/redis-cache-options';
import type { CacheSpan } from '../tracing/cache-span';
import type { LeaderRelay } from './leader-relay';
import { LiveReader } from './live-reader';
import type { Call } from './call-checks';
import { Flight, type FlightEnd } from './response-flight';
import type { ResponseIndex, ResponseTarget } from './response-index';
import { responseLiveKey } from '../keys';

/** Who answers a call: a stored response, a flight to read, this call as the leader, or this call alone. */
export type Decision =
  | { readonly kind: 'hit'; readonly value: unknown }
  | { readonly kind: 'join'; readonly flight: Flight }
  | { readonly kind: 'lead'; readonly flight: Flight; readonly relay?: LeaderRelay; readonly abort: AbortController }
  | { readonly kind: 'solo'; readonly generation?: string };

/**
 * The model calls of one process, in flight: those it makes as a leader, and those of leaders elsewhere that it
 * follows. Each key has one flight at most, which every call of that key in the process reads.
 */
export class ResponseFlights {
  private readonly flights = new Map<string, Flight>();
  /** Leaders' flights whose end is under way. */
  private readonly ending = new WeakSet<Flight>();
  private reader?: LiveReader;

  constructor(
    private readonly index: ResponseIndex,
    private readonly options: ResolvedResponseOptions,
  ) {}

  /**
   * Who answers a call. A flight of this process is joined; otherwise Redis says: a hit, a leader in flight (which
   * this process then follows), or no one, and this call leads. A call with `noCache`, or one past its wait after
   * its leaders failed, asks the model alone; so does one with `noStore` that has no leader to follow.
   */
  async decide(
    target: ResponseTarget,
    call: Call,
    startedAt: number,
    tookOver: boolean,
    span: CacheSpan | undefined,
  ): Promise<Decision> {
    const late = tookOver && performance.now() - startedAt >= this.options.coalesceTimeoutMs;
    if (call.noCache || late) return { kind: 'solo', generation: await this.index.generation(target) };
    const flying = await this.current(target.id);
    if (flying) return { kind: 'join', flight: flying };
    const token = randomUUID();
    const reply = await this.index.lookup(target, call.noStore ? 'follow' : 'lead', token, span);
    if (reply?.[0] === 1) return { kind: 'hit', value: reply[1] };
    if (reply?.[0] === 3) return this.lead(target, reply[1], token);
    // another call of this process may have started a flight of the key meanwhile; checked again after the
    // wait, with no other wait before a flight is made, so that two calls never make two of one key
    const registered = (await this.current(target.id)) ?? this.flights.get(target.id);
    if (registered) return { kind: 'join', flight: registered };
    if (reply?.[0] === 2) return { kind: 'join', flight: this.follow(target, reply[1]) };
    // Redis failed: the calls of this process share one model call all the same
    if (!reply && !call.noStore) return this.lead(target, undefined, token);
    return { kind: 'solo' };
  }

  /**
   * Ends a leader's flight, once: for its followers and in the cache, where a done one's response (`value`,
   * encoded) is stored for `ttlMs` unless `clearTenant` fenced the flight off; then for its readers. A done
   * flight's readers end after the store, so that a call after them finds the response; a failed flight's at
   * once. The flight stays the one of its key until Redis has its end, so that no call of this process follows
   * the failed leader's lock meanwhile: calls wait for it to close (see `current`).
   */
  async end(
    flight: Flight,
    relay: LeaderRelay | undefined,
    end: FlightEnd,
    ttlMs: number,
    value?: string,
  ): Promise<void> {
    if (flight.end || this.ending.has(flight)) return;
    this.ending.add(flight);
    if (end === 'failed') flight.finish(end);
    if (flight.fenced && value !== undefined) this.index.count({ stored: false, fenced: true, evicted: 0 });
    const stored = end === 'done' && !flight.fenced ? this.index.storable(value) : undefined;
    const { maxEntriesPerTenant: maxEntries } = this.options;
    const response =
      stored === undefined ? undefined : { value: stored, ttlMs, maxEntries, generation: flight.generation! };
    if (relay) this.index.count(await relay.finish(end, response));
    flight.finish(end);
    this.unregister(flight);
  }

  /** Fences off the flights of a tenant (`base`, its keys' start): none stores, and no later call joins one. */
  fence(base: string): void {
    for (const [id, flight] of this.flights) {
      if (!id.startsWith(`${base}\n`)) continue;
      flight.fenced = true;
      this.unregister(flight);
    }
  }

  /** Closes the blocking connection of the reader, if one was opened. */
  async close(): Promise<void> {
    await this.reader?.close();
    this.reader = undefined;
  }

  /** The flight of a key a call may join: none that failed (once it has closed, the one after it, if any). */
  private async current(id: string): Promise<Flight | undefined> {
    let flight = this.flights.get(id);
    while (flight?.end === 'failed') {
      await flight.closed;
      flight = this.flights.get(id);
    }
    return flight;
  }

  /** This call leads: its flight, registered for the calls of this process, and its relay to Redis, if locked. */
  private lead(target: ResponseTarget, generation: string | undefined, token: string): Decision {
    const abort = new AbortController();
    const relay = generation === undefined ? undefined : this.index.relay(target, generation, token);
    const flight: Flight = new Flight(target.id, generation, performance.now(), () => {
      void this.abandon(flight, abort, relay);
    });
    this.flights.set(target.id, flight);
    return { kind: 'lead', flight, relay, abort };
  }

  /**
   * A leader whose readers have all gone goes on for its followers elsewhere; with none, its model call is
   * aborted and the flight fails at once.
   */
  private async abandon(flight: Flight, abort: AbortController, relay: LeaderRelay | undefined): Promise<void> {
    if (relay && (await relay.followers()) > 0) return;
    abort.abort();
    await this.end(flight, relay, 'failed', 0);
  }

  /**
   * A flight fed by another process's leader, through its live stream, until its end. Every half lease it checks
   * that the leader still holds its lock; once it does not (it ended, failed or died), or Redis could not say for
   * two leases, what is left of its stream is read once more, and a flight still without its end has failed. So
   * has one whose entries skip a number. When its last reader leaves, it stops following.
   */
  private follow(target: ResponseTarget, owner: string): Flight {
    const { redis } = this.index;
    const separator = owner.indexOf(':');
    const live = responseLiveKey(target.keys, target.field, owner.slice(separator + 1));
    const flight = new Flight(target.id, owner.slice(0, separator), performance.now(), () => stop('failed'));
    const reader = (this.reader ??= new LiveReader(redis.client, LIVE_READ_BLOCK_MS));
    let expected = 0;
    let confirmedAt = performance.now();
    const following = reader.follow(live, (entry) => {
      if (entry.seq !== expected++) stop('failed');
      else if (entry.parts) flight.append(entry.parts);
      else stop(entry.end ?? 'failed');
    });
    const check = async () => {
      // undefined when Redis cannot say; null when the lock is gone
      const holder = await redis.run<string | null | undefined>(
        'getOrStreamResponse',
        undefined,
        () => redis.client.hget(target.lock, 'owner'),
        target.lock,
      );
      if (holder === owner) confirmedAt = performance.now();
      if (
        holder === owner ||
        (holder === undefined && performance.now() - confirmedAt <= 2 * this.options.leaseTtlMs)
      ) {
        return;
      }
      const rest = await redis.run(
        'getOrStreamResponse',
        null,
        () => redis.client.call('XREAD', 'COUNT', LIVE_READ_COUNT, 'STREAMS', live, following.lastId),
        live,
      );
      reader.deliver(following, rest);
      stop('failed');
    };
    const watchdog = setInterval(() => void check(), Math.floor(this.options.leaseTtlMs / 2));
    watchdog.unref();
    const stop = (end: FlightEnd) => {
      clearInterval(watchdog);
      reader.unfollow(following);
      flight.finish(end);
      this.unregister(flight);
    };
    this.flights.set(target.id, flight);
    return flight;
  }

  private unregister(flight: Flight): void {
    if (this.flights.get(flight.id) === flight) this.flights.delete(flight.id);
    flight.close();
  }
}
