import type { Cluster, Redis } from 'ioredis';
import type { EmbeddingKeys, Precision } from '../keys';
import { isOutOfMemory } from '../resilience/out-of-memory';
import { runScript, runScriptThen } from '../scripts/lua-scripts';
import { EMBEDDING_SCRIPTS } from './embedding-scripts';
import { decodeToArray, decodeToFloat32Array } from './vector-codec';

/** A user's keys in the order the scripts take them; the set and the clear also take the fence of a clear. */
export function scriptKeys({ vectors, lru, deadlines, cleared }: EmbeddingKeys, fenced = false): string[] {
  return fenced ? [vectors, lru, deadlines, cleared] : [vectors, lru, deadlines];
}

/** What Redis answered to a read of some of a user's fields. */
export interface StoredRead {
  /** The stored bytes of each field, or null. */
  readonly values: (Buffer | null)[];
  /**
   * When the read ran, in µs of the server's clock (`'0'` when unknown): where a
   * computation of its misses begins, for the fence of `clearUser`.
   */
  readonly at: string;
  /** Read without its bookkeeping, because Redis refused writes (OOM under `noeviction`). */
  readonly readOnly: boolean;
  /** With `expiries` asked for: the ms from the read to each field's expiry in Redis (0 if absent). */
  readonly expiries?: number[];
}

/**
 * Reads `fields` of the user's hash, with the bookkeeping of a read (LRU place,
 * TTL), in one round trip. One vector costs less through the get script; more
 * are cheaper read natively, after a script that only keeps the LRU
 * (docs/benchmarks.md, batch read). The near cache, which needs each field's
 * expiry, always sends its own script before the native read. At maxmemory
 * under noeviction the script is refused: the fields are then read without it.
 */
export async function readStored(
  client: Redis | Cluster,
  keys: EmbeddingKeys,
  fields: string[],
  ttlMs: number,
  expiries: boolean,
): Promise<StoredRead> {
  const args = [ttlMs, ...fields];
  try {
    if (fields.length === 1 && !expiries) {
      const values = (await runScript(
        client,
        EMBEDDING_SCRIPTS.get,
        scriptKeys(keys),
        args,
        true,
      )) as (Buffer | null)[];
      return { values: values.slice(0, -1), at: String(values.at(-1)), readOnly: false };
    }
    const script = expiries ? EMBEDDING_SCRIPTS.nearTouch : EMBEDDING_SCRIPTS.touch;
    const [touched, values] = await runScriptThen(client, script, scriptKeys(keys), args, [
      'hmgetBuffer',
      keys.vectors,
      ...fields,
    ]);
    if (!expiries)
      return { values: values as (Buffer | null)[], at: String((touched as [number, string])[1]), readOnly: false };
    const [at, ...expiresIn] = touched as [string, ...number[]];
    return { values: values as (Buffer | null)[], at: String(at), readOnly: false, expiries: expiresIn };
  } catch (error) {
    if (!isOutOfMemory(error)) throw error;
    return { values: await client.hmgetBuffer(keys.vectors, ...fields), at: '0', readOnly: true };
  }
}

/**
 * The near cache's touch of `fields` of the user: their LRU place and TTL
 * refreshed as by a read, and the ms from then to each one's expiry (0 if absent).
 */
export async function touchStored(
  client: Redis | Cluster,
  keys: EmbeddingKeys,
  fields: string[],
  ttlMs: number,
): Promise<number[]> {
  const [, ...expiresIn] = (await runScript(client, EMBEDDING_SCRIPTS.nearTouch, scriptKeys(keys), [
    ttlMs,
    ...fields,
  ])) as [string, ...number[]];
  return expiresIn;
}

/**
 * Stored bytes as the caller asked for them (null for bytes that are no vector).
 * `keep`, when given, is offered the vector decoded once as `number[]`, for the
 * near cache, which then owns it: the caller gets a copy.
 */
export function decodeRead(
  bytes: Buffer,
  precision: Precision,
  asFloat32Array: boolean | undefined,
  keep?: (vector: number[]) => boolean,
): number[] | Float32Array | null {
  if (!keep) return asFloat32Array ? decodeToFloat32Array(bytes, precision) : decodeToArray(bytes, precision);
  const vector = decodeToArray(bytes, precision);
  if (!vector) return null;
  const kept = keep(vector);
  if (asFloat32Array) return Float32Array.from(vector);
  return kept ? vector.slice() : vector;
}
