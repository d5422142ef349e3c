import type { ServerResponse } from 'node:http';
import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ApiInvalidInputResponse, ApiJsonBodyErrors } from '../common/api-error-responses.decorator';
import { ErrorResponse } from '../common/error-response.dto';
import { ChatService, X_CACHE } from './chat.service';
import { ChatRequestDto, DEFAULT_TENANT } from './dto/chat-request.dto';
import { EVENT_STREAM_HEADERS } from './server-sent-events';

const EXAMPLE_EVENTS =
  'data: {"type":"text-delta","delta":"The"}\n\n' +
  'data: {"type":"text-delta","delta":" cache"}\n\n' +
  'data: {"type":"text-delta","delta":" answers."}\n\n' +
  'event: done\ndata: {"finishReason":"stop"}\n\n';

/** Resolves once `response` can take more, or is closed. */
function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done).off('close', done);
      resolve();
    };
    response.once('drain', done).once('close', done);
  });
}

@ApiTags('chat')
@ApiBearerAuth()
@ApiInvalidInputResponse()
@ApiUnauthorizedResponse({
  description: 'API_KEY is set and the bearer token is missing or wrong.',
  type: ErrorResponse,
})
@Controller('chat')
export class ChatController {
  constructor(private readonly chat: ChatService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Stream an answer, from the response cache where possible',
    description:
      'Answers the messages with a local language model (deterministic: the same messages get the same answer; ' +
      'CHAT_TOKEN_LATENCY_MS per token), through the AI SDK (`streamText`) and the response cache middleware. ' +
      'The answer streams as Server-Sent Events: one `data: {"type":"text-delta","delta":"..."}` event per token, ' +
      'then `event: done` with `{"finishReason":"stop"}` (or `"length"`), or `event: error` if it stops before its ' +
      'end. A request identical to one answered before, for the same tenant, streams from Redis at once ' +
      '(`X-Cache: HIT`); identical requests in flight at once share one model call (the others: `COALESCED`). ' +
      'Works without Redis, from the model (`MISS`).',
  })
  @ApiJsonBodyErrors()
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description: 'The answer, as Server-Sent Events.',
    content: { 'text/event-stream': { schema: { type: 'string', example: EXAMPLE_EVENTS } } },
    headers: {
      'X-Cache': {
        description:
          'HIT: from the cache; MISS: from the model; COALESCED: from the model call of an identical request in ' +
          'flight, in this process or another; BYPASS: from the model, without the cache (a request it has no key for).',
        schema: { type: 'string', enum: Object.values(X_CACHE) },
      },
    },
  })
  async stream(@Body() { messages, tenant }: ChatRequestDto, @Res() response: ServerResponse): Promise<void> {
    const gone = new AbortController();
    response.once('close', () => {
      if (!response.writableFinished) gone.abort();
    });
    const answer = await this.chat.answer(
      tenant ?? DEFAULT_TENANT,
      messages.map(({ role, content }) => ({ role, content })),
      gone.signal,
    );
    if (!answer) return void response.end();
    // the cache has answered, and nothing is written yet: X-Cache goes with the status line, sent at once, before the
    // first token
    response.writeHead(200, { ...EVENT_STREAM_HEADERS, 'X-Cache': answer.cache }).flushHeaders();
    for await (const event of answer.events) {
      if (response.destroyed) break;
      if (!response.write(event)) await drained(response);
    }
    response.end();
  }
}
