import * as crypto from 'node:crypto';

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
/** A buffer that grew past this for a large call is not kept for the next digest. */
const KEPT_BYTES = 64 * 1024;

/**
 * SHA-256 in base64url, through Node's one-shot `crypto.hash` where it exists (Node >= 20.12), which costs a
 * digest of a call's key a fraction of what `createHash` does; the two give the same digest.
 */
const sha256Base64url: (data: Uint8Array) => string =
  typeof crypto.hash === 'function'
    ? (data) => crypto.hash('sha256', data, 'base64url')
    : (data) => crypto.createHash('sha256').update(data).digest('base64url');
const sha256: (data: Uint8Array) => Buffer =
  typeof crypto.hash === 'function'
    ? (data) => crypto.hash('sha256', data, 'buffer')
    : (data) => crypto.createHash('sha256').update(data).digest();

/**
 * The canonical form's bytes, gathered in a buffer that grows, then hashed at once: one hash update per digest,
 * where one per token of the form (a type tag, a length, a key) cost more than the rest of a call's key. Tags,
 * numbers' text and lengths are ASCII, one byte per character, as a hash of their text writes them as UTF-8.
 */
class CanonicalBytes {
  private bytes = Buffer.allocUnsafe(2048);
  length = 0;

  private reserve(count: number): void {
    if (this.length + count <= this.bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.length + count));
    this.bytes.copy(grown, 0, 0, this.length);
    this.bytes = grown;
  }

  /** One ASCII character, by its code. */
  char(code: number): void {
    this.reserve(1);
    this.bytes[this.length++] = code;
  }

  /** A tag, a number or a length: ASCII text. */
  ascii(text: string): void {
    this.reserve(text.length);
    for (let i = 0; i < text.length; i++) this.bytes[this.length++] = text.charCodeAt(i);
  }

  /** `tag`, the decimal digits of `count` (a whole number >= 0, a length), then `end`: no string made for them. */
  counted(tag: number, count: number, end: number): void {
    this.reserve(18);
    this.bytes[this.length++] = tag;
    let digits = 1;
    for (let rest = count; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    let at = this.length + digits;
    this.length = at;
    do {
      this.bytes[--at] = 48 + (count % 10);
      count = Math.floor(count / 10);
    } while (count > 0);
    this.bytes[this.length++] = end;
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
    return sha256Base64url(this.bytes.subarray(0, this.length));
  }

  /** Whether its buffer grew past what is worth keeping between digests. */
  get large(): boolean {
    return this.bytes.length > KEPT_BYTES;
  }
}

/** The codes of the form's ASCII tags. */
const CODE = {
  u: 0x75,
  t: 0x74,
  f: 0x66,
  z: 0x7a,
  s: 0x73,
  a: 0x61,
  o: 0x6f,
  colon: 0x3a,
  openArray: 0x5b,
  closeArray: 0x5d,
  openObject: 0x7b,
  closeObject: 0x7d,
} as const;

/**
 * Writes one value's canonical form: every value as a type tag, then its content, with strings and containers
 * prefixed by their length, so that no two values write the same bytes. Object keys are written sorted, so their
 * order does not matter; a property that is `undefined` is left out, as JSON leaves it out.
 */
function write(out: CanonicalBytes, value: unknown, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'undefined':
      out.char(CODE.u);
      return;
    case 'boolean':
      out.char(value ? CODE.t : CODE.f);
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
    out.char(CODE.z);
    return;
  }
  // the containers a call is made of first, the rarer kinds of value after them
  if (Array.isArray(value)) {
    enter(value, ancestors);
    out.counted(CODE.a, value.length, CODE.openArray);
    // an index loop, unlike forEach, also visits the holes of a sparse array
    for (let i = 0; i < value.length; i++) write(out, value[i], ancestors);
    out.char(CODE.closeArray);
    ancestors.delete(value);
    return;
  }
  if (isPlainObject(value)) {
    enter(value, ancestors);
    const object = value as Record<string, unknown>;
    const keys = definedKeys(object);
    out.counted(CODE.o, keys.length, CODE.openObject);
    for (let i = 0; i < keys.length; i++) {
      writeString(out, keys[i]!);
      write(out, object[keys[i]!], ancestors);
    }
    out.char(CODE.closeObject);
    ancestors.delete(value);
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
  throw new Unkeyable(value.constructor?.name ?? 'an object');
}

/** Marks a container as being written, unless it is already (a cycle) or the form is too deep. */
function enter(value: object, ancestors: Set<object>): void {
  if (ancestors.has(value) || ancestors.size >= MAX_DEPTH) throw new Unkeyable('a cycle');
  ancestors.add(value);
}

/** A string as its length and UTF-16 code units: lone surrogates stay distinct, where UTF-8 would merge them. */
function writeString(out: CanonicalBytes, value: string): void {
  out.counted(CODE.s, value.length, CODE.colon);
  out.utf16(value);
}

/**
 * An object's own enumerable keys whose value is not `undefined`, sorted by UTF-16 code units (as `sort()` sorts
 * strings): by insertion, which for the dozen keys of a call's settings costs less than `filter` then `sort`.
 */
function definedKeys(object: Record<string, unknown>): string[] {
  const keys = Object.keys(object);
  let kept = 0;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (object[key] === undefined) continue;
    let at = kept++;
    while (at > 0 && keys[at - 1]! > key) {
      keys[at] = keys[at - 1]!;
      at--;
    }
    keys[at] = key;
  }
  keys.length = kept;
  return keys;
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
  out.raw(sha256(bytes));
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
  // one buffer for every digest; a digest made meanwhile (by a getter of the value) writes into one of its own
  const out = idle ?? new CanonicalBytes();
  idle = undefined;
  out.length = 0;
  try {
    write(out, value, new Set());
    return out.digest();
  } catch {
    return undefined;
  } finally {
    idle = out.large ? new CanonicalBytes() : out;
  }
}

/** The buffer the next digest writes into, while no digest is being made. */
let idle: CanonicalBytes | undefined = new CanonicalBytes();
