import * as crypto from 'node:crypto';

/**
 * The one place where Redis key names are made. The Nest services and the
 * framework-free client both build their keys here; docs/key-schema.md describes
 * the result for readers in other languages.
 *
 * Every key of one script shares one hash tag (the text between the first `{` and
 * the next `}`), so each script touches a single hash slot on Redis Cluster.
 */
const ROOT = 'wbot';

/**
 * The first element of every cached conversation's list (docs/key-schema.md).
 * The Lua scripts declare it too, since other languages load them as they are;
 * keys.spec.ts checks that the two agree.
 */
export const CONVERSATION_HEADER = `${ROOT}:conversation:v1`;

/**
 * The pub/sub channel on which the embedding scripts announce that a user's
 * entries changed, for the near caches of every process (docs/key-schema.md):
 * a message is the user's `vec` key, alone when all of the user's entries are
 * gone, or followed by the fields that changed, separated by spaces. The
 * scripts declare it too; keys.spec.ts checks that the two agree.
 */
export const NEAR_CACHE_CHANNEL = `${ROOT}:emb:near`;

/** How vectors are stored: IEEE 754 elements of 2, 4 or 8 bytes per dimension, little-endian. */
export type Precision = 'float16' | 'float32' | 'float64';

/** A user's embedding keys, which share the user's hash tag. */
export interface EmbeddingKeys {
  /** HASH: entry field -> vector bytes. */
  readonly vectors: string;
  /** ZSET: entry field -> last access time in microseconds (the LRU order). */
  readonly lru: string;
  /** ZSET: entry field -> when it expires, in microseconds; only once an entry was written with its own TTL. */
  readonly deadlines: string;
  /**
   * STRING: when the user was last cleared, in microseconds of the server's clock: the fence that keeps a
   * computation begun before the clear from writing after it.
   */
  readonly cleared: string;
}

/**
 * A conversation's keys and those of its bucket, all under the bucket's hash
 * tag, so that a script on them touches a single hash slot.
 */
export interface ConversationKeys {
  /** LIST: a header element, then one JSON message per element. */
  readonly messages: string;
  /** SET: the JSON-encoded `id` of every cached message that has one. */
  readonly ids: string;
  /** STRING: the token of the fill lease, while a loader runs. */
  readonly lease: string;
  /** ZSET: conversation id -> last access time in microseconds, for the bucket. */
  readonly lru: string;
  /** HASH: conversation id -> its number of cached messages, for the bucket. */
  readonly sizes: string;
  /** STRING: total cached messages in the bucket. */
  readonly total: string;
  /**
   * ZSET: conversation id -> when it expires, in microseconds, for the bucket; only once a conversation was
   * filled with its own TTL.
   */
  readonly deadlines: string;
  /** Prefixes a script appends another conversation id to, to evict or clear it. */
  readonly messagesPrefix: string;
  readonly idsPrefix: string;
  readonly leasePrefix: string;
}

/**
 * A tenant's response cache keys, which share the tenant's hash tag; the lock and the live stream of one call are
 * made from `base` by `responseLockKey` and `responseLiveKey`.
 */
export interface ResponseKeys {
  /** HASH: entry field -> the encoded response. */
  readonly entries: string;
  /** ZSET: entry field -> last access time in microseconds (the LRU order). */
  readonly lru: string;
  /** ZSET: entry field -> when it expires, in microseconds. */
  readonly deadlines: string;
  /** STRING: the tenant's generation, which each `clearTenant` increments; absent means 0. */
  readonly fence: string;
  /** `wbot:llm:{<tenant tag>}`, the start of every key of the tenant. */
  readonly base: string;
}

/**
 * SHA-256 of `data`, through Node's one-shot `crypto.hash` where it exists
 * (Node >= 20.12), which is about twice as fast as `createHash` on the short
 * inputs hashed on every call here; the two give the same digest.
 */
const sha256: (data: Buffer) => Buffer =
  typeof crypto.hash === 'function'
    ? (data) => crypto.hash('sha256', data, 'buffer')
    : (data) => crypto.createHash('sha256').update(data).digest();

/**
 * A user's hash tag: SHA-256 of the id's UTF-16 code units. Fixed length, only
 * base64url characters (no braces or colons), and injective for every JS string,
 * lone surrogates included, where UTF-8 would map them all to U+FFFD.
 */
export function userTag(userId: string): string {
  return sha256(Buffer.from(userId, 'utf16le')).toString('base64url');
}

/** A user's embedding keys, `wbot:emb:{<userTag>}:vec`, `:lru`, `:exp` and `:clr`. */
export function embeddingKeys(userId: string): EmbeddingKeys {
  const base = `${ROOT}:emb:{${userTag(userId)}}`;
  return { vectors: `${base}:vec`, lru: `${base}:lru`, deadlines: `${base}:exp`, cleared: `${base}:clr` };
}

/** Appends `field` as its UTF-16 code units after their length in bytes (4 bytes, big-endian). */
function writeLengthPrefixed(target: Buffer, offset: number, field: string): number {
  target.writeUInt32BE(field.length * 2, offset);
  return offset + 4 + target.write(field, offset + 4, 'utf16le');
}

/** A tenant's response keys, `wbot:llm:{<userTag(tenant)>}:val`, `:lru`, `:exp` and `:gen`. */
export function responseKeys(tenant: string): ResponseKeys {
  const base = `${ROOT}:llm:{${userTag(tenant)}}`;
  return { entries: `${base}:val`, lru: `${base}:lru`, deadlines: `${base}:exp`, fence: `${base}:gen`, base };
}

/** HASH `{ owner, followers }`: the lock of the one call that asks the model for an entry field's response. */
export function responseLockKey(keys: ResponseKeys, field: string): string {
  return `${keys.base}:lock:${field}`;
}

/** STREAM: the parts of one leader's response (`token` is its lock's), as they arrive, for its followers. */
export function responseLiveKey(keys: ResponseKeys, field: string, token: string): string {
  return `${keys.base}:live:${field}:${token}`;
}

/** The version of the stored responses' format, part of every entry field. */
const RESPONSE_FORMAT = 'wbot:llm:v1';

/**
 * Makes the fields under which responses of one kind are stored in their tenant's hash: the hash of the
 * length-prefixed (format version, kind, key), where the kind says whether an entry is one value or a stream's
 * parts, and the key is the caller's (a digest of the call, or the app's own string). With a secret it is an HMAC.
 * No key the caller gives reaches Redis as it is.
 */
export function responseFieldHasher(kind: 'value' | 'stream', hashSecret?: string): (key: string) => string {
  return lengthPrefixedHasher([RESPONSE_FORMAT, kind], hashSecret);
}

/**
 * Makes the fields under which texts' vectors are stored in their user's hash:
 * the hash of the length-prefixed (namespace, precision, text), so that no two
 * triples encode to the same bytes. The namespace (model) and precision are part
 * of it, so a model or precision change never reads another's vectors. With a
 * secret it is an HMAC, so a field can't be checked against a guessed text. The
 * prefix is encoded once per hasher.
 */
export function embeddingFieldHasher(
  namespace: string,
  precision: Precision,
  hashSecret?: string,
): (text: string) => string {
  return lengthPrefixedHasher([namespace, precision], hashSecret);
}

/** SHA-256 (or HMAC-SHA-256) of the length-prefixed fields, then the text; the prefix is encoded once. */
function lengthPrefixedHasher(fields: readonly string[], hashSecret: string | undefined): (text: string) => string {
  const prefix = Buffer.alloc(fields.reduce((bytes, field) => bytes + 4 + field.length * 2, 0));
  fields.reduce((offset, field) => writeLengthPrefixed(prefix, offset, field), 0);
  return (text) => {
    const input = Buffer.allocUnsafe(prefix.length + 4 + text.length * 2);
    prefix.copy(input);
    writeLengthPrefixed(input, prefix.length, text);
    if (hashSecret) return crypto.createHmac('sha256', hashSecret).update(input).digest('base64url');
    return sha256(input).toString('base64url');
  };
}

/** One text's field; a service keeps one hasher instead, to encode its prefix once. */
export function embeddingField(namespace: string, precision: Precision, text: string, hashSecret?: string): string {
  return embeddingFieldHasher(namespace, precision, hashSecret)(text);
}

/**
 * Which of `buckets` budgets a conversation belongs to: the first four bytes of
 * SHA-256 over the id's UTF-8, as an unsigned big-endian integer, modulo `buckets`.
 */
export function conversationBucket(conversationId: string, buckets: number): number {
  if (buckets === 1) return 0;
  return sha256(Buffer.from(conversationId, 'utf8')).readUInt32BE(0) % buckets;
}

/** The start of every key of message bucket `bucket`: `wbot:msg:{b<bucket>}:`, whose hash tag decides its slot. */
export function bucketPrefix(bucket: number): string {
  return `${ROOT}:msg:{b${bucket}}:`;
}

/** The keys of a conversation in bucket `bucket` (from `conversationBucket`), and of that bucket. */
export function conversationKeys(conversationId: string, bucket: number): ConversationKeys {
  const prefix = bucketPrefix(bucket);
  return {
    messages: `${prefix}c:${conversationId}`,
    ids: `${prefix}ids:${conversationId}`,
    lease: `${prefix}lease:${conversationId}`,
    lru: `${prefix}lru`,
    sizes: `${prefix}sizes`,
    total: `${prefix}total`,
    deadlines: `${prefix}exp`,
    messagesPrefix: `${prefix}c:`,
    idsPrefix: `${prefix}ids:`,
    leasePrefix: `${prefix}lease:`,
  };
}

/** The share of the global budget that bucket `bucket` of `buckets` holds; they sum to `total`. */
export function bucketBudget(total: number, buckets: number, bucket: number): number {
  return Math.floor(total / buckets) + (bucket < total % buckets ? 1 : 0);
}
