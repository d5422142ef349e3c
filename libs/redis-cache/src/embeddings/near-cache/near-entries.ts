import { NEAR_CACHE_ENTRY_OVERHEAD_BYTES } from '../../options/defaults';
import type { EmbeddingKeys } from '../../keys';

/** Bytes one `number[]` element takes: V8 keeps an array of doubles unboxed, 8 bytes each. */
const BYTES_PER_DIMENSION = 8;

/** One vector in memory, decoded once, with what is known of its copy in Redis. */
export interface NearEntry {
  readonly user: NearUser;
  readonly text: string;
  readonly field: string;
  readonly vector: readonly number[];
  readonly bytes: number;
  /**
   * When Redis may expire the entry, on this process's clock (`performance.now()`): the send time of the last
   * read or touch that found it, plus the time to expiry that Redis answered with. Never later than Redis's own.
   */
  expiresAt: number;
  /** How long Redis keeps the entry after an access, in ms: its own TTL, as last answered. */
  ttlMs: number;
  /** When the last read or touch of it was sent, on this process's clock. */
  touchedAt: number;
  /** Whether a touch of it waits to be sent. */
  queued: boolean;
  newer: NearEntry | undefined;
  older: NearEntry | undefined;
}

/** One user's entries, by text (the hits' lookup) and by field (the invalidations'). */
export interface NearUser {
  readonly userId: string;
  readonly keys: EmbeddingKeys;
  readonly byText: Map<string, NearEntry>;
  readonly byField: Map<string, NearEntry>;
}

/** What a fill gives for one vector. */
export interface NearFill {
  readonly text: string;
  readonly field: string;
  readonly vector: readonly number[];
  readonly expiresAt: number;
  readonly ttlMs: number;
  readonly touchedAt: number;
}

/** The bytes an entry counts for: its vector, its text, and the fixed overhead of an entry. */
export function entryBytes(text: string, dimensions: number): number {
  return dimensions * BYTES_PER_DIMENSION + text.length * 2 + NEAR_CACHE_ENTRY_OVERHEAD_BYTES;
}

/**
 * The near cache's entries: an LRU over every user's entries, bounded by the
 * bytes they count for (`entryBytes`), never above `maxBytes`. The least
 * recently used entries are evicted to make room; an entry larger than
 * `maxBytes` alone is not kept. Pure bookkeeping, no I/O.
 */
export class NearEntries {
  private readonly users = new Map<string, NearUser>();
  private readonly usersByKey = new Map<string, NearUser>();
  private newest: NearEntry | undefined;
  private oldest: NearEntry | undefined;
  private size = 0;
  private used = 0;

  constructor(readonly maxBytes: number) {}

  /** How many entries it holds. */
  get entries(): number {
    return this.size;
  }

  /** The bytes its entries count for. */
  get bytes(): number {
    return this.used;
  }

  /** The user's entry for `text`, made the most recently used; undefined if there is none. */
  use(userId: string, text: string): NearEntry | undefined {
    const entry = this.users.get(userId)?.byText.get(text);
    if (entry && entry !== this.newest) {
      this.unlink(entry);
      this.link(entry);
    }
    return entry;
  }

  /** Keeps `fill` as the user's most recently used entry, in place of any for the same text; false if it is too large. */
  add(userId: string, keys: EmbeddingKeys, fill: NearFill): boolean {
    const bytes = entryBytes(fill.text, fill.vector.length);
    if (bytes > this.maxBytes) return false;
    let user = this.users.get(userId);
    const previous = user?.byText.get(fill.text);
    if (previous) this.remove(previous);
    while (this.used + bytes > this.maxBytes) this.remove(this.oldest!);
    user = this.users.get(userId);
    if (!user) {
      user = { userId, keys, byText: new Map(), byField: new Map() };
      this.users.set(userId, user);
      this.usersByKey.set(keys.vectors, user);
    }
    const entry: NearEntry = { ...fill, user, bytes, queued: false, newer: undefined, older: undefined };
    user.byText.set(fill.text, entry);
    user.byField.set(fill.field, entry);
    this.link(entry);
    this.used += bytes;
    this.size++;
    return true;
  }

  /** Whether `entry` is still the one kept for its text (no invalidation or eviction removed it since). */
  holds(entry: NearEntry): boolean {
    return entry.user.byText.get(entry.text) === entry;
  }

  /** Removes the entries of the user whose `vec` key is `vectorsKey`: those of `fields`, or all of them. */
  forget(vectorsKey: string, fields?: Iterable<string>): void {
    const user = this.usersByKey.get(vectorsKey);
    if (!user) return;
    if (fields === undefined) {
      for (const entry of [...user.byText.values()]) this.remove(entry);
      return;
    }
    for (const field of fields) {
      const entry = user.byField.get(field);
      if (entry) this.remove(entry);
    }
  }

  /** Removes every entry. */
  clear(): void {
    this.users.clear();
    this.usersByKey.clear();
    this.newest = undefined;
    this.oldest = undefined;
    this.size = 0;
    this.used = 0;
  }

  /** Removes one entry, and its user once it has none left. */
  remove(entry: NearEntry): void {
    const { user } = entry;
    if (user.byText.get(entry.text) !== entry) return;
    user.byText.delete(entry.text);
    user.byField.delete(entry.field);
    if (user.byText.size === 0) {
      this.users.delete(user.userId);
      this.usersByKey.delete(user.keys.vectors);
    }
    this.unlink(entry);
    this.used -= entry.bytes;
    this.size--;
  }

  private link(entry: NearEntry): void {
    entry.older = this.newest;
    entry.newer = undefined;
    if (this.newest) this.newest.newer = entry;
    this.newest = entry;
    this.oldest ??= entry;
  }

  private unlink(entry: NearEntry): void {
    if (entry.newer) entry.newer.older = entry.older;
    else this.newest = entry.older;
    if (entry.older) entry.older.newer = entry.newer;
    else this.oldest = entry.newer;
    entry.newer = undefined;
    entry.older = undefined;
  }
}
