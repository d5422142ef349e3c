import { createHash, type Hash } from 'node:crypto';

/** Deeper than this, a value is taken for a cycle the ancestors did not catch, or for an attack. */
const MAX_DEPTH = 256;

/** Thrown for a value with no canonical form: a function, a symbol, a cycle, an object of a class not listed below. */
class Unkeyable extends Error {}

function isPlainObject(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Writes one value's canonical form into the hash: every value as a type tag, then its content, with strings
 * and containers prefixed by their length, so that no two values write the same bytes. Object keys are written
 * sorted, so their order does not matter; a property that is `undefined` is left out, as JSON leaves it out.
 */
function write(hash: Hash, value: unknown, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'undefined':
      hash.update('u');
      return;
    case 'boolean':
      hash.update(value ? 't' : 'f');
      return;
    case 'number':
      // -0 is 0 to every model setting; NaN and the infinities are written as themselves
      hash.update(`n${Object.is(value, -0) ? 0 : value};`);
      return;
    case 'bigint':
      hash.update(`i${value};`);
      return;
    case 'string':
      writeString(hash, value);
      return;
    case 'object':
      break;
    default:
      throw new Unkeyable(typeof value);
  }
  if (value === null) {
    hash.update('z');
    return;
  }
  if (value instanceof Date) {
    hash.update(`d${value.getTime()};`);
    return;
  }
  if (value instanceof URL) {
    hash.update('l');
    writeString(hash, value.href);
    return;
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    writeBytes(hash, value);
    return;
  }
  if (ancestors.has(value) || ancestors.size >= MAX_DEPTH) throw new Unkeyable('a cycle');
  ancestors.add(value);
  if (Array.isArray(value)) {
    hash.update(`a${value.length}[`);
    // an index loop, unlike forEach, also visits the holes of a sparse array
    for (let i = 0; i < value.length; i++) write(hash, value[i], ancestors);
    hash.update(']');
  } else {
    if (!isPlainObject(value)) throw new Unkeyable(value.constructor?.name ?? 'an object');
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object)
      .filter((key) => object[key] !== undefined)
      .sort();
    hash.update(`o${keys.length}{`);
    for (const key of keys) {
      writeString(hash, key);
      write(hash, object[key], ancestors);
    }
    hash.update('}');
  }
  ancestors.delete(value);
}

/** A string as its length and UTF-16 code units: lone surrogates stay distinct, where UTF-8 would merge them. */
function writeString(hash: Hash, value: string): void {
  hash.update(`s${value.length}:`);
  hash.update(value, 'utf16le');
}

/**
 * Binary data as the SHA-256 of its bytes, so that an image adds 32 bytes to the canonical form whatever its
 * size, with its kind: a `Uint8Array` (a `Buffer` is one) and a `Float32Array` of the same bytes differ.
 */
function writeBytes(hash: Hash, value: ArrayBufferView | ArrayBuffer): void {
  const bytes = ArrayBuffer.isView(value)
    ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
    : new Uint8Array(value);
  const kind = value instanceof Uint8Array ? 'Uint8Array' : value.constructor.name;
  hash.update('x');
  writeString(hash, kind);
  hash.update(createHash('sha256').update(bytes).digest());
}

/**
 * A fixed-length digest (a SHA-256 in base64url, 43 characters) of a value's canonical form: equal for values
 * that differ only in the order of their objects' keys, different for any other difference. It takes JSON values,
 * `undefined`, `BigInt`s, `Date`s, `URL`s and binary data (hashed); `undefined` when the value holds anything else
 * (a function, a symbol, a `Map`, an instance of another class, a cycle), which has no canonical form: a call
 * keyed on it bypasses the cache rather than risk a wrong hit. Never throws: a getter that throws makes the value
 * unkeyable too.
 */
export function canonicalDigest(value: unknown): string | undefined {
  const hash = createHash('sha256');
  try {
    write(hash, value, new Set());
  } catch {
    return undefined;
  }
  return hash.digest('base64url');
}
