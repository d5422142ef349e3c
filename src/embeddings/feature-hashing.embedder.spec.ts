import { FeatureHashingEmbedder } from './feature-hashing.embedder';

function cosine(a: number[], b: number[]): number {
  return a.reduce((sum, value, i) => sum + value * b[i], 0);
}

describe('FeatureHashingEmbedder', () => {
  const embedder = new FeatureHashingEmbedder(384);

  it('gives the same unit-length vector of the configured dimensions for the same text, in every call', async () => {
    const [first] = await embedder.embed(['The quick brown fox']);
    const [again] = await new FeatureHashingEmbedder(384).embed(['The quick brown fox']);
    expect(first).toHaveLength(384);
    expect(again).toEqual(first);
    expect(cosine(first, first)).toBeCloseTo(1, 12);
  });

  it('ignores case and punctuation, and Unicode compatibility forms', async () => {
    const [a, b, c] = await embedder.embed(['Hello, World!', 'hello world', 'ｈｅｌｌｏ ｗｏｒｌｄ']);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
  });

  it('places texts that share words closer than texts that share none', async () => {
    const [cats, kittens, stocks] = await embedder.embed([
      'cats sleep on the warm sofa',
      'the cats sleep all day',
      'quarterly revenue exceeded forecasts',
    ]);
    expect(cosine(cats, kittens)).toBeGreaterThan(0.3);
    expect(Math.abs(cosine(cats, stocks))).toBeLessThan(0.2);
  });

  it('gives the zero vector for a text without letters or digits', async () => {
    const [empty, symbols] = await embedder.embed(['', '?! ...']);
    expect(empty).toEqual(Array(384).fill(0));
    expect(symbols).toEqual(Array(384).fill(0));
  });

  it('returns one vector per text, in order, for any dimension count', async () => {
    const small = new FeatureHashingEmbedder(3);
    const vectors = await small.embed(['a', 'b', 'a']);
    expect(vectors.map((vector) => vector.length)).toEqual([3, 3, 3]);
    expect(vectors[2]).toEqual(vectors[0]);
  });
});
