/** Injection token of the validated, complete module options (`ResolvedRedisCacheOptions`). */
export const REDIS_CACHE_OPTIONS = Symbol('REDIS_CACHE_OPTIONS');
