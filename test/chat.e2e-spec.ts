import { request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { generateText, type ModelMessage } from 'ai';
import request from 'supertest';
import { CHAT_MODEL } from '../src/chat/chat-model';
import { LocalLanguageModel } from '../src/chat/local-language-model';
import { postChat } from './support/chat-client';
import { bootDemo } from './support/demo-app';
import { connectionsReady, startDemoStack, type DemoStack } from './support/demo-stack';
import { until } from './support/until';

/** Long enough per token that identical requests sent together are in flight together. */
const TOKEN_LATENCY_MS = '10';

const ask = (content: string, extra: Record<string, unknown> = {}) => ({
  messages: [{ role: 'user', content }],
  ...extra,
});

/** What the local model answers to these messages, asked directly, without the app or the cache. */
async function modelAnswer(messages: ModelMessage[]): Promise<string> {
  return (await generateText({ model: new LocalLanguageModel(), messages })).text;
}

/** A demo app on the stack's Redis servers, listening on a free port of 127.0.0.1, with its model's doStream spied. */
async function listeningApp(app: NestExpressApplication) {
  await app.listen(0, '127.0.0.1');
  const model = app.get<LocalLanguageModel>(CHAT_MODEL);
  return { server: app.getHttpServer() as Server, streams: jest.spyOn(model, 'doStream') };
}

describe('POST /chat', () => {
  let stack: DemoStack;
  let server: Server;
  let streams: jest.SpyInstance;

  beforeAll(async () => {
    stack = await startDemoStack({ CHAT_TOKEN_LATENCY_MS: TOKEN_LATENCY_MS });
    ({ server, streams } = await listeningApp(stack.app));
  });
  afterAll(() => stack.close());
  beforeEach(() => streams.mockClear());

  it("streams the model's answer as Server-Sent Events (MISS), then the same events from Redis without the model (HIT)", async () => {
    const body = ask('What does the response cache store?');
    const miss = await postChat(server, body);
    expect(miss.status).toBe(200);
    expect(miss.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(miss.headers['cache-control']).toBe('no-cache');
    expect(miss.headers['x-cache']).toBe('MISS');
    const deltas = miss.events.slice(0, -1);
    expect(deltas.length).toBeGreaterThanOrEqual(16);
    for (const event of deltas) expect(event).toEqual({ data: { type: 'text-delta', delta: expect.any(String) } });
    expect(miss.events.at(-1)).toEqual({ event: 'done', data: { finishReason: 'stop' } });
    expect(miss.answer).toBe(await modelAnswer(body.messages as ModelMessage[]));
    expect(streams).toHaveBeenCalledTimes(1);

    const hit = await postChat(server, body);
    expect(hit.status).toBe(200);
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.text).toBe(miss.text);
    expect(streams).toHaveBeenCalledTimes(1);
  });

  it("answers identical requests in flight at once with one model call, the follower's answer starting before the leader's ends", async () => {
    const body = ask('Two users ask this at once');
    const replies = await Promise.all([postChat(server, body), postChat(server, body)]);
    expect(replies.map((reply) => reply.headers['x-cache']).sort()).toEqual(['COALESCED', 'MISS']);
    expect(streams).toHaveBeenCalledTimes(1);
    const [leader, follower] = replies[0].headers['x-cache'] === 'MISS' ? replies : [replies[1], replies[0]];
    expect(follower.text).toBe(leader.text);
    expect(follower.answer).toBe(await modelAnswer(body.messages as ModelMessage[]));
    expect(follower.firstChunkAt).toBeLessThan(leader.endAt);
  });

  it('answers identical requests to two instances of the demo on the same Redis with one model call', async () => {
    const other = await bootDemo({
      REDIS_URL: stack.local.url,
      REDIS_SHARED_URL: stack.shared.url,
      CHAT_TOKEN_LATENCY_MS: TOKEN_LATENCY_MS,
    });
    try {
      await connectionsReady(other);
      const second = await listeningApp(other);
      const body = ask('Asked of two processes at once');
      const replies = await Promise.all([postChat(server, body), postChat(second.server, body)]);
      expect(replies.map((reply) => reply.headers['x-cache']).sort()).toEqual(['COALESCED', 'MISS']);
      expect(streams.mock.calls.length + second.streams.mock.calls.length).toBe(1);
      expect(replies[1].text).toBe(replies[0].text);
    } finally {
      await other.close();
    }
  });

  it('misses for another question, the same question after other messages, and the same question of another tenant', async () => {
    const question = ask('Which prompt is this?');
    const first = await postChat(server, question);
    const variants = [
      ask('Which prompt is that?'),
      {
        messages: [
          { role: 'user', content: 'Hello.' },
          { role: 'assistant', content: 'Hello! Ask away.' },
          { role: 'user', content: 'Which prompt is this?' },
        ],
      },
      ask('Which prompt is this?', { tenant: 'org-2' }),
    ];
    const replies = [];
    for (const body of variants) replies.push(await postChat(server, body));
    expect([first, ...replies].map((reply) => reply.headers['x-cache'])).toEqual(['MISS', 'MISS', 'MISS', 'MISS']);
    expect(streams).toHaveBeenCalledTimes(4);
    expect(replies[0].answer).not.toBe(first.answer);
    expect(replies[1].answer).not.toBe(first.answer);
    // the same model call for another tenant: the same answer, from the model, not from the first tenant's entry
    expect(replies[2].answer).toBe(first.answer);
    expect((await postChat(server, question)).headers['x-cache']).toBe('HIT');
  });

  it('stops the model call when the only client asking goes away, and stores nothing of it', async () => {
    const body = ask('A question whose asker leaves');
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve, reject) => {
      const call = httpRequest(
        { host: '127.0.0.1', port, method: 'POST', path: '/chat', headers: { 'content-type': 'application/json' } },
        (response) => {
          response.once('data', () => {
            call.destroy();
            resolve();
          });
        },
      );
      call.on('error', (error) => ((error as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(error)));
      call.end(JSON.stringify(body));
    });
    expect(streams).toHaveBeenCalledTimes(1);
    const signal = (streams.mock.calls[0][0] as { abortSignal: AbortSignal }).abortSignal;
    await until(() => signal.aborted);
    const again = await postChat(server, body);
    expect(again.headers['x-cache']).toBe('MISS');
    expect(again.events.at(-1)).toEqual({ event: 'done', data: { finishReason: 'stop' } });
  });

  const message = { role: 'user', content: 'x' };
  it.each([
    ['no messages', {}, 'messages must be an array'],
    ['an empty list', { messages: [] }, 'messages should not be empty'],
    [
      'more than 100 messages',
      { messages: Array(101).fill(message) },
      'messages must contain no more than 100 elements',
    ],
    [
      'a system message',
      { messages: [{ role: 'system', content: 'x' }] },
      'messages.0.role must be one of the following values: user, assistant',
    ],
    ['a message without content', { messages: [{ role: 'user' }] }, 'messages.0.content must be a string'],
    [
      'content over 100,000 characters',
      { messages: [{ role: 'user', content: 'x'.repeat(100_001) }] },
      'messages.0.content must be shorter than or equal to 100000 characters',
    ],
    [
      'a lone surrogate',
      { messages: [{ role: 'user', content: '\udc00' }] },
      'messages.0.content must be well-formed Unicode (it has a lone surrogate)',
    ],
    [
      'a tenant that is not an id',
      { messages: [message], tenant: 'a b' },
      'tenant must be 1 to 128 characters from A-Z, a-z, 0-9 and _ . : -',
    ],
    ['a message that is an array', { messages: [[]] }, 'messages.0 must be an object'],
    ['a message that is an array after one that is not', { messages: [message, []] }, 'messages.1 must be an object'],
    ['an unknown field', { messages: [message], model: 'gpt' }, 'model should not exist'],
    ['an unknown field of a message', { messages: [{ ...message, name: 'n' }] }, 'messages.0.name should not exist'],
  ])('answers 400 naming the field for %s, without asking the model', async (_case, body, line) => {
    const response = await request(server).post('/chat').send(body).expect(400);
    expect(response.body).toEqual({ statusCode: 400, error: 'Bad Request', message: [line] });
    expect(response.headers['x-cache']).toBeUndefined();
    expect(streams).not.toHaveBeenCalled();
  });
});

/** The local model, but its stream errors after its third token, as a provider's connection that drops. */
class FailingMidway extends LocalLanguageModel {
  override async doStream(options: Parameters<LocalLanguageModel['doStream']>[0]) {
    const { stream } = await super.doStream(options);
    let deltas = 0;
    type Part = typeof stream extends ReadableStream<infer P> ? P : never;
    const failing = new TransformStream<Part, Part>({
      transform(part, controller) {
        if (part.type === 'text-delta' && ++deltas > 3) controller.error(new Error('the provider went away'));
        else controller.enqueue(part);
      },
    });
    return { stream: stream.pipeThrough(failing) };
  }
}

describe('POST /chat with a model that fails midway', () => {
  let stack: DemoStack;
  let server: Server;

  beforeAll(async () => {
    stack = await startDemoStack(
      { CHAT_TOKEN_LATENCY_MS: '0' },
      { override: (builder) => builder.overrideProvider(CHAT_MODEL).useValue(new FailingMidway()) },
    );
    ({ server } = await listeningApp(stack.app));
  });
  afterAll(() => stack.close());

  it('ends the answer with an error event after the tokens that came, and stores nothing of it', async () => {
    const body = ask('A question the provider fails on');
    const reply = await postChat(server, body);
    expect(reply.status).toBe(200);
    expect(reply.headers['x-cache']).toBe('MISS');
    const expected = await modelAnswer(body.messages as ModelMessage[]);
    expect(reply.events.slice(0, 3).map((event) => event.data)).toEqual(
      expected
        .split(/(?= )/)
        .slice(0, 3)
        .map((delta) => ({ type: 'text-delta', delta })),
    );
    expect(reply.events.slice(3)).toEqual([{ event: 'error', data: { message: 'The answer stopped before its end' } }]);
    expect((await postChat(server, body)).headers['x-cache']).toBe('MISS');
  });
});

describe('POST /chat in /metrics', () => {
  let stack: DemoStack;
  let server: Server;

  beforeAll(async () => {
    stack = await startDemoStack({ CHAT_TOKEN_LATENCY_MS: TOKEN_LATENCY_MS });
    ({ server } = await listeningApp(stack.app));
  });
  afterAll(() => stack.close());

  it("counts answers by result, and mirrors the response cache's own counters", async () => {
    await postChat(server, ask('first'));
    await postChat(server, ask('first'));
    await Promise.all([postChat(server, ask('second')), postChat(server, ask('second'))]);
    await request(server).post('/chat').send({ messages: [] }).expect(400);

    const text = (await request(server).get('/metrics').expect(200)).text;
    const sample = (name: string) =>
      Number(new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    const responses = (result: string) => sample(`wbot_demo_chat_responses_total{result="${result}"}`);
    expect([responses('hit'), responses('miss'), responses('coalesced'), responses('bypass')]).toEqual([1, 2, 1, 0]);
    const events = Object.fromEntries(
      [
        'hits',
        'misses',
        'coalesced',
        'takeovers',
        'bypasses',
        'writes',
        'oversized',
        'fenced',
        'evictions',
        'clears',
        'fallbacks',
      ].map((event) => [event, sample(`wbot_response_cache_events_total{event="${event}"}`)]),
    );
    expect(events).toEqual({
      hits: 1,
      misses: 2,
      coalesced: 1,
      takeovers: 0,
      bypasses: 0,
      writes: 2,
      oversized: 0,
      fenced: 0,
      evictions: 0,
      clears: 0,
      fallbacks: 0,
    });
    expect(sample('http_request_duration_seconds_count{method="POST",route="/chat",status_code="200"}')).toBe(4);
    expect(sample('http_request_duration_seconds_count{method="POST",route="/chat",status_code="400"}')).toBe(1);
  });
});
