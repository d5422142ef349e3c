import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LanguageModel } from 'ai';

// Framework-free on purpose: the bench loads the built file (dist/chat/local-language-model.js) to time the
// response cache against the same model the demo answers with.

/** A language model of the installed `ai` (6): the provider interface it calls, specification v3. */
export type LanguageModelV3 = Extract<LanguageModel, { specificationVersion: 'v3' }>;
type CallOptions = Parameters<LanguageModelV3['doGenerate']>[0];
type GenerateResult = Awaited<ReturnType<LanguageModelV3['doGenerate']>>;
type StreamPart =
  Awaited<ReturnType<LanguageModelV3['doStream']>>['stream'] extends ReadableStream<infer P> ? P : never;

/** The options of a {@link LocalLanguageModel}. */
export interface LocalLanguageModelOptions {
  /** Waited before each token, to stand in for a remote model's generation speed. Default 0. */
  tokenLatencyMs?: number;
}

const WORDS = (
  'the a cache answer model token stream reply request user tenant redis key value entry hit miss ' +
  'leader follower part prompt result store lookup process call time first last same every one each ' +
  'fast slow clear exact local shared live order bound wait follow lead keep send read write ' +
  'is was are gives takes finds holds makes comes goes asks sees knows says runs ends starts'
).split(' ');
/** The answer's length when the call sets no `maxOutputTokens`: MIN_TOKENS plus up to TOKEN_SPREAD - 1 more. */
const MIN_TOKENS = 16;
const TOKEN_SPREAD = 33;
const TEXT_ID = 'text-0';

/** A pseudo-random sequence (mulberry32) seeded from the prompt, so that a prompt always gets the same answer. */
function randomFrom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** The answer's tokens: words from a fixed list, in sentences, each token after the first with its leading space. */
function tokensOf(digest: Buffer, count: number): string[] {
  const next = randomFrom(digest.readUInt32BE(0));
  const tokens: string[] = [];
  let sentenceLeft = 0;
  for (let i = 0; i < count; i++) {
    let word = WORDS[next() % WORDS.length];
    if (sentenceLeft === 0) {
      word = word[0].toUpperCase() + word.slice(1);
      sentenceLeft = 6 + (next() % 9);
    }
    sentenceLeft--;
    if (sentenceLeft === 0 || i === count - 1) word += '.';
    tokens.push(i === 0 ? word : ` ${word}`);
  }
  return tokens;
}

/** The number of words in the prompt's text: its input tokens, as this model counts them. */
function promptTokens(prompt: CallOptions['prompt']): number {
  let words = 0;
  for (const message of prompt) {
    const parts = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
    for (const part of parts) if (part.type === 'text') words += part.text.split(/\s+/).filter(Boolean).length;
  }
  return words;
}

/**
 * A deterministic local language model, as the AI SDK calls a provider's (specification v3): it answers any prompt
 * with words drawn from a fixed list by a sequence seeded from the SHA-256 of the prompt, so that the same prompt
 * always gets the same answer, token by token, and a different prompt another. `maxOutputTokens` sets the answer's
 * length (finish reason `length`); without it, the prompt picks 16 to 48 tokens (`stop`). `tokenLatencyMs` is waited
 * before each token, as a remote model takes time per token. An aborted call stops, its stream erroring with the
 * signal's reason. No network, no key; it stands in for a model API, as FeatureHashingEmbedder for an embedding API.
 */
export class LocalLanguageModel implements LanguageModelV3 {
  readonly specificationVersion = 'v3';
  readonly provider = 'wbot.local';
  readonly modelId = 'local-words-1';
  readonly supportedUrls = {};
  private readonly tokenLatencyMs: number;

  constructor(options: LocalLanguageModelOptions = {}) {
    this.tokenLatencyMs = options.tokenLatencyMs ?? 0;
  }

  /** The answer to a call: its tokens, finish reason and usage. */
  private answer(options: CallOptions) {
    const digest = createHash('sha256').update(JSON.stringify(options.prompt)).digest();
    const count = options.maxOutputTokens ?? MIN_TOKENS + (digest.readUInt32BE(4) % TOKEN_SPREAD);
    const tokens = tokensOf(digest, count);
    return {
      id: `local-${digest.subarray(8, 16).toString('hex')}`,
      tokens,
      finishReason: { unified: options.maxOutputTokens === undefined ? 'stop' : 'length', raw: undefined } as const,
      usage: {
        inputTokens: {
          total: promptTokens(options.prompt),
          noCache: undefined,
          cacheRead: undefined,
          cacheWrite: undefined,
        },
        outputTokens: { total: tokens.length, text: tokens.length, reasoning: undefined },
      },
    };
  }

  /** Waits as long as the model takes for `tokens` tokens; rejects with the signal's reason once it aborts. */
  private async generating(tokens: number, signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    if (this.tokenLatencyMs === 0) return;
    try {
      await sleep(this.tokenLatencyMs * tokens, undefined, { signal });
    } catch (error) {
      // the timer rejects with an AbortError of its own; a provider's call rejects with the signal's reason
      throw signal?.aborted ? signal.reason : error;
    }
  }

  async doGenerate(options: CallOptions): Promise<GenerateResult> {
    const { id, tokens, finishReason, usage } = this.answer(options);
    const timestamp = new Date();
    await this.generating(tokens.length, options.abortSignal);
    return {
      content: [{ type: 'text', text: tokens.join('') }],
      finishReason,
      usage,
      response: { id, timestamp, modelId: this.modelId },
      warnings: [],
    };
  }

  async doStream(options: CallOptions): Promise<{ stream: ReadableStream<StreamPart> }> {
    const { id, tokens, finishReason, usage } = this.answer(options);
    const parts: StreamPart[] = [
      { type: 'stream-start', warnings: [] },
      { type: 'response-metadata', id, timestamp: new Date(), modelId: this.modelId },
      { type: 'text-start', id: TEXT_ID },
    ];
    let next = 0;
    const signal = options.abortSignal;
    const stream = new ReadableStream<StreamPart>({
      pull: async (controller) => {
        if (parts.length > 0) return controller.enqueue(parts.shift()!);
        if (next === tokens.length) {
          controller.enqueue({ type: 'text-end', id: TEXT_ID });
          controller.enqueue({ type: 'finish', finishReason, usage });
          return controller.close();
        }
        try {
          await this.generating(1, signal);
        } catch (error) {
          return controller.error(error);
        }
        controller.enqueue({ type: 'text-delta', id: TEXT_ID, delta: tokens[next++] });
      },
    });
    return { stream };
  }
}
