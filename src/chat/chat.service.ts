import { Inject, Injectable, Logger } from '@nestjs/common';
import { ResponseCacheService, type ResponseSource } from '@wbot/redis-cache';
import { responseCacheMiddleware } from '@wbot/redis-cache/ai-sdk';
import { streamText, wrapLanguageModel, type ModelMessage, type TextStreamPart, type ToolSet } from 'ai';
import type { ChatRole } from '../common/limits';
import { MetricsService } from '../metrics/metrics.service';
import { CHAT_MODEL, type ChatModel } from './chat-model';
import { serverSentEvent } from './server-sent-events';

type Part = TextStreamPart<ToolSet>;

/** The `X-Cache` of an answer, by how the response cache answered it. */
export const X_CACHE = { hit: 'HIT', miss: 'MISS', coalesced: 'COALESCED', bypass: 'BYPASS' } as const;
export type XCache = (typeof X_CACHE)[ResponseSource];

/** An answer under way: how the cache answers it, known before its first event, and its events. */
export interface ChatAnswer {
  cache: XCache;
  /** The Server-Sent Events of the answer, each as sent; ending the iteration early stops the answer. */
  events: AsyncIterable<string>;
}

/** The last event of an answer that stopped before its end: it says nothing of the cause, which may quote the prompt. */
const STOPPED = serverSentEvent({ message: 'The answer stopped before its end' }, 'error');

/** The event a part of the answer is sent as, if any: the text, or the end. */
function eventOf(part: Part): string | undefined {
  if (part.type === 'text-delta') return serverSentEvent({ type: 'text-delta', delta: part.text });
  if (part.type === 'finish') return serverSentEvent({ finishReason: part.finishReason }, 'done');
  return undefined;
}

/**
 * Answers a chat through the AI SDK (`streamText`) with the response cache's middleware around the model: an answer
 * given before to the same messages, for the same tenant, streams from Redis; identical requests in flight at once,
 * in this process or another on the same Redis, share one model call; with Redis down, every request asks the model.
 */
@Injectable()
export class ChatService {
  private readonly logger = new Logger(ChatService.name);

  constructor(
    private readonly cache: ResponseCacheService,
    private readonly metrics: MetricsService,
    @Inject(CHAT_MODEL) private readonly model: ChatModel,
  ) {}

  /**
   * Starts the answer to `messages` for `tenant`, and resolves once the cache has said how it is answered (a hit,
   * a miss, a follower of an identical call in flight), before any of its text: that decides the `X-Cache` header,
   * which goes before the first byte. Undefined when `signal` aborted first: the client went away.
   */
  async answer(
    tenant: string,
    messages: { role: ChatRole; content: string }[],
    signal: AbortSignal,
  ): Promise<ChatAnswer | undefined> {
    let source: ResponseSource | undefined;
    const model = wrapLanguageModel({
      model: this.model,
      // per request: onSource says how this request's call is answered
      middleware: responseCacheMiddleware({ cache: this.cache, tenant, onSource: (answered) => (source = answered) }),
    });
    const result = streamText({
      model,
      messages: messages as ModelMessage[],
      abortSignal: signal,
      // an error is logged where it ends the events (eventsOf), not by streamText, which would print it whole
      onError: () => undefined,
    });
    const parts = result.fullStream[Symbol.asyncIterator]();
    // streamText's first parts come before it calls the model, and so before the cache has answered: held until then
    const held: Part[] = [];
    while (source === undefined) {
      const next = await parts.next();
      if (signal.aborted) {
        await parts.return?.();
        return undefined;
      }
      if (next.done) throw new Error('The answer ended before the response cache answered it');
      if (next.value.type === 'error') throw next.value.error;
      held.push(next.value);
    }
    this.metrics.chatResponses.inc({ result: source });
    return { cache: X_CACHE[source], events: this.eventsOf(held, parts, signal) };
  }

  /**
   * The events of the answer's parts, the held ones first. A failure ends them with an error event, whether it came
   * as a part or as the stream's own error (as a provider's dropped connection does), unless `signal` aborted it.
   */
  private async *eventsOf(held: Part[], rest: AsyncIterator<Part>, signal: AbortSignal): AsyncGenerator<string> {
    try {
      for (const part of held) {
        const event = eventOf(part);
        if (event) yield event;
      }
      for (let next = await rest.next(); !next.done; next = await rest.next()) {
        if (next.value.type === 'error') throw next.value.error;
        const event = eventOf(next.value);
        if (event) yield event;
      }
    } catch (error) {
      if (signal.aborted) return; // the client went away: no one to tell
      // the error's name only: its message may quote the prompt
      this.logger.warn(`An answer stopped before its end: ${error instanceof Error ? error.name : typeof error}`);
      yield STOPPED;
    } finally {
      // an answer left early (the client went away) cancels the stream, and with it the model call it alone waits for
      await rest.return?.();
    }
  }
}
