import { createHash, createHmac } from 'node:crypto';

/**
 * The one place where Redis key names are made. The Nest services and the
 * framework-free client both build their keys here; docs/key-schema.md describes
 * the result for readers in other languages.
 *
 * Every key of one script shares one hash tag (the text between the first `{` and
 * the next `}`), so each script touches a single hash slot on Redis Cluster.
 */
const ROOT = 'wbot';

export type Precision = 'float32' | 'float64';

export interface EmbeddingKeys {
  /** HASH: entry field -> vector bytes. */
  readonly vectors: string;
  /** ZSET: entry field -> last access time in microseconds (the LRU order). */
  readonly lru: string;
}

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
  /** Prefixes a script appends another conversation id to, to evict it. */
  readonly messagesPrefix: string;
  readonly idsPrefix: string;
}

function base64url(digest: Buffer): string {
  return digest.toString('base64url');
}

/**
 * A user's hash tag: SHA-256 of the id's UTF-16 code units. Fixed length, only
 * base64url characters (no braces or colons), and injective for every JS string,
 * lone surrogates included, where UTF-8 would map them all to U+FFFD.
 */
export function userTag(userId: string): string {
  return base64url(createHash('sha256').update(userId, 'utf16le').digest());
}

export function embeddingKeys(userId: string): EmbeddingKeys {
  const base = `${ROOT}:emb:{${userTag(userId)}}`;
  return { vectors: `${base}:vec`, lru: `${base}:lru` };
}

/** Length-prefixes each field, so that no two field lists encode to the same bytes. */
function lengthPrefixed(fields: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const field of fields) {
    const bytes = Buffer.from(field, 'utf16le');
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  }
  return Buffer.concat(parts);
}

/**
 * The field under which one text's vector is stored in its user's hash. The
 * namespace (model) and precision are part of it, so a model or precision change
 * never reads another's vectors. With a secret it is an HMAC, so a field can't be
 * checked against a guessed text.
 */
export function embeddingField(namespace: string, precision: Precision, text: string, hashSecret?: string): string {
  const input = lengthPrefixed([namespace, precision, text]);
  const mac = hashSecret ? createHmac('sha256', hashSecret) : createHash('sha256');
  return base64url(mac.update(input).digest());
}

/**
 * Which of `buckets` budgets a conversation belongs to: the first four bytes of
 * SHA-256 over the id's UTF-8, as an unsigned big-endian integer, modulo `buckets`.
 */
export function conversationBucket(conversationId: string, buckets: number): number {
  if (buckets === 1) return 0;
  const digest = createHash('sha256').update(conversationId, 'utf8').digest();
  return digest.readUInt32BE(0) % buckets;
}

export function bucketPrefix(bucket: number): string {
  return `${ROOT}:msg:{b${bucket}}:`;
}

export function conversationKeys(conversationId: string, bucket: number): ConversationKeys {
  const prefix = bucketPrefix(bucket);
  return {
    messages: `${prefix}c:${conversationId}`,
    ids: `${prefix}ids:${conversationId}`,
    lease: `${prefix}lease:${conversationId}`,
    lru: `${prefix}lru`,
    sizes: `${prefix}sizes`,
    total: `${prefix}total`,
    messagesPrefix: `${prefix}c:`,
    idsPrefix: `${prefix}ids:`,
  };
}

/** The share of the global budget that bucket `bucket` of `buckets` holds; they sum to `total`. */
export function bucketBudget(total: number, buckets: number, bucket: number): number {
  return Math.floor(total / buckets) + (bucket < total % buckets ? 1 : 0);
}
