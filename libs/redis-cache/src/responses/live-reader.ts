import calculateSlot from 'cluster-key-slot';
import type { Cluster, Redis } from 'ioredis';
import { closeCacheClient } from '../connections/close-client';
import { waitForReady } from '../connections/connection-readiness';
import { prepareClient } from '../connections/create-client';
import { isCluster } from '../connections/is-cluster';
import { LIVE_READ_COUNT } from '../options/defaults';

/** One entry of a leader's live stream: its sequence number, then parts (each encoded) or the end. */
export interface LiveEntry {
  readonly seq: number;
  readonly parts?: string[];
  readonly end?: 'done' | 'failed';
}

/** A live stream this process follows, and the id of the last entry it was handed. */
export interface LiveFollow {
  readonly key: string;
  lastId: string;
  readonly onEntry: (entry: LiveEntry) => void;
}

/** A stream's entries as XREAD gives them: `[id, [field, value, ...]]`. */
type StreamItems = [id: string, fields: string[]][];

/**
 * The streams of an XREAD reply: pairs `[key, items]` under RESP2, and under RESP3 (ioredis 6's default) a map
 * that ioredis hands over flat, `[key, items, key, items, ...]`.
 */
function streamsOf(reply: unknown): [string, StreamItems][] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  if (Array.isArray(reply[0])) return reply as [string, StreamItems][];
  const pairs: [string, StreamItems][] = [];
  for (let i = 0; i < reply.length; i += 2) pairs.push([reply[i] as string, reply[i + 1] as StreamItems]);
  return pairs;
}

/** Whether stream id `a` comes after `b` (`<ms>-<seq>`, each a decimal integer). */
function isAfter(a: string, b: string): boolean {
  const [aMs, aSeq] = a.split('-').map(BigInt);
  const [bMs, bSeq] = b.split('-').map(BigInt);
  return aMs > bMs || (aMs === bMs && aSeq > bSeq);
}

function entryOf(fields: string[]): LiveEntry {
  const values: Record<string, string> = {};
  for (let i = 0; i < fields.length; i += 2) values[fields[i]] = fields[i + 1];
  const seq = Number(values.n);
  if (values.e === 'done' || values.e === 'failed') return { seq, end: values.e };
  return { seq, parts: values.p.split('\n') };
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * Reads the live streams of the leaders this process follows, for all its followers at once: one loop of
 * blocking reads (XREAD BLOCK) on a connection of its own, duplicated from the cache's on the first follow, since
 * a blocking read holds its connection, and the cache's fail-fast connection must never wait behind one. On a
 * single node (or a Sentinel master) one read covers every stream, and a stream followed while a read blocks cuts
 * it short (CLIENT UNBLOCK from the cache's connection). On a cluster, a read covers the streams of one hash slot,
 * the slots' reads go out side by side, and a new stream waits for the reads under way (at most `blockMs`). A read
 * that fails is tried again once the connection is ready, or `blockMs` later: followers bound their own waits.
 */
export class LiveReader {
  private connection?: Redis | Cluster;
  private readonly follows = new Map<string, LiveFollow>();
  private reading = false;
  private closed = false;
  /** The blocking connection's CLIENT ID while it is connected; null where it cannot be had (a cluster, an ACL). */
  private blockedId?: number | null;
  /** How many follows there have been, and how many of them the reads under way cover. */
  private followed = 0;
  private covered = 0;

  constructor(
    private readonly main: Redis | Cluster,
    private readonly blockMs: number,
  ) {}

  /** Starts following the stream `key` from its first entry; `onEntry` gets each entry once, in order. */
  follow(key: string, onEntry: (entry: LiveEntry) => void): LiveFollow {
    const follow: LiveFollow = { key, lastId: '0-0', onEntry };
    this.follows.set(key, follow);
    this.followed++;
    if (this.reading) this.interrupt(0);
    else void this.read();
    return follow;
  }

  unfollow(follow: LiveFollow): void {
    if (this.follows.get(follow.key) === follow) this.follows.delete(follow.key);
  }

  /** Hands `follow` the entries of an XREAD reply (a catch-up read's) that it has not had yet. */
  deliver(follow: LiveFollow, reply: unknown): void {
    for (const [key, items] of streamsOf(reply)) {
      if (key !== follow.key) continue;
      this.handOver(follow, items);
    }
  }

  /** Stops reading and closes the blocking connection, if one was opened. */
  async close(): Promise<void> {
    this.closed = true;
    this.follows.clear();
    if (this.connection) await closeCacheClient(this.connection);
  }

  private handOver(follow: LiveFollow, items: StreamItems): void {
    for (const [id, fields] of items) {
      if (!isAfter(id, follow.lastId)) continue;
      follow.lastId = id;
      follow.onEntry(entryOf(fields));
    }
  }

  private async read(): Promise<void> {
    this.reading = true;
    try {
      while (!this.closed && this.follows.size > 0) {
        const connection = this.blocking();
        this.covered = this.followed;
        try {
          await Promise.all(this.groups().map((group) => this.readGroup(connection, group)));
        } catch {
          // a connection still connecting (the first follow opens it) is waited for; one that is up failed
          if (connection.status === 'ready') await delay(this.blockMs);
          else await waitForReady(connection, this.blockMs);
        }
      }
    } finally {
      this.reading = false;
    }
    // a stream followed between the loop's last check and here
    if (!this.closed && this.follows.size > 0) void this.read();
  }

  /** The streams each read covers: all of them on a single node, those of one slot each on a cluster. */
  private groups(): LiveFollow[][] {
    const follows = [...this.follows.values()];
    if (!isCluster(this.main)) return [follows];
    const bySlot = new Map<number, LiveFollow[]>();
    for (const follow of follows) {
      const slot = calculateSlot(follow.key);
      bySlot.set(slot, [...(bySlot.get(slot) ?? []), follow]);
    }
    return [...bySlot.values()];
  }

  private async readGroup(connection: Redis | Cluster, group: LiveFollow[]): Promise<void> {
    if (this.blockedId === undefined && connection.status === 'ready') await this.learnClientId(connection);
    const reply = await connection.call(
      'XREAD',
      'COUNT',
      LIVE_READ_COUNT,
      'BLOCK',
      this.blockMs,
      'STREAMS',
      ...group.map((follow) => follow.key),
      ...group.map((follow) => follow.lastId),
    );
    for (const [key, items] of streamsOf(reply)) {
      const follow = this.follows.get(key);
      if (follow) this.handOver(follow, items);
    }
  }

  private async learnClientId(connection: Redis | Cluster): Promise<void> {
    if (isCluster(connection)) {
      this.blockedId = null;
      return;
    }
    this.blockedId = await connection.call('CLIENT', 'ID').then(
      (id) => id as number,
      () => null,
    );
  }

  /**
   * Cuts the blocking read short, so that the next one covers a stream just followed; best effort. A read still on
   * its way to Redis is not blocked yet (the reply is 0): it is tried again a millisecond later, while the reads
   * under way do not cover the new stream, 20 times at most.
   */
  private interrupt(attempt: number): void {
    if (typeof this.blockedId !== 'number') return;
    this.main.call('CLIENT', 'UNBLOCK', this.blockedId).then(
      (unblocked) => {
        if (unblocked !== 0 || this.covered === this.followed || attempt >= 20) return;
        setTimeout(() => this.interrupt(attempt + 1), 1).unref();
      },
      () => undefined,
    );
  }

  private blocking(): Redis | Cluster {
    if (this.connection) return this.connection;
    const connection = isCluster(this.main) ? this.main.duplicate() : this.main.duplicate();
    // failures show as followers' waits; the connection reconnects by itself
    connection.on('error', () => undefined);
    connection.on('close', () => (this.blockedId = undefined));
    prepareClient(connection);
    if (connection.status === 'wait') connection.connect().catch(() => undefined);
    this.connection = connection;
    return connection;
  }
}
