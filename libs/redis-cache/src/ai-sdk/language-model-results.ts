import type { LanguageModelMiddleware } from 'ai';

type WrapGenerate = NonNullable<LanguageModelMiddleware['wrapGenerate']>;
type WrapStream = NonNullable<LanguageModelMiddleware['wrapStream']>;

/** What a language model's `doGenerate` returns, typed by the `ai` package installed. */
export type LanguageModelGenerateResult = Awaited<ReturnType<WrapGenerate>>;

/** One part of what a language model's `doStream` streams. */
export type LanguageModelStreamPart =
  Awaited<ReturnType<WrapStream>>['stream'] extends ReadableStream<infer Part> ? Part : never;

type Usage = LanguageModelGenerateResult['usage'];
type ProviderMetadata = NonNullable<LanguageModelGenerateResult['providerMetadata']>;

/** The usage of a call the model did not answer for it. */
const NO_USAGE: Usage = {
  inputTokens: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 0, text: 0, reasoning: 0 },
};

/** Whether a finish reason (`{ unified, raw }`, or a plain string before v3) reports a failure. */
function isFailure(finishReason: unknown): boolean {
  const unified = typeof finishReason === 'string' ? finishReason : (finishReason as { unified?: unknown })?.unified;
  // 'interrupted' is ai 7's: the model stopped before its end
  return unified === 'error' || unified === 'interrupted';
}

/** Whether a stream part is a finish that reports a failure: such a stream is not stored. */
export function isFailedFinish(part: LanguageModelStreamPart): boolean {
  return part.type === 'finish' && isFailure(part.finishReason);
}

/**
 * What is stored of a generate result, and handed to the calls that followed it: everything but the request (it
 * holds the whole prompt) and the HTTP exchange (headers and body), which describe this model call, not its
 * answer; `response` keeps `id`, `timestamp` and `modelId`. Undefined for a result that reports a failure.
 */
export function recordedResult(result: LanguageModelGenerateResult): unknown {
  if (isFailure(result.finishReason)) return undefined;
  const { request: _request, response, ...answer } = result;
  if (!response) return answer;
  const { id, timestamp, modelId } = response;
  return { ...answer, response: { id, timestamp, modelId } };
}

/**
 * A result (or finish part) as a call that the model did not answer gets it: zero tokens used, and the model
 * call's usage in `providerMetadata.wbotCache`, beside `hit: true` or `coalesced: true`.
 */
export function markAnswered<T extends { usage: Usage; providerMetadata?: ProviderMetadata }>(
  result: T,
  source: 'hit' | 'coalesced',
): T {
  const answered = { [source]: true, usage: result.usage } as unknown as ProviderMetadata[string];
  return { ...result, usage: NO_USAGE, providerMetadata: { ...result.providerMetadata, wbotCache: answered } };
}
