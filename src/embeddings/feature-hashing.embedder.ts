import { setTimeout as sleep } from 'node:timers/promises';
import type { EmbeddingProvider } from './embedding-provider.interface';

const WORD = /[\p{L}\p{N}]+/gu;
const TRIGRAM_WEIGHT = 0.5;

/** FNV-1a over UTF-16 code units, then murmur3's finalizer so that every output bit depends on every input bit. */
function hash32(text: string, seed: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A deterministic embedder that needs no model and no network: the hashing trick
 * (Weinberger et al., 2009). Each word and each character trigram of a word is
 * hashed to a dimension and a sign, the signed counts are summed, and the vector
 * is scaled to unit length. Texts sharing words or word fragments get a positive
 * cosine similarity; the same text always gets the same vector. A text without
 * letters or digits gets the zero vector.
 */
export class FeatureHashingEmbedder implements EmbeddingProvider {
  constructor(
    readonly dimensions: number,
    /** Waited once per call, to stand in for a remote model's round trip. */
    private readonly latencyMs = 0,
  ) {}

  async embed(texts: string[]): Promise<number[][]> {
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    return texts.map((text) => this.vector(text));
  }

  private vector(text: string): number[] {
    const vector = new Array<number>(this.dimensions).fill(0);
    for (const word of text.normalize('NFKC').toLowerCase().match(WORD) ?? []) {
      this.add(vector, `w:${word}`, 1);
      const padded = `#${word}#`;
      for (let i = 0; i + 3 <= padded.length; i++) this.add(vector, `t:${padded.slice(i, i + 3)}`, TRIGRAM_WEIGHT);
    }
    let squares = 0;
    for (const value of vector) squares += value * value;
    const norm = Math.sqrt(squares);
    return norm === 0 ? vector : vector.map((value) => value / norm);
  }

  private add(vector: number[], feature: string, weight: number): void {
    const index = hash32(feature, 0) % this.dimensions;
    const sign = hash32(feature, 0x9e3779b9) & 1 ? 1 : -1;
    vector[index] += sign * weight;
  }
}
