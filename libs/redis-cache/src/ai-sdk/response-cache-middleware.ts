import type { LanguageModelMiddleware } from 'ai';
import { RedisCacheInputError } from '../errors';
import { assertFunction, writeTtlMs } from '../options/input';
import type { ResponseCacheService } from '../responses/response-cache.service';
import type { ResponseKey, ResponseSource } from '../responses/response-call';
import { canonicalDigest } from '../responses/canonical-digest';
import {
  isFailedFinish,
  markAnswered,
  recordedResult,
  type LanguageModelGenerateResult,
  type LanguageModelStreamPart,
} from './language-model-results';

type WrapGenerate = NonNullable<LanguageModelMiddleware['wrapGenerate']>;
type WrapStream = NonNullable<LanguageModelMiddleware['wrapStream']>;
type CallModel = Parameters<WrapGenerate>[0]['model'];

/**
 * The parameters of one language model call as the middleware gets them (`prompt`, the settings, `tools`,
 * `providerOptions`, `headers`, `abortSignal`, ...), typed by the `ai` package installed.
 */
export type LanguageModelCallOptions = Parameters<NonNullable<LanguageModelMiddleware['wrapGenerate']>>[0]['params'];

/** The controls one call may give under `providerOptions.wbotCache`; the middleware takes them out of the call. */
export interface ResponseCacheControls {
  /** Skips the lookup and the coalescing: the call asks the model, and its response is stored (unless `noStore`). */
  noCache?: boolean;
  /** Stores nothing this call's model call answers; it may still be answered from the cache. */
  noStore?: boolean;
  /** The TTL of the response this call stores, in seconds, instead of the cache's `ttlSeconds`. */
  ttlSeconds?: number;
}

/**
 * Whose responses a call reads and fills: one tenant id for every call, or a function of the call's parameters
 * that returns it, e.g. from the app's own key of `providerOptions` (which providers ignore, but which is part of
 * the key). A function that returns anything but a valid tenant id makes the call reject with
 * `RedisCacheInputError` naming `tenant`.
 */
export type ResponseCacheTenant = string | ((params: LanguageModelCallOptions) => string | PromiseLike<string>);

/** What an app's own key function gets: the kind of call, the model, and the call's parameters. */
export interface ResponseKeyInput {
  /** Whether the call is a generate or a stream; the two are cached apart whatever the key. */
  type: 'generate' | 'stream';
  /** The model the call goes to (the one the middleware wraps). */
  model: { readonly provider: string; readonly modelId: string };
  /** The call's parameters, `providerOptions.wbotCache` included. */
  params: LanguageModelCallOptions;
}

/** The options of {@link responseCacheMiddleware}. */
export interface ResponseCacheMiddlewareOptions {
  /** The response cache to read and fill, e.g. the one the Nest module provides. */
  cache: ResponseCacheService;
  /** Whose responses a call reads and fills. */
  tenant: ResponseCacheTenant;
  /**
   * The app's own key of a call, instead of the digest of everything that changes its answer (see
   * {@link responseCallKey}): a string (hashed again before it reaches Redis), or `null` for a call that must
   * bypass the cache.
   */
  key?: (input: ResponseKeyInput) => ResponseKey | PromiseLike<ResponseKey>;
  /** A stream answered from the cache gives one part every this many ms instead of all at once. Default 0. */
  replayDelayMs?: number;
  /** Called once per call, when it is known how the call is answered (say, for an `X-Cache` header). */
  onSource?: (source: ResponseSource, type: 'generate' | 'stream') => void;
}

/** The version of the keys' canonical form: a change to what goes into it moves every key. */
const KEY_VERSION = 'wbot:ai-sdk:v1';
const CONTROL_KEY = 'wbotCache';
const CONTROLS = new Set(['noCache', 'noStore', 'ttlSeconds']);

/** The call's providerOptions without the middleware's own key, or undefined when none is left. */
function providerOptionsOf(params: LanguageModelCallOptions): LanguageModelCallOptions['providerOptions'] {
  if (!params.providerOptions || !(CONTROL_KEY in params.providerOptions)) return params.providerOptions;
  const { [CONTROL_KEY]: _controls, ...others } = params.providerOptions;
  return Object.keys(others).length > 0 ? others : undefined;
}

/**
 * The key of a call (a SHA-256 digest, in base64url) as the middleware makes it: the canonical form of the
 * provider, the model id, and every parameter of the call but the abort signal and the headers, which change how
 * it is sent, not its answer: every prompt message and part (binary parts hashed), the tools and their schemas,
 * `toolChoice`, `responseFormat`, every setting, and `providerOptions` without `wbotCache`. Object key order does
 * not matter. `null` for a call holding a value with no canonical form (a function, a `Map`, a cycle): it bypasses
 * the cache.
 */
export function responseCallKey(model: ResponseKeyInput['model'], params: LanguageModelCallOptions): ResponseKey {
  const { abortSignal: _signal, headers: _headers, providerOptions: _options, ...keyed } = params;
  const providerOptions = providerOptionsOf(params);
  const call = providerOptions === undefined ? keyed : { ...keyed, providerOptions };
  return canonicalDigest([KEY_VERSION, model.provider, model.modelId, call]) ?? null;
}

function controlsOf(params: LanguageModelCallOptions): ResponseCacheControls {
  const controls: unknown = params.providerOptions?.[CONTROL_KEY];
  const argument = `providerOptions.${CONTROL_KEY}`;
  if (controls === undefined) return {};
  if (typeof controls !== 'object' || controls === null || Array.isArray(controls)) {
    throw new RedisCacheInputError(argument, 'must be an object');
  }
  for (const [name, value] of Object.entries(controls)) {
    if (!CONTROLS.has(name))
      throw new RedisCacheInputError(`${argument}.${name}`, 'is not noCache, noStore or ttlSeconds');
    if (name !== 'ttlSeconds' && value !== undefined && typeof value !== 'boolean') {
      throw new RedisCacheInputError(`${argument}.${name}`, 'must be a boolean');
    }
  }
  writeTtlMs(controls, 0, argument);
  return controls as ResponseCacheControls;
}

/**
 * A Vercel AI SDK language model middleware (ai 6 and ai 7) that caches responses per tenant:
 * `wrapLanguageModel({ model, middleware: responseCacheMiddleware({ cache, tenant }) })`, for `generateText`,
 * `streamText`, `generateObject` and the rest, through `wrapGenerate` and `wrapStream`.
 *
 * A call is answered from the cache when an identical one (see {@link responseCallKey}) was answered before and
 * its response is still stored; generate and stream calls are cached apart. Identical calls in flight at once, in
 * any process on the same Redis, make one model call: the others follow it, and a stream's followers get its
 * parts as they come. Only a response that completed is stored: a stream after its `finish` part, never one with
 * an `error` part or one that was aborted, and never a finish for an error. With Redis down, every call goes to
 * the model.
 *
 * A call answered from the cache, or by another call's model call, returns what the model returned (its content,
 * finish reason, warnings and `response` metadata, with `timestamp` as a `Date`), with `usage` of zero tokens: the
 * model call's usage is in `providerMetadata.wbotCache.usage`, beside `hit: true` or `coalesced: true`. A stream
 * from the cache comes at once, or with `replayDelayMs` between parts. A call may give
 * `providerOptions: { wbotCache: { noCache, noStore, ttlSeconds } }`, which the model does not get.
 *
 * @throws RedisCacheInputError naming `options`, `cache`, `tenant`, `key`, `replayDelayMs` or `onSource` when one
 * is not as described.
 */
export function responseCacheMiddleware(options: ResponseCacheMiddlewareOptions): LanguageModelMiddleware {
  if (typeof options !== 'object' || options === null) {
    throw new RedisCacheInputError('options', 'must be an object with cache and tenant');
  }
  const { cache, tenant, key, replayDelayMs = 0, onSource } = options;
  if (typeof cache?.getOrGenerate !== 'function' || typeof cache.getOrStream !== 'function') {
    throw new RedisCacheInputError('cache', 'must be a ResponseCacheService');
  }
  if (typeof tenant !== 'string' && typeof tenant !== 'function') {
    throw new RedisCacheInputError('tenant', 'must be a string or a function');
  }
  if (key !== undefined) assertFunction(key, 'key');
  if (onSource !== undefined) assertFunction(onSource, 'onSource');
  if (typeof replayDelayMs !== 'number' || !Number.isSafeInteger(replayDelayMs) || replayDelayMs < 0) {
    throw new RedisCacheInputError('replayDelayMs', 'must be an integer >= 0');
  }

  async function callOf(type: ResponseKeyInput['type'], model: CallModel, params: LanguageModelCallOptions) {
    const controls = controlsOf(params);
    return {
      tenant: typeof tenant === 'string' ? tenant : await tenant(params),
      key: key ? await key({ type, model, params }) : responseCallKey(model, params),
      options: { ...controls, signal: params.abortSignal },
      // what the model gets: the call without the middleware's controls
      forward: { ...params, providerOptions: providerOptionsOf(params) },
    };
  }

  const wrapGenerate: WrapGenerate = async ({ params, model }) => {
    const call = await callOf('generate', model, params);
    const { source, value } = await cache.getOrGenerate(
      call.tenant,
      call.key,
      (signal) => model.doGenerate({ ...call.forward, abortSignal: signal }),
      { ...call.options, record: (result) => recordedResult(result) },
    );
    onSource?.(source, 'generate');
    if (source !== 'hit' && source !== 'coalesced') return value;
    return markAnswered(value as LanguageModelGenerateResult, source);
  };

  const wrapStream: WrapStream = async ({ params, model }) => {
    const call = await callOf('stream', model, params);
    let started: Awaited<ReturnType<WrapStream>> | undefined;
    const { source, stream } = await cache.getOrStream<LanguageModelStreamPart>(
      call.tenant,
      call.key,
      async (signal) => {
        started = await model.doStream({ ...call.forward, abortSignal: signal });
        return started.stream;
      },
      {
        ...call.options,
        replayDelayMs,
        classify: (part) =>
          part.type === 'error' || isFailedFinish(part) ? 'failure' : part.type === 'finish' ? 'finish' : 'part',
        failurePart: (error) => ({ type: 'error', error }),
      },
    );
    onSource?.(source, 'stream');
    if (source !== 'hit' && source !== 'coalesced') return { ...started!, stream };
    return {
      stream: stream.pipeThrough(
        new TransformStream<LanguageModelStreamPart, LanguageModelStreamPart>({
          transform: (part, controller) =>
            controller.enqueue(part.type === 'finish' ? markAnswered(part, source) : part),
        }),
      ),
    };
  };

  return { specificationVersion: 'v3', wrapGenerate, wrapStream };
}
