import type { ComputeEmbeddings, EmbeddingCacheService } from './embedding-cache.service';

/**
 * `getOrComputeEmbeddings` of `texts` cached under `variant + text`, for the
 * adapters whose vector of one text depends on more than the text (a query or
 * a document, a model and its settings): entries of different variants never
 * answer one another, and `compute` gets the texts themselves.
 */
export function getOrComputeVariant(
  cache: EmbeddingCacheService,
  userId: string,
  variant: string,
  texts: readonly string[],
  compute: ComputeEmbeddings,
): Promise<number[][]> {
  return cache.getOrComputeEmbeddings(
    userId,
    texts.map((text) => variant + text),
    (missing) => compute(missing.map((key) => key.slice(variant.length))),
  );
}
