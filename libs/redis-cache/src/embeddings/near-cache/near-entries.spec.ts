import { embeddingKeys } from '../../keys';
import { NEAR_CACHE_ENTRY_OVERHEAD_BYTES } from '../../options/defaults';
import { NearEntries, entryBytes, type NearFill } from './near-entries';

const U = embeddingKeys('u');
const V = embeddingKeys('v');

function fill(text: string, dimensions = 4): NearFill {
  return {
    text,
    field: `field of ${text}`,
    vector: Array.from({ length: dimensions }, (_, i) => i),
    expiresAt: 1000,
    ttlMs: 1000,
    touchedAt: 0,
  };
}

/** The texts of `userId` that `entries` holds, by looking each of `texts` up (which makes it the most recent). */
const held = (entries: NearEntries, userId: string, texts: string[]) =>
  texts.filter((text) => entries.use(userId, text) !== undefined);

describe('entryBytes', () => {
  it('counts 8 bytes per dimension, 2 per UTF-16 code unit of the text, and the overhead of an entry', () => {
    expect(NEAR_CACHE_ENTRY_OVERHEAD_BYTES).toBe(400);
    expect(entryBytes('', 1536)).toBe(1536 * 8 + 400);
    expect(entryBytes('héllo 👋', 4)).toBe(4 * 8 + 'héllo 👋'.length * 2 + 400);
  });
});

describe('NearEntries', () => {
  const bytes = entryBytes('a', 4);

  it('never counts more than maxBytes: it evicts the least recently used entries, of any user', () => {
    const entries = new NearEntries(3 * bytes);
    for (const text of ['a', 'b', 'c']) expect(entries.add('u', U, fill(text))).toBe(true);
    expect(entries.use('u', 'a')).toBeDefined();
    expect(entries.add('v', V, fill('d'))).toBe(true);
    expect({ entries: entries.entries, bytes: entries.bytes }).toEqual({ entries: 3, bytes: 3 * bytes });
    expect(held(entries, 'u', ['a', 'b', 'c'])).toEqual(['a', 'c']);
    expect(held(entries, 'v', ['d'])).toEqual(['d']);
  });

  it('evicts as many entries as a larger one needs, and keeps none larger than maxBytes', () => {
    const entries = new NearEntries(3 * bytes);
    for (const text of ['a', 'b', 'c']) entries.add('u', U, fill(text));
    // a text of 218 characters makes an entry of twice the others' bytes
    const large = 'e'.repeat(218);
    expect(entryBytes(large, 4)).toBe(2 * bytes);
    expect(entries.add('u', U, fill(large))).toBe(true);
    expect(held(entries, 'u', ['a', 'b', 'c', large])).toEqual(['c', large]);
    expect(entries.bytes).toBe(3 * bytes);
    expect(entries.add('u', U, fill('f'.repeat(500)))).toBe(false);
    expect(entries.bytes).toBe(3 * bytes);
  });

  it('replaces the entry of a text rather than counting it twice', () => {
    const entries = new NearEntries(10 * bytes);
    entries.add('u', U, fill('a'));
    entries.add('u', U, { ...fill('a'), vector: [9, 9, 9, 9] });
    expect({ entries: entries.entries, bytes: entries.bytes }).toEqual({ entries: 1, bytes });
    expect(entries.use('u', 'a')!.vector).toEqual([9, 9, 9, 9]);
  });

  it("forgets a user's fields, or all of its entries, by its vec key, and no other user's", () => {
    const entries = new NearEntries(10 * bytes);
    for (const text of ['a', 'b', 'c']) entries.add('u', U, fill(text));
    entries.add('v', V, fill('a'));
    entries.forget(U.vectors, ['field of b', 'field of x']);
    expect(held(entries, 'u', ['a', 'b', 'c'])).toEqual(['a', 'c']);
    entries.forget(U.vectors);
    expect(held(entries, 'u', ['a', 'c'])).toEqual([]);
    expect(held(entries, 'v', ['a'])).toEqual(['a']);
    expect({ entries: entries.entries, bytes: entries.bytes }).toEqual({ entries: 1, bytes });
  });

  it('tells whether an entry is still the one held for its text', () => {
    const entries = new NearEntries(10 * bytes);
    entries.add('u', U, fill('a'));
    const first = entries.use('u', 'a')!;
    expect(entries.holds(first)).toBe(true);
    entries.add('u', U, fill('a'));
    expect(entries.holds(first)).toBe(false);
    entries.clear();
    expect({ entries: entries.entries, bytes: entries.bytes }).toEqual({ entries: 0, bytes: 0 });
    expect(entries.use('u', 'a')).toBeUndefined();
  });
});
