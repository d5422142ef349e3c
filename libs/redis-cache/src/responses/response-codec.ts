/**
 * How responses are stored and relayed: JSON, with the two kinds of value a model's result holds that JSON
 * cannot, revived as they were: a `Date` (a response's `timestamp`) and a `Uint8Array` (a generated file). Each
 * is written as an object tagged `$wbot`; an object of the response's own that has that key is written tagged
 * too, so that no value reads back as another. `undefined` properties are left out and non-finite numbers become
 * `null`, as JSON does; a `BigInt`, an invalid date or another typed array make a value unencodable.
 */
const TAG = '$wbot';
const TAGGED = `"${TAG}"`;

type Tagged =
  { [TAG]: 'date'; v: string } | { [TAG]: 'bytes'; v: string } | { [TAG]: 'object'; v: [string, unknown][] };

/** A value the codec cannot write. */
class Unencodable extends Error {}

function tag(this: unknown, key: string, value: unknown): unknown {
  // JSON.stringify hands the replacer what toJSON made of a value (a Date's string); the holder has the value
  const original = (this as Record<string, unknown>)[key];
  if (original instanceof Date) {
    if (Number.isNaN(original.getTime())) throw new Unencodable('an invalid date');
    return { [TAG]: 'date', v: original.toISOString() } satisfies Tagged;
  }
  if (ArrayBuffer.isView(original)) {
    if (!(original instanceof Uint8Array)) throw new Unencodable(`a ${original.constructor.name}`);
    const bytes = Buffer.from(original.buffer, original.byteOffset, original.byteLength);
    return { [TAG]: 'bytes', v: bytes.toString('base64') } satisfies Tagged;
  }
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.hasOwn(value, TAG)) {
    // the entries, whose values the replacer then visits as usual
    return { [TAG]: 'object', v: Object.entries(value) } satisfies Tagged;
  }
  return value;
}

function untag(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || !Object.hasOwn(value, TAG)) return value;
  const tagged = value as Tagged;
  switch (tagged[TAG]) {
    case 'date':
      return new Date(tagged.v);
    case 'bytes': {
      const bytes = Buffer.from(tagged.v, 'base64');
      return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    case 'object':
      return Object.fromEntries(tagged.v);
    default:
      return value;
  }
}

/** The value as stored: JSON text on one line, or undefined when it holds something the codec cannot write. */
export function encodeResponse(value: unknown): string | undefined {
  try {
    return JSON.stringify(value, tag);
  } catch (error) {
    // a BigInt makes JSON.stringify throw a TypeError, a cycle too
    if (error instanceof Unencodable || error instanceof TypeError) return undefined;
    throw error;
  }
}

/**
 * Revives the tagged objects of a parsed value, children first, as `JSON.parse(text, untag)` would: in place, and
 * without a reviver, which V8 calls with every value of the text: with one, the decode was most of the time to a
 * replay's first part (the replay row of bench/responses.js).
 */
function revive(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = revive(value[i]);
    return value;
  }
  const object = value as Record<string, unknown>;
  // an own key named __proto__, as JSON.parse makes it, is set as the own property it is, not as the prototype
  for (const key of Object.keys(object)) object[key] = revive(object[key]);
  return Object.hasOwn(object, TAG) ? untag('', object) : object;
}

/** A stored value, with its dates and bytes revived; text without a tag is parsed plainly, which is faster. */
export function decodeResponse(text: string): unknown {
  const parsed: unknown = JSON.parse(text);
  return text.includes(TAGGED) ? revive(parsed) : parsed;
}
