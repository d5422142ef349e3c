import { BadRequestException, Inject, Injectable } from '@nestjs/common';
import { EmbeddingCacheService } from '@wbot/redis-cache';
import { MetricsService } from '../metrics/metrics.service';
import { EMBEDDING_PROVIDER, type EmbeddingProvider } from './embedding-provider.interface';

export interface EmbedResult {
  embeddings: number[][];
  cached: boolean[];
}

const stored = (done: boolean) => (done ? 'stored' : 'not_stored');
const cleared = (done: boolean) => (done ? 'cleared' : 'not_cleared');

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

  /** The cached vector, or null on a miss (or with Redis down). */
  lookup(userId: string, text: string): Promise<number[] | null> {
    return this.metrics.trackCache(
      'local',
      'getCachedEmbedding',
      () => this.cache.getCachedEmbedding(userId, text),
      (vector) => (vector ? 'hit' : 'miss'),
    );
  }

  /** A vector for every text: cached ones from Redis, the others from the provider in one call. */
  async embed(userId: string, texts: string[]): Promise<EmbedResult> {
    const computed = new Set<string>();
    const compute = (missing: string[]) => {
      for (const text of missing) computed.add(text);
      return this.provider.embed(missing);
    };
    const embeddings = await this.metrics.trackCache(
      'local',
      'getOrComputeEmbeddings',
      () => this.cache.getOrComputeEmbeddings(userId, texts, compute),
      () => (computed.size === 0 ? 'hit' : 'miss'),
    );
    return { embeddings, cached: texts.map((text) => !computed.has(text)) };
  }

  clear(userId: string): Promise<boolean> {
    return this.metrics.trackCache('local', 'clearUser', () => this.cache.clearUser(userId), cleared);
  }
}
