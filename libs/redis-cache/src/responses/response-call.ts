// The public types of a response call, which every entry exports as they are (`export type *`): nothing else.

/**
 * How a call was answered: from a stored response (`hit`), by its own model call (`miss`), by the model call of
 * another call of the same key in flight (`coalesced`), or by the model without the cache, since no key could be
 * made for it (`bypass`).
 */
export type ResponseSource = 'hit' | 'miss' | 'coalesced' | 'bypass';

/**
 * What identifies a call's response: a string (a digest of everything that changes the answer, or the app's own
 * key), which the cache hashes again before it reaches Redis; or `null` for a call that has no exact key, which
 * bypasses the cache and counts in `stats().bypasses`.
 */
export type ResponseKey = string | null;

/** The options of one `getOrGenerate` or `getOrStream` call. */
export interface ResponseCallOptions {
  /** Skips the lookup and the coalescing: the call asks the model, and stores the response (unless `noStore`). */
  noCache?: boolean;
  /**
   * Stores nothing: the call may be answered from the cache or by another call in flight, but when it asks the
   * model, nothing it answers is stored, and no other call follows it.
   */
  noStore?: boolean;
  /** The TTL of the response this call stores, in seconds, instead of the cache's `ttlSeconds`: 1 to 3153600000. */
  ttlSeconds?: number;
  /**
   * The caller's abort signal. It ends the caller's wait, rejecting (or erroring its stream) with the signal's
   * reason; the model call it started goes on while other calls wait for it, and is aborted when none does.
   */
  signal?: AbortSignal;
}

/** The options of one `getOrGenerate` call. */
export interface GenerateCallOptions<T> extends ResponseCallOptions {
  /**
   * What of a result is recorded: stored, and handed to the calls that followed this one, which get it instead of
   * the result itself. `undefined` records nothing, for a result that reports a failure: its followers then ask
   * the model themselves. Default: the whole result.
   */
  record?: (value: T) => unknown;
}

/** What a part of a stream says about the response: `finish` completes it, `failure` means the call failed. */
export type ResponsePartKind = 'part' | 'finish' | 'failure';

/** How the cache reads a stream's parts; it knows nothing of them besides. */
export interface ResponseStreamPolicy<P> {
  /** A stream is stored only if it ends after a `finish` part and has had no `failure` part. */
  classify(part: P): ResponsePartKind;
  /** The last part of a follower whose leader failed after parts had reached it (`RedisCacheFollowError`). */
  failurePart(error: Error): P;
}

/** The options of one `getOrStream` call. */
export interface StreamCallOptions<P> extends ResponseCallOptions, ResponseStreamPolicy<P> {
  /** A hit's parts come one every this many ms instead of all at once. Default 0. */
  replayDelayMs?: number;
}

/** A `getOrGenerate` call's result, and how it was answered. */
export interface GeneratedResponse<T> {
  /** How the call was answered. */
  source: ResponseSource;
  /** The result: `generate`'s own on a miss or a bypass, else what was recorded of another's. */
  value: T;
}

/** A `getOrStream` call's stream, and how it is answered. */
export interface StreamedResponse<P> {
  /** How the call is answered. */
  source: ResponseSource;
  /** Its parts: the model's own on a miss or a bypass, else copies of the stored or followed ones. */
  stream: ReadableStream<P>;
}

/** Asks the model for a result; `signal` aborts it. */
export type GenerateResponse<T> = (signal: AbortSignal) => PromiseLike<T>;

/** Asks the model for a stream of parts; `signal` aborts it. */
export type StreamResponse<P> = (signal: AbortSignal) => PromiseLike<ReadableStream<P>>;
