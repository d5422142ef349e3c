import { Embeddings, type EmbeddingsInterface } from '@langchain/core/embeddings';
import { EmbeddingCacheService, type ComputeEmbeddings } from '../embeddings/embedding-cache.service';
import { RedisCacheInputError } from '../errors';
import { assertArray, assertText, assertUserId } from '../options/input';
import { getOrComputeVariant } from '../embeddings/embedding-variant';

/** What `CachedEmbeddings` is built from. */
export interface CachedEmbeddingsOptions {
  /** The LangChain embeddings that compute what the cache misses, e.g. `new OpenAIEmbeddings()`. */
  embeddings: EmbeddingsInterface;
  /**
   * The cache, whose `namespace` names the model: give each model its own service (namespace), since
   * the cache cannot tell one model's vectors from another's.
   */
  cache: EmbeddingCacheService;
  /** Whose cache: every vector is cached per user, in that user's LRU. */
  userId: string;
}

/**
 * Cache entries are keyed by how the text was embedded: Cohere, Voyage, Nomic, E5 and Gemini, among
 * others, embed a text as a query differently from the same text as a document. Neither prefix starts
 * the other, so no text embedded one way can be served the other way's vector.
 */
const DOCUMENT = 'document\u0000';
const QUERY = 'query\u0000';

/**
 * A LangChain `Embeddings` that serves vectors from the per-user embedding cache and sends only
 * the distinct misses to the wrapped embeddings, for `embedDocuments` and `embedQuery` alike.
 * Concurrent calls that miss the same text share one computation; with Redis down it still embeds.
 * Vectors come back in the cache's precision (float32 by default) whether they were cached or not.
 *
 * A text's query and document vectors are cached apart, since many providers embed the two
 * differently: a text both queried and embedded as a document is computed once each way.
 */
export class CachedEmbeddings extends Embeddings {
  private readonly embeddings: EmbeddingsInterface;
  private readonly cache: EmbeddingCacheService;
  private readonly userId: string;

  constructor(options: CachedEmbeddingsOptions) {
    super({});
    const { embeddings, cache, userId } = (options ?? {}) as Partial<CachedEmbeddingsOptions>;
    if (typeof embeddings?.embedDocuments !== 'function' || typeof embeddings.embedQuery !== 'function') {
      throw new RedisCacheInputError('embeddings', 'must be a LangChain Embeddings (embedDocuments and embedQuery)');
    }
    if (!(cache instanceof EmbeddingCacheService)) {
      throw new RedisCacheInputError('cache', 'must be an EmbeddingCacheService');
    }
    assertUserId(userId);
    this.embeddings = embeddings;
    this.cache = cache;
    this.userId = userId;
  }

  /** One vector per document, in order: cached ones from Redis, the distinct misses from one `embedDocuments` call. */
  override async embedDocuments(documents: string[]): Promise<number[][]> {
    assertArray(documents, 'documents', Infinity);
    for (let i = 0; i < documents.length; i++) assertText(documents[i], `documents[${i}]`);
    const { maxBatchSize } = this.cache.options;
    const batches: Promise<number[][]>[] = [];
    // a vector store may add more documents at once than one cache call takes
    for (let start = 0; start < documents.length; start += maxBatchSize) {
      const batch = documents.slice(start, start + maxBatchSize);
      batches.push(this.embed(DOCUMENT, batch, (missing) => this.embeddings.embedDocuments(missing)));
    }
    return (await Promise.all(batches)).flat();
  }

  /** The query's vector: cached, or from one `embedQuery` call of the wrapped embeddings. */
  override async embedQuery(query: string): Promise<number[]> {
    assertText(query, 'query');
    const [vector] = await this.embed(QUERY, [query], async ([missing]) => [await this.embeddings.embedQuery(missing)]);
    return vector;
  }

  private embed(prefix: string, texts: string[], compute: ComputeEmbeddings): Promise<number[][]> {
    return getOrComputeVariant(this.cache, this.userId, prefix, texts, compute);
  }
}
