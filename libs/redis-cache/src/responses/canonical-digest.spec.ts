import { canonicalDigest } from './canonical-digest';

describe('canonicalDigest', () => {
  it('is a base64url SHA-256, equal for values that differ only in the order of object keys, at every depth', () => {
    const one = canonicalDigest({ a: 1, b: { c: [1, { d: 'x', e: null }], f: true } });
    const other = canonicalDigest({ b: { f: true, c: [1, { e: null, d: 'x' }] }, a: 1 });
    expect(one).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(other).toBe(one);
  });

  it('gives the digests the first release gave, byte for byte: a key made before an upgrade still finds its entry', () => {
    // computed by the implementation at 04c4360, which wrote the form one hash update per token, not by this one
    const call = [
      'wbot:ai-sdk:v1',
      'openai',
      'gpt-x',
      {
        prompt: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'héllo 👋 "q"\n' },
              { type: 'file', data: new Uint8Array([1, 2, 3]), mediaType: 'image/png' },
            ],
          },
        ],
        temperature: 0.7,
        maxOutputTokens: 200,
        seed: -0,
        stop: [undefined, null, true, false],
        big: 12345678901234567890n,
        at: new Date(1767323045678),
        url: new URL('https://example.com/a?b=c'),
        floats: new Float32Array([1.5, -2]),
        odd: '\ud800\udc00\udc00',
        inf: [Infinity, -Infinity, NaN, 1e-7, 1e21],
        // eslint-disable-next-line no-sparse-arrays
        sparse: [1, , 3],
        empty: {},
        nested: { z: { y: { x: [] } } },
      },
    ];
    expect(canonicalDigest(call)).toBe('6idlgx2Bt-FcCxb3QFflk2Fkier9scsrkQJ3Y6GJJjc');
    expect(canonicalDigest('x'.repeat(5000) + '\ud800')).toBe('O06fFdv00i90AXBbdSFD4y09EIAB5ZrPzKD9mhrYJEg');
  });

  it('tells apart every pair of values that JSON, or a careless encoding, would merge', () => {
    const values: unknown[] = [
      1,
      '1',
      true,
      'true',
      null,
      'null',
      undefined,
      [],
      {},
      [null],
      [undefined],
      [[]],
      ['a', 'b'],
      ['ab'],
      ['a,b'],
      { a: 'b' },
      { ab: '' },
      [{ a: 1 }],
      { a: [1] },
      NaN,
      Infinity,
      -Infinity,
      1n,
      new Date(1),
      new Date(2),
      new URL('https://example.com/a'),
      'https://example.com/a',
      new Uint8Array([1, 2]),
      new Uint8Array([1, 3]),
      new Float32Array([1]),
      new Uint8Array(new Float32Array([1]).buffer),
      '\ud800',
      '\udc00',
      '\ufffd',
    ];
    const digests = values.map((value) => canonicalDigest(value));
    expect(digests.every((digest) => typeof digest === 'string')).toBe(true);
    expect(new Set(digests).size).toBe(values.length);
  });

  it('takes a property that is undefined as absent, -0 as 0, and a Buffer as the Uint8Array of its bytes', () => {
    expect(canonicalDigest({ a: 1, b: undefined })).toBe(canonicalDigest({ a: 1 }));
    expect(canonicalDigest(-0)).toBe(canonicalDigest(0));
    expect(canonicalDigest(Buffer.from([1, 2, 3]))).toBe(canonicalDigest(new Uint8Array([1, 2, 3])));
    expect(canonicalDigest(10n ** 30n)).toBe(canonicalDigest(BigInt('1' + '0'.repeat(30))));
  });

  it('writes binary data as its hash: an image of a megabyte costs the form 32 bytes, and one byte changes it', () => {
    const image = new Uint8Array(1024 * 1024).fill(7);
    const changed = image.slice();
    changed[1000] = 8;
    expect(canonicalDigest({ image })).toBe(canonicalDigest({ image: image.slice() }));
    expect(canonicalDigest({ image: changed })).not.toBe(canonicalDigest({ image }));
  });

  it('has no digest, and throws nothing, for a function, a symbol, a Map, an instance of another class, a cycle, or a getter that throws', () => {
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    class Settings {
      temperature = 1;
    }
    const throwing = Object.defineProperty({}, 'x', {
      enumerable: true,
      get() {
        throw new Error('no');
      },
    });
    for (const value of [
      () => 1,
      Symbol('s'),
      new Map(),
      new Settings(),
      cycle,
      throwing,
      { deep: [{ fn: () => 1 }] },
    ]) {
      expect(canonicalDigest(value)).toBeUndefined();
    }
  });

  it('takes the same object twice in one value, which is no cycle', () => {
    const shared = { a: 1 };
    expect(canonicalDigest([shared, shared])).toBe(canonicalDigest([{ a: 1 }, { a: 1 }]));
  });

  it('gives the same digest when a getter of the value makes a digest of its own meanwhile', () => {
    const inner: string[] = [];
    const value = {
      a: 'first',
      get b() {
        inner.push(canonicalDigest({ other: 'x'.repeat(100) })!);
        return 'second';
      },
      c: ['third'],
    };
    expect(canonicalDigest(value)).toBe(canonicalDigest({ a: 'first', b: 'second', c: ['third'] }));
    // read twice: to leave out an undefined value, then to write it
    const other = canonicalDigest({ other: 'x'.repeat(100) });
    expect(inner).toEqual([other, other]);
  });

  it('gives the digests of small calls the same after a call of megabytes', () => {
    const before = canonicalDigest({ prompt: 'short' });
    expect(canonicalDigest({ prompt: 'y'.repeat(1 << 20) })).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(canonicalDigest({ prompt: 'short' })).toBe(before);
    // the first release's digest (04c4360)
    expect(canonicalDigest({ prompt: 'short' })).toBe('WGcr1M1V9V2OlWdbhUxmYModlUxYq6RVoHe3WfyoYb4');
  });
});
