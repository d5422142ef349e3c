import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CONVERSATION_HEADER,
  NEAR_CACHE_CHANNEL,
  embeddingField,
  embeddingFieldHasher,
  embeddingKeys,
  userTag,
} from './keys';

/** The documented field input, built by hand: each of [namespace, precision, text] as u32be length + UTF-16LE. */
function fieldInput(...parts: string[]): Buffer {
  return Buffer.concat(
    parts.flatMap((part) => {
      const bytes = Buffer.from(part, 'utf16le');
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      return [length, bytes];
    }),
  );
}

describe('userTag', () => {
  it('is the base64url SHA-256 of the id in UTF-16LE', () => {
    const expected = createHash('sha256').update(Buffer.from('user-1', 'utf16le')).digest('base64url');
    expect(userTag('user-1')).toBe(expected);
    expect(userTag('user-1')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it.each([['a}b{c'], ['{x}'], ['user:1'], ['😀'], ['x'.repeat(1024)]])(
    'gives %j a 43-character tag without braces or colons',
    (userId) => {
      expect(userTag(userId)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    },
  );

  it('tells apart ids that differ only in a lone surrogate, which UTF-8 would merge into U+FFFD', () => {
    expect(Buffer.from('\ud800', 'utf8').equals(Buffer.from('\ud801', 'utf8'))).toBe(true);
    expect(userTag('\ud800')).not.toBe(userTag('\ud801'));
  });
});

describe('embeddingKeys', () => {
  it('puts every key of a user under one hash tag made from the user tag', () => {
    const tag = userTag('a}b{c');
    expect(embeddingKeys('a}b{c')).toEqual({
      vectors: `wbot:emb:{${tag}}:vec`,
      lru: `wbot:emb:{${tag}}:lru`,
      deadlines: `wbot:emb:{${tag}}:exp`,
      cleared: `wbot:emb:{${tag}}:clr`,
    });
  });

  it('gives different users different keys', () => {
    const ids = ['user:1', 'user', 'user:', ':1', '{x}', 'x', 'a}b{c', 'abc'];
    const vectorKeys = new Set(ids.map((id) => embeddingKeys(id).vectors));
    expect(vectorKeys.size).toBe(ids.length);
  });
});

describe('embeddingField', () => {
  it('is the base64url SHA-256 of the length-prefixed namespace, precision and text', () => {
    const expected = createHash('sha256')
      .update(fieldInput('model-a', 'float32', 'hello'))
      .digest('base64url');
    expect(embeddingField('model-a', 'float32', 'hello')).toBe(expected);
  });

  it('is the base64url HMAC-SHA-256 of the same input when a secret is given', () => {
    const expected = createHmac('sha256', 's3cret')
      .update(fieldInput('model-a', 'float32', 'hello'))
      .digest('base64url');
    expect(embeddingField('model-a', 'float32', 'hello', 's3cret')).toBe(expected);
  });

  it('changes with the secret, the namespace, the precision and the text', () => {
    const fields = [
      embeddingField('m', 'float32', 'hello'),
      embeddingField('m', 'float32', 'hello', 'one'),
      embeddingField('m', 'float32', 'hello', 'two'),
      embeddingField('n', 'float32', 'hello'),
      embeddingField('m', 'float64', 'hello'),
      embeddingField('m', 'float32', 'hello!'),
    ];
    expect(new Set(fields).size).toBe(fields.length);
  });

  it('does not let a separator move between the namespace and the text', () => {
    expect(embeddingField('a:b', 'float32', 'c')).not.toBe(embeddingField('a', 'float32', 'b:c'));
    expect(embeddingField('a', 'float32', '')).not.toBe(embeddingField('', 'float32', 'a'));
  });

  it('hashes the empty text and tells apart texts that differ only in a lone surrogate', () => {
    expect(embeddingField('m', 'float32', '')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(embeddingField('m', 'float32', '\ud800')).not.toBe(embeddingField('m', 'float32', '\ud801'));
  });
});

describe('embeddingFieldHasher', () => {
  it.each([[undefined], ['s3cret']])('gives each text the documented field (secret %j)', (secret) => {
    const field = embeddingFieldHasher('model-é', 'float64', secret);
    for (const text of ['', 'hello', '😀 emoji', 'lone \ud800 surrogate', 'x'.repeat(20_000)]) {
      const input = fieldInput('model-é', 'float64', text);
      const expected = secret
        ? createHmac('sha256', secret).update(input).digest('base64url')
        : createHash('sha256').update(input).digest('base64url');
      expect(field(text)).toBe(expected);
    }
  });
});

describe('CONVERSATION_HEADER', () => {
  it('is the header the Lua scripts write and check', () => {
    const budget = readFileSync(join(__dirname, 'scripts', 'lib', 'message-budget.lua'), 'utf8');
    expect(CONVERSATION_HEADER).toBe('wbot:conversation:v1');
    expect(budget).toContain(`local HEADER = '${CONVERSATION_HEADER}'`);
  });
});

describe('NEAR_CACHE_CHANNEL', () => {
  it('is the channel the embedding scripts announce changes on', () => {
    const index = readFileSync(join(__dirname, 'scripts', 'lib', 'embedding-index.lua'), 'utf8');
    expect(NEAR_CACHE_CHANNEL).toBe('wbot:emb:near');
    expect(index).toContain(`local NEAR_CHANNEL = '${NEAR_CACHE_CHANNEL}'`);
  });
});
