/**
 * Thrown (as a rejection) when a caller passes a bad argument. This is a programmer
 * error, so unlike Redis failures it is never swallowed.
 */
export class RedisCacheInputError extends TypeError {
  /** `'RedisCacheInputError'`. */
  override readonly name = 'RedisCacheInputError';

  constructor(
    /** The argument at fault, e.g. `userId` or `embedding[3]`. */
    readonly argument: string,
    problem: string,
  ) {
    super(`${argument} ${problem}`);
  }
}

/** Thrown at module creation when an option is invalid; the app does not start. */
export class RedisCacheConfigError extends Error {
  /** `'RedisCacheConfigError'`. */
  override readonly name = 'RedisCacheConfigError';

  constructor(
    /** The option at fault, e.g. `embeddings.maxEntriesPerUser`. */
    readonly option: string,
    /** What is wrong with it, e.g. `must be an integer of at least 1`. */
    readonly problem: string,
  ) {
    super(`Invalid @wbot/redis-cache option ${option}: ${problem}`);
  }
}

/**
 * What a follower's stream ends with, as its last part, when the call it followed failed (the model failed, or
 * the leader's process stopped) after parts of the response had reached it: it cannot ask the model for the
 * rest, since a new answer would not continue the one it has had. Nothing of that response is stored.
 */
export class RedisCacheFollowError extends Error {
  /** `'RedisCacheFollowError'`. */
  override readonly name = 'RedisCacheFollowError';
}
