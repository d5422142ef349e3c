import type { EmbeddingModelMiddleware } from 'ai';
import type { EmbeddingCacheService } from '../embeddings/embedding-cache.service';
import { RedisCacheInputError } from '../errors';
import { assertUserId } from '../options/input';
import { callVariant } from './call-variant';
import { getOrComputeVariant } from '../embeddings/embedding-variant';

type EmbedResult = Awaited<ReturnType<NonNullable<EmbeddingModelMiddleware['wrapEmbed']>>>;

/**
 * The parameters of one `doEmbed` call as the middleware gets them: `values`,
 * `providerOptions`, `headers`, `abortSignal` (and `dimensions` on ai 7), typed
 * by the `ai` package installed.
 */
export type EmbeddingCallOptions = Parameters<NonNullable<EmbeddingModelMiddleware['wrapEmbed']>>[0]['params'];

/**
 * Whose cache a call reads and fills: one user id for every call, or a function
 * of the call's parameters that returns it, e.g. from the app's own key of
 * `providerOptions` (`embed({ ..., providerOptions: { app: { userId } } })`,
 * which providers ignore). A function that returns anything but a valid user id
 * makes the call reject with `RedisCacheInputError` naming `userId`.
 */
export type EmbeddingCacheUserId = string | ((params: EmbeddingCallOptions) => string | PromiseLike<string>);

/** The options of {@link embeddingCacheMiddleware}. */
export interface EmbeddingCacheMiddlewareOptions {
  /** The embedding cache to read and fill, e.g. the one the Nest module provides. */
  cache: EmbeddingCacheService;
  /** Whose cache a call reads and fills. */
  userId: EmbeddingCacheUserId;
}

/**
 * A Vercel AI SDK embedding model middleware (ai 6 and ai 7) that caches vectors
 * per user: `wrapEmbeddingModel({ model, middleware: embeddingCacheMiddleware({ cache, userId }) })`.
 *
 * A call (one `doEmbed`: `embed` makes one, `embedMany` one per batch) gets its
 * cached vectors from Redis and sends only its distinct misses to the wrapped
 * model, in one model call (`getOrComputeEmbeddings`: concurrent calls in this
 * process that miss the same value share that model call). The vectors
 * come back in input order, as the cache stores them (float32 by default) whether
 * they hit or missed. With Redis down, every value goes to the model. A model
 * failure rejects the call with the model's error, and nothing is cached.
 *
 * A cached vector only answers a call to the same provider and model, with the
 * same `dimensions` and `providerOptions`, since those change the vectors; the
 * entries are in the user's LRU with the cache's other ones (`clearUser` clears
 * them), but a direct `getCachedEmbedding(userId, text)` does not read them. A
 * call whose `providerOptions` JSON cannot write (a BigInt, a cycle) goes to
 * the model as it is, neither read from the cache nor cached.
 *
 * What the call returns besides the vectors describes the model call it made:
 * `usage.tokens` counts the misses it sent (0 when every value hit, or when it
 * waited for another call's model call, which reports those tokens), `warnings`
 * are the model's, and `response` and `providerMetadata` are those of its
 * model call, or absent when it made none.
 *
 * `embedMany` splits its values into batches of at most the cache's
 * `maxBatchSize` (or the model's `maxEmbeddingsPerCall`, if lower). A call
 * carries `providerOptions` and its abort signal unchanged to the model call of
 * its misses, so options that list one entry per value (Google's multimodal
 * `content`) do not fit a call where some values hit; and a call that waits for
 * another's model call fails if that one is aborted.
 *
 * @throws RedisCacheInputError naming `options`, `cache` or `userId` when one is not as described.
 */
export function embeddingCacheMiddleware(options: EmbeddingCacheMiddlewareOptions): EmbeddingModelMiddleware {
  if (typeof options !== 'object' || options === null) {
    throw new RedisCacheInputError('options', 'must be an object with cache and userId');
  }
  const { cache, userId } = options;
  if (typeof cache?.getOrComputeEmbeddings !== 'function' || typeof cache.options?.maxBatchSize !== 'number') {
    throw new RedisCacheInputError('cache', 'must be an EmbeddingCacheService');
  }
  if (typeof userId === 'string') assertUserId(userId);
  else if (typeof userId !== 'function') throw new RedisCacheInputError('userId', 'must be a string or a function');
  const { maxBatchSize } = cache.options;

  return {
    specificationVersion: 'v3',
    // so that embedMany splits its values into batches the cache accepts in one call
    overrideMaxEmbeddingsPerCall: async ({ model }) =>
      Math.min((await model.maxEmbeddingsPerCall) ?? Infinity, maxBatchSize),
    async wrapEmbed({ params, model, doEmbed }) {
      const user = typeof userId === 'string' ? userId : await userId(params);
      const variant = callVariant({ model, params });
      if (variant === undefined) return doEmbed();
      const modelCalls: EmbedResult[] = [];
      const embeddings = await getOrComputeVariant(cache, user, variant, params.values, async (values) => {
        const result = await model.doEmbed({ ...params, values });
        modelCalls.push(result);
        return result.embeddings;
      });
      // a model that reports no usage makes it NaN, as the AI SDK itself does
      const tokens = modelCalls.reduce((sum, call) => sum + (call.usage?.tokens ?? NaN), 0);
      return {
        embeddings,
        usage: { tokens },
        warnings: modelCalls.flatMap((call) => call.warnings ?? []),
        providerMetadata: modelCalls[0]?.providerMetadata,
        response: modelCalls[0]?.response,
      };
    },
  };
}
