import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { EmbeddingCacheService } from '@wbot/redis-cache';
import { MetricsService } from '../metrics/metrics.service';
import type { EncodingFormat } from './dto/encoding-format';
import { EMBEDDING_PROVIDER, type EmbeddingProvider } from './embedding-provider.interface';
import { float32ToBase64 } from './vector-encoding';

/** A vector as an answer gives it: float32 values as numbers, or (base64) their bytes. */
export type EncodedVector = number[] | string;

export interface EmbedResult {
  embeddings: EncodedVector[];
  cached: boolean[];
}

const stored = (done: boolean) => (done ? 'stored' : 'not_stored');
const cleared = (done: boolean) => (done ? 'cleared' : 'not_cleared');
const hit = (vector: unknown) => (vector ? 'hit' : 'miss');

/** Per-user embeddings through the cache, with the EmbeddingProvider behind it. */
@Injectable()
export class EmbeddingsService {
  constructor(
    private readonly cache: EmbeddingCacheService,
    private readonly metrics: MetricsService,
    @Inject(EMBEDDING_PROVIDER) private readonly provider: EmbeddingProvider,
  ) {}

  /** Caches a caller's vector; false when Redis could not take it (the cache is best effort). */
  store(userId: string, text: string, embedding: number[]): Promise<boolean> {
    if (embedding.length !== this.provider.dimensions) {
      // validation checks the element types; only the configured length is known here
      throw new BadRequestException([
        `embedding must have exactly ${this.provider.dimensions} dimensions (got ${embedding.length})`,
      ]);
    }
    return this.metrics.trackCache(
      'local',
      'cacheEmbedding',
      () => this.cache.cacheEmbedding(userId, text, embedding),
      stored,
    );
  }

  /** The cached vector in `format`, or null on a miss (or with Redis down). */
  lookup(userId: string, text: string, format: EncodingFormat = 'float'): Promise<EncodedVector | null> {
    if (format !== 'base64') {
      return this.metrics.trackCache(
        'local',
        'getCachedEmbedding',
        () => this.cache.getCachedEmbedding(userId, text),
        hit,
      );
    }
    return this.metrics
      .trackCache(
        'local',
        'getCachedEmbedding',
        () => this.cache.getCachedEmbedding(userId, text, { asFloat32Array: true }),
        hit,
      )
      .then((vector) => vector && float32ToBase64(vector));
  }

  /** A vector for every text, in `format`: cached ones from Redis, the others from the provider in one call. */
  async embed(userId: string, texts: string[], format: EncodingFormat = 'float'): Promise<EmbedResult> {
    const computed = new Set<string>();
    const compute = (missing: string[]) => {
      for (const text of missing) computed.add(text);
      return this.provider.embed(missing);
    };
    const outcome = () => (computed.size === 0 ? 'hit' : 'miss');
    const embeddings =
      format !== 'base64'
        ? await this.metrics.trackCache(
            'local',
            'getOrComputeEmbeddings',
            () => this.cache.getOrComputeEmbeddings(userId, texts, compute),
            outcome,
          )
        : (
            await this.metrics.trackCache(
              'local',
              'getOrComputeEmbeddings',
              () => this.cache.getOrComputeEmbeddings(userId, texts, compute, { asFloat32Array: true }),
              outcome,
            )
          ).map(float32ToBase64);
    return { embeddings, cached: texts.map((text) => !computed.has(text)) };
  }

  clear(userId: string): Promise<boolean> {
    return this.metrics.trackCache('local', 'clearUser', () => this.cache.clearUser(userId), cleared);
  }
}
