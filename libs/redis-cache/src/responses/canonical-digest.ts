import { createHash } from 'node:crypto';

/** Deeper than this, a value is taken for a cycle the ancestors did not catch, or for an attack. */
const MAX_DEPTH = 256;

/** Thrown for a value with no canonical form: a function, a symbol, a cycle, an object of a class not listed below. */
class Unkeyable extends Error {}

function isPlainObject(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** Shorter strings are written code unit by code unit, longer ones by Buffer.write: a call into C++ costs more. */
const SHORT_STRING = 64;

/**
 * The canonical form's bytes, gathered in a buffer that grows, then hashed at once: one hash update per digest,
 * where one per token of the form (a type tag, a length, a key) cost more than the rest of a call's key.
 */
class CanonicalBytes {
  private bytes = Buffer.allocUnsafe(2048);
  private length = 0;

  private reserve(count: number): void {
    if (this.length + count <= this.bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.length + count));
    this.bytes.copy(grown, 0, 0, this.length);
    this.bytes = grown;
  }

  /** A tag, a number or a length: ASCII, one byte per character, as the hash writes it as UTF-8. */
  ascii(text: string): void {
    this.reserve(text.length);
    for (let i = 0; i < text.length; i++) this.bytes[this.length++] = text.charCodeAt(i);
  }

  /** A string's UTF-16 code units, little-endian, lone surrogates as they are. */
  utf16(text: string): void {
    this.reserve(text.length * 2);
    if (text.length > SHORT_STRING) {
      this.length += this.bytes.write(text, this.length, 'utf16le');
      return;
    }
    for (let i = 0; i < text.length; i++) {
      const unit = text.charCodeAt(i);
      this.bytes[this.length++] = unit & 0xff;
      this.bytes[this.length++] = unit >>> 8;
    }
  }

  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  digest(): string {
    return createHash('sha256').update(this.bytes.subarray(0, this.length)).digest('base64url');
  }
}

/**
 * Writes one value's canonical form: every value as a type tag, then its content, with strings and containers
 * prefixed by their length, so that no two values write the same bytes. Object keys are written sorted, so their
 * order does not matter; a property that is `undefined` is left out, as JSON leaves it out.
 */
function write(out: CanonicalBytes, value: unknown, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'undefined':
      out.ascii('u');
      return;
    case 'boolean':
      out.ascii(value ? 't' : 'f');
      return;
    case 'number':
      // -0 is 0 to every model setting; NaN and the infinities are written as themselves
      out.ascii(`n${Object.is(value, -0) ? 0 : value};`);
      return;
    case 'bigint':
      out.ascii(`i${value};`);
      return;
    case 'string':
      writeString(out, value);
      return;
    case 'object':
      break;
    default:
      throw new Unkeyable(typeof value);
  }
  if (value === null) {
    out.ascii('z');
    return;
  }
  if (value instanceof Date) {
    out.ascii(`d${value.getTime()};`);
    return;
  }
  if (value instanceof URL) {
    out.ascii('l');
    writeString(out, value.href);
    return;
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    writeBytes(out, value);
    return;
  }
  if (ancestors.has(value) || ancestors.size >= MAX_DEPTH) throw new Unkeyable('a cycle');
  ancestors.add(value);
  if (Array.isArray(value)) {
    out.ascii(`a${value.length}[`);
    // an index loop, unlike forEach, also visits the holes of a sparse array
    for (let i = 0; i < value.length; i++) write(out, value[i], ancestors);
    out.ascii(']');
  } else {
    if (!isPlainObject(value)) throw new Unkeyable(value.constructor?.name ?? 'an object');
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object)
      .filter((key) => object[key] !== undefined)
      .sort();
    out.ascii(`o${keys.length}{`);
    for (const key of keys) {
      writeString(out, key);
      write(out, object[key], ancestors);
    }
    out.ascii('}');
  }
  ancestors.delete(value);
}

/** A string as its length and UTF-16 code units: lone surrogates stay distinct, where UTF-8 would merge them. */
function writeString(out: CanonicalBytes, value: string): void {
  out.ascii(`s${value.length}:`);
  out.utf16(value);
}

/**
 * Binary data as the SHA-256 of its bytes, so that an image adds 32 bytes to the canonical form whatever its
 * size, with its kind: a `Uint8Array` (a `Buffer` is one) and a `Float32Array` of the same bytes differ.
 */
function writeBytes(out: CanonicalBytes, value: ArrayBufferView | ArrayBuffer): void {
  const bytes = ArrayBuffer.isView(value)
    ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
    : new Uint8Array(value);
  const kind = value instanceof Uint8Array ? 'Uint8Array' : value.constructor.name;
  out.ascii('x');
  writeString(out, kind);
  out.raw(createHash('sha256').update(bytes).digest());
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
  const out = new CanonicalBytes();
  try {
    write(out, value, new Set());
  } catch {
    return undefined;
  }
  return out.digest();
}
