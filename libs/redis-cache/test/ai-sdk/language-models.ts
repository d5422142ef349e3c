import { wrapLanguageModel } from 'ai';
import * as aiTest from 'ai/test';

/**
 * Scripted language models for the response cache's specs, on the mock models of the `ai` under test: V4 on ai 7
 * (the `ai7` project), V3 on ai 6. Each answers a generate with `CONTENT` and a stream with `PARTS`, unless its
 * script says otherwise, and records every call (`doGenerateCalls`, `doStreamCalls`).
 */
export const MockLanguageModel = ((aiTest as unknown as Record<string, unknown>).MockLanguageModelV4 ??
  aiTest.MockLanguageModelV3) as typeof aiTest.MockLanguageModelV3;
export type MockModel = InstanceType<typeof MockLanguageModel>;
export type CallOptions = MockModel['doGenerateCalls'][number];
type GenerateResult = Awaited<ReturnType<MockModel['doGenerate']>>;
export type StreamPart =
  Awaited<ReturnType<MockModel['doStream']>>['stream'] extends ReadableStream<infer P> ? P : never;

/** The interface version of the models `wrapLanguageModel` returns: v3 on ai 6, v4 on ai 7. */
export const specificationVersion = wrapLanguageModel({
  model: new MockLanguageModel(),
  middleware: [],
}).specificationVersion;

export const USAGE = {
  inputTokens: { total: 12, noCache: 10, cacheRead: 2, cacheWrite: 0 },
  outputTokens: { total: 9, text: 7, reasoning: 2 },
};
export const NO_USAGE = {
  inputTokens: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 0, text: 0, reasoning: 0 },
};
export const TIMESTAMP = new Date('2026-01-02T03:04:05.678Z');
const STOP = { unified: 'tool-calls', raw: 'tool_calls' } as const;

/** A generate's answer: reasoning, text and a tool call. */
export const CONTENT = [
  { type: 'reasoning', text: 'The user wants the weather.' },
  { type: 'text', text: 'Let me look.' },
  { type: 'tool-call', toolCallId: 'call-1', toolName: 'weather', input: '{"city":"Paris"}' },
] as GenerateResult['content'];

/** A stream's answer: the same as `CONTENT`, part by part, with its metadata and its finish. */
export const PARTS = [
  { type: 'stream-start', warnings: [] },
  { type: 'response-metadata', id: 'response-1', timestamp: TIMESTAMP, modelId: 'mock-model-2026' },
  { type: 'reasoning-start', id: 'r1' },
  { type: 'reasoning-delta', id: 'r1', delta: 'The user wants ' },
  { type: 'reasoning-delta', id: 'r1', delta: 'the weather.' },
  { type: 'reasoning-end', id: 'r1' },
  { type: 'text-start', id: 't1' },
  { type: 'text-delta', id: 't1', delta: 'Let me' },
  { type: 'text-delta', id: 't1', delta: ' look.' },
  { type: 'text-end', id: 't1' },
  { type: 'tool-input-start', id: 'call-1', toolName: 'weather' },
  { type: 'tool-input-delta', id: 'call-1', delta: '{"city":"Paris"}' },
  { type: 'tool-input-end', id: 'call-1' },
  { type: 'tool-call', toolCallId: 'call-1', toolName: 'weather', input: '{"city":"Paris"}' },
  { type: 'finish', finishReason: STOP, usage: USAGE, providerMetadata: { mock: { cost: 7 } } },
] as StreamPart[];

/** A promise that resolves when `open` is called. */
export function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** What a scripted model does on one call (its number, from 1, and its parameters). */
export interface Script {
  /** The generate's content; `CONTENT` by default. */
  content?: GenerateResult['content'];
  finishReason?: GenerateResult['finishReason'];
  /** The stream's parts; `PARTS` by default. */
  parts?: StreamPart[];
  /** A generate waits for it before it answers; a stream, before its part at `gateAt`. */
  gate?: Promise<void>;
  gateAt?: number;
  /** The call rejects with it (a stream: before its first part, or at `gateAt` as an error of the stream). */
  error?: Error;
  /** Called when the call starts. */
  onCall?: (params: CallOptions) => void;
}

/**
 * A mock model that follows `script`, for every call or for the call of each number (from 1). Its stream errors
 * with the call's abort signal's reason when the signal aborts, as a provider's does.
 */
export function scriptedModel(
  script: Script | ((call: number, params: CallOptions) => Script) = {},
  { provider = 'mock-provider', modelId = 'mock-model' } = {},
): MockModel {
  let calls = 0;
  const scriptOf = (params: CallOptions): Script => {
    calls++;
    const current = typeof script === 'function' ? script(calls, params) : script;
    current.onCall?.(params);
    return current;
  };
  return new MockLanguageModel({
    provider,
    modelId,
    doGenerate: async (params) => {
      const { content = CONTENT, finishReason = STOP, gate: held, error } = scriptOf(params);
      await held;
      if (error) throw error;
      const response = { id: 'response-1', timestamp: TIMESTAMP, modelId: 'mock-model-2026' };
      return { content, finishReason, usage: USAGE, warnings: [], response, providerMetadata: { mock: { cost: 7 } } };
    },
    doStream: async (params) => {
      const { parts = PARTS, gate: held, gateAt = 0, error } = scriptOf(params);
      if (error && gateAt === 0) throw error;
      let next = 0;
      const stream = new ReadableStream<StreamPart>({
        start(controller) {
          params.abortSignal?.addEventListener('abort', () => controller.error(params.abortSignal!.reason));
        },
        async pull(controller) {
          if (next === gateAt) {
            await held;
            if (error) return controller.error(error);
          }
          if (next < parts.length) controller.enqueue(parts[next++]);
          if (next === parts.length) controller.close();
        },
      });
      return { stream, response: { headers: { 'x-model-call': String(calls) } } };
    },
  });
}

/** Every part of a stream, in order. */
export async function partsOf<P>(stream: ReadableStream<P>): Promise<P[]> {
  const parts: P[] = [];
  for await (const part of stream as unknown as AsyncIterable<P>) parts.push(part);
  return parts;
}
