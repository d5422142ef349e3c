import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Logger } from 'nestjs-pino';
import { __resetOutOfContextForTests } from 'nestjs-pino/PinoLogger';
import request from 'supertest';
import { ConversationRepository } from '../src/database/conversation.repository';
import type { SqliteConversationRepository } from '../src/database/sqlite-conversation.repository';
import { LOG_DESTINATION } from '../src/logging/log-destination';
import { EmbeddingCacheService } from '@wbot/redis-cache';
import { bootDemo } from './support/demo-app';
import { startDemoStack, type DemoStack } from './support/demo-stack';
import { RedisServer } from './support/redis-server';
import { until } from './support/until';

const API_KEY = 'test-api-key-0123456789';

/** Every route of the demo, with a valid request for it. */
const PROTECTED_ROUTES = [
  ['post', '/conversations', {}],
  ['get', '/conversations/c1/messages', undefined],
  ['post', '/conversations/c1/messages', { messages: [{ role: 'user', content: 'a' }] }],
  ['delete', '/conversations/c1', undefined],
  ['put', '/users/u1/embeddings', { text: 't', embedding: [1] }],
  ['post', '/users/u1/embeddings/lookup', { text: 't' }],
  ['post', '/users/u1/embeddings/embed', { texts: ['t'] }],
  ['delete', '/users/u1/embeddings', undefined],
  ['post', '/chat', { messages: [{ role: 'user', content: 'a' }] }],
] as const;

describe('API key', () => {
  let stack: DemoStack;
  let http: ReturnType<typeof request>;
  beforeAll(async () => {
    stack = await startDemoStack({ API_KEY });
    http = request(stack.app.getHttpServer());
  });
  afterAll(() => stack.close());

  it.each(PROTECTED_ROUTES)('%s %s answers 401 without the bearer token', async (method, path, body) => {
    const response = await http[method](path).send(body).expect(401);
    expect(response.body).toEqual({
      statusCode: 401,
      error: 'Unauthorized',
      message: 'Authorization: Bearer <API_KEY> is required',
    });
    expect(response.headers['www-authenticate']).toBe('Bearer');
  });

  it.each([
    ['a wrong key', `Bearer ${API_KEY}x`],
    ['a prefix of the key', `Bearer ${API_KEY.slice(0, -1)}`],
    ['the key without the Bearer scheme', API_KEY],
    ['Basic authentication', `Basic ${Buffer.from(`user:${API_KEY}`).toString('base64')}`],
  ])('answers 401 for %s', async (_case, authorization) => {
    await http.post('/conversations').set('Authorization', authorization).expect(401);
  });

  it('answers 401 before validating the input, so an anonymous caller learns nothing about it', async () => {
    await http.post('/conversations/bad%20id/messages').send({ messages: [] }).expect(401);
  });

  it('lets a request with the right key through', async () => {
    const created = await http.post('/conversations').set('Authorization', `Bearer ${API_KEY}`).expect(201);
    await http.get(`/conversations/${created.body.id}/messages`).set('Authorization', `Bearer ${API_KEY}`).expect(200);
  });

  it.each(['/health/live', '/health/ready', '/metrics', '/docs', '/docs-json'])(
    'serves %s without the key',
    async (path) => {
      await http.get(path).expect(200);
    },
  );
});

/** The value of each sample line of `/metrics`, by metric name and labels exactly as printed. */
async function scrapeMetrics(http: ReturnType<typeof request>): Promise<Map<string, number>> {
  const response = await http.get('/metrics').expect(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain; .*version=0\.0\.4/);
  const samples = new Map<string, number>();
  for (const line of response.text.split('\n')) {
    const match = /^(\S+(?:\{.*\})?) (\S+)$/.exec(line);
    if (match && !line.startsWith('#')) samples.set(match[1], Number(match[2]));
  }
  return samples;
}

describe('GET /metrics with EMBEDDING_NEAR_CACHE_BYTES', () => {
  let stack: DemoStack;
  let http: ReturnType<typeof request>;
  beforeAll(async () => {
    stack = await startDemoStack({ EMBEDDING_NEAR_CACHE_BYTES: '1000000' });
    http = request(stack.app.getHttpServer());
  });
  afterAll(() => stack.close());

  it("shows the near cache's hits, its bytes and entries, and whether it serves", async () => {
    const embeddings = stack.app.get(EmbeddingCacheService);
    await until(() => embeddings.nearCacheUsage()!.serving);
    for (let i = 0; i < 3; i++) {
      await http
        .post('/users/u/embeddings/embed')
        .send({ texts: ['a'] })
        .expect(200);
    }
    const samples = await scrapeMetrics(http);
    expect(samples.get('wbot_cache_events_total{connection="local",event="near_hits"}')).toBe(1);
    expect(samples.get('wbot_cache_events_total{connection="local",event="hits"}')).toBe(2);
    // one 384-d vector of an entry whose text is one character: 384 × 8 + 2 + 400 bytes
    expect(samples.get('wbot_near_cache_bytes')).toBe(384 * 8 + 2 + 400);
    expect(samples.get('wbot_near_cache_entries')).toBe(1);
    expect(samples.get('wbot_near_cache_serving')).toBe(1);
  });
});

describe('GET /metrics', () => {
  let stack: DemoStack;
  let http: ReturnType<typeof request>;
  beforeAll(async () => {
    stack = await startDemoStack();
    http = request(stack.app.getHttpServer());
  });
  afterAll(() => stack.close());

  const scrape = () => scrapeMetrics(http);

  it('counts cache outcomes per operation and connection, mirrors the library counters, and times requests per route', async () => {
    const { id } = (await http.post('/conversations').expect(201)).body;
    await http.get(`/conversations/${id}/messages`).expect(200);
    await http.get(`/conversations/${id}/messages`).expect(200);
    await http.post(`/conversations/${id}/messages`).send({ messages: [{ role: 'user', content: 'a' }] });
    await http.get('/conversations/unknown/messages').expect(404);
    await http
      .post('/users/u/embeddings/embed')
      .send({ texts: ['a'] })
      .expect(200);
    await http
      .post('/users/u/embeddings/embed')
      .send({ texts: ['a'] })
      .expect(200);
    await http.post('/users/u/embeddings/lookup').send({ text: 'zz' }).expect(404);
    await http.delete(`/conversations/${id}`).expect(204);

    const samples = await scrape();
    const operations = (connection: string, operation: string, outcome: string) =>
      samples.get(
        `wbot_cache_operations_total{connection="${connection}",operation="${operation}",outcome="${outcome}"}`,
      );
    expect(operations('shared', 'getCachedMessagesJson', 'miss')).toBe(2);
    expect(operations('shared', 'getCachedMessagesJson', 'hit')).toBe(1);
    expect(operations('shared', 'getOrLoadMessages', 'miss')).toBe(1);
    expect(operations('shared', 'getOrLoadMessages', 'error')).toBe(1);
    expect(operations('shared', 'appendMessages', 'stored')).toBe(1);
    // a clear has its own outcome, and counts as a clear, not an eviction
    expect(operations('shared', 'clearConversation', 'cleared')).toBe(1);
    expect(operations('shared', 'clearConversation', 'stored')).toBeUndefined();
    expect(operations('local', 'getOrComputeEmbeddings', 'miss')).toBe(1);
    expect(operations('local', 'getOrComputeEmbeddings', 'hit')).toBe(1);
    expect(operations('local', 'getCachedEmbedding', 'miss')).toBe(1);
    expect(
      samples.get('wbot_cache_operation_duration_seconds_count{connection="shared",operation="getCachedMessagesJson"}'),
    ).toBe(3);

    const event = (connection: string, name: string) =>
      samples.get(`wbot_cache_events_total{connection="${connection}",event="${name}"}`);
    expect(event('shared', 'hits')).toBe(1);
    expect(event('shared', 'fills')).toBe(1);
    expect(event('shared', 'appends')).toBe(1);
    expect(event('shared', 'fallbacks')).toBe(0);
    expect(event('shared', 'clears')).toBe(1);
    expect(event('shared', 'evictions')).toBe(0);
    expect(event('local', 'hits')).toBe(1);
    expect(event('local', 'misses')).toBe(2);
    expect(event('local', 'writes')).toBe(1);
    expect(event('local', 'near_hits')).toBe(0);

    const requests = (route: string, status: number, method = 'GET') =>
      samples.get(`http_request_duration_seconds_count{method="${method}",route="${route}",status_code="${status}"}`);
    expect(requests('/conversations/:id/messages', 200)).toBe(2);
    expect(requests('/conversations/:id/messages', 404)).toBe(1);
    expect(requests('/conversations/:id/messages', 201, 'POST')).toBe(1);
    expect(requests('/users/:userId/embeddings/embed', 200, 'POST')).toBe(2);

    expect(samples.get('wbot_redis_connection_up{connection="local"}')).toBe(1);
    expect(samples.get('wbot_redis_connection_up{connection="shared"}')).toBe(1);
    expect(samples.get('wbot_redis_breaker_state{connection="local",state="closed"}')).toBe(1);
    expect(samples.get('wbot_redis_breaker_state{connection="shared",state="open"}')).toBe(0);
    expect(samples.get('wbot_redis_connection_state{connection="shared",state="ready"}')).toBe(1);
    expect(samples.get('wbot_redis_connection_state{connection="shared",state="reconnecting"}')).toBe(0);
    expect(samples.get('process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('labels requests that matched no route as unmatched, so raw paths never become labels', async () => {
    await http.get('/no/such/route/42').expect(404);
    const samples = await scrape();
    expect(samples.get('http_request_duration_seconds_count{method="GET",route="unmatched",status_code="404"}')).toBe(
      1,
    );
    expect([...samples.keys()].some((key) => key.includes('/no/such/route'))).toBe(false);
  });
});

describe('OpenAPI document', () => {
  let stack: DemoStack;
  beforeAll(async () => {
    stack = await startDemoStack();
  });
  afterAll(() => stack.close());

  it("gives the package's version as the API version", async () => {
    const document = (await request(stack.app.getHttpServer()).get('/docs-json').expect(200)).body;
    const { version } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
    expect(version).toMatch(/^\d+\.\d+\.\d+/);
    expect(document.info.version).toBe(version);
  });

  it('lists every route with its parameters, body and every answer, errors included', async () => {
    const document = (await request(stack.app.getHttpServer()).get('/docs-json').expect(200)).body;
    const operations: Record<string, unknown> = {};
    for (const [path, methods] of Object.entries<Record<string, Record<string, never>>>(document.paths)) {
      for (const [method, operation] of Object.entries<Record<string, never>>(methods)) {
        const body = operation.requestBody as { content: Record<string, { schema: { $ref: string } }> } | undefined;
        operations[`${method.toUpperCase()} ${path}`] = {
          answers: Object.keys(operation.responses).sort(),
          parameters: (operation.parameters as { in: string; name: string }[]).map((p) => `${p.in}:${p.name}`),
          body: body?.content['application/json'].schema.$ref.replace('#/components/schemas/', ''),
          bearer: (operation.security as unknown[] | undefined)?.length === 1,
        };
      }
    }
    const secured = (answers: string[], parameters: string[], body?: string) => ({
      answers,
      parameters,
      body,
      bearer: true,
    });
    expect(operations).toEqual({
      'GET /health/live': { answers: ['200', '503'], parameters: [], body: undefined, bearer: false },
      'GET /health/ready': { answers: ['200', '503'], parameters: [], body: undefined, bearer: false },
      'GET /metrics': { answers: ['200'], parameters: [], body: undefined, bearer: false },
      'POST /conversations': secured(['201', '400', '401', '413', '415'], [], 'CreateConversationDto'),
      'GET /conversations/{id}/messages': secured(['200', '400', '401', '404'], ['path:id', 'query:last']),
      'POST /conversations/{id}/messages': secured(
        ['201', '400', '401', '404', '413', '415'],
        ['path:id'],
        'AppendMessagesDto',
      ),
      'DELETE /conversations/{id}': secured(['204', '400', '401', '404'], ['path:id']),
      'PUT /users/{userId}/embeddings': secured(
        ['204', '400', '401', '413', '415'],
        ['path:userId'],
        'CacheEmbeddingDto',
      ),
      'DELETE /users/{userId}/embeddings': secured(['204', '400', '401', '503'], ['path:userId']),
      'POST /users/{userId}/embeddings/lookup': secured(
        ['200', '400', '401', '404', '413', '415'],
        ['path:userId'],
        'TextDto',
      ),
      'POST /users/{userId}/embeddings/embed': secured(
        ['200', '400', '401', '413', '415'],
        ['path:userId'],
        'EmbedTextsDto',
      ),
      'POST /chat': secured(['200', '400', '401', '413', '415'], [], 'ChatRequestDto'),
    });
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(document.components.schemas.MessageInput.properties.role.enum).toEqual([
      'user',
      'assistant',
      'system',
      'tool',
    ]);
    expect(document.components.schemas.ErrorResponse.required).toEqual(['statusCode', 'message', 'error']);
    const chat = document.paths['/chat'].post.responses['200'];
    expect(Object.keys(chat.content)).toEqual(['text/event-stream']);
    expect(chat.headers['X-Cache'].schema.enum).toEqual(['HIT', 'MISS', 'COALESCED', 'BYPASS']);
  });
});

/** The demo, with every line it logs kept in `lines`, as written. */
async function bootWithLogLines(environment: Record<string, string>) {
  const lines: string[] = [];
  const destination = new PassThrough();
  destination.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  // nestjs-pino keeps the first app's logger for the whole process; each test needs its own
  __resetOutOfContextForTests();
  const app = await bootDemo(environment, {
    override: (builder) => builder.overrideProvider(LOG_DESTINATION).useValue(destination),
    beforeInit: (nest) => nest.useLogger(nest.get(Logger)),
  });
  return { app, lines };
}

describe('logs', () => {
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(() => redis.stop());

  it('are JSON lines, with Redis passwords masked and the Authorization header censored', async () => {
    // the server has no password: ioredis warns that one was given, and connects
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const url = `redis://:s3cret-pass@127.0.0.1:${redis.port}`;
    const { app, lines } = await bootWithLogLines({ REDIS_URL: url, LOG_LEVEL: 'info', API_KEY });
    try {
      await request(app.getHttpServer()).post('/conversations').set('Authorization', `Bearer ${API_KEY}`).expect(201);
    } finally {
      await app.close();
      warn.mockRestore();
    }

    const entries = lines.map((line) => JSON.parse(line));
    expect(entries.map((entry) => entry.msg)).toContain(
      `Redis connections: local redis://:***@127.0.0.1:${redis.port}, shared redis://:***@127.0.0.1:${redis.port}` +
        ' (no REDIS_SHARED_* variable is set: messages use the local Redis)',
    );
    const completed = entries.find((entry) => entry.msg === 'request completed');
    expect(completed).toMatchObject({
      level: 30,
      req: { method: 'POST', url: '/conversations', headers: { authorization: '***' } },
      res: { statusCode: 201 },
    });
    expect(lines.some((line) => line.includes('s3cret-pass') || line.includes(API_KEY))).toBe(false);
  });

  it('log a body the app cannot read as a client error: one request line at info, without an error or a stack', async () => {
    const { app, lines } = await bootWithLogLines({ REDIS_URL: redis.url, LOG_LEVEL: 'info' });
    try {
      await request(app.getHttpServer())
        .post('/conversations')
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', 'gzip')
        .send('{"title":"not gzip"}')
        .expect(400);
    } finally {
      await app.close();
    }

    const entries = lines.map((line) => JSON.parse(line));
    expect(entries.filter((entry) => entry.msg === 'request completed')).toEqual([
      expect.objectContaining({
        level: 30,
        req: expect.objectContaining({ method: 'POST', url: '/conversations' }),
        res: expect.objectContaining({ statusCode: 400 }),
      }),
    ]);
    expect(entries.filter((entry) => entry.level >= 40)).toEqual([]);
    expect(lines.filter((line) => line.includes('"stack"'))).toEqual([]);
  });

  it('log a failure of the app at error, and answer it with the fields of every other error answer', async () => {
    const { app, lines } = await bootWithLogLines({ REDIS_URL: redis.url, LOG_LEVEL: 'info' });
    try {
      // the database closed under the app: its next query throws
      app.get<ConversationRepository, SqliteConversationRepository>(ConversationRepository).onApplicationShutdown();
      const response = await request(app.getHttpServer()).post('/conversations').send({ title: 't' }).expect(500);
      expect(response.body).toEqual({
        statusCode: 500,
        error: 'Internal Server Error',
        message: 'Internal server error',
      });
    } finally {
      await app.close();
    }

    const entries = lines.map((line) => JSON.parse(line));
    // logged as Nest logs an unknown error, within the request; its `err` is missing here only because under Jest
    // an error thrown by a native addon (better-sqlite3) is not an instance of the test realm's Error
    expect(entries.filter((entry) => entry.level >= 50)).toEqual([
      expect.objectContaining({
        context: 'ExceptionsHandler',
        req: expect.objectContaining({ url: '/conversations' }),
      }),
    ]);
  });

  it('at warn write no line per request, and the lines written during a request carry the request', async () => {
    const server = await RedisServer.start();
    const { app, lines } = await bootWithLogLines({ REDIS_URL: server.url, LOG_LEVEL: 'warn', API_KEY });
    try {
      await request(app.getHttpServer()).post('/conversations').set('Authorization', `Bearer ${API_KEY}`).expect(201);
      await server.stop();
      // Terminus logs the failed check at error level, within the request
      await request(app.getHttpServer())
        .get('/health/ready?probe=1')
        .set('Authorization', `Bearer ${API_KEY}`)
        .expect(503);
    } finally {
      await app.close();
    }

    const entries = lines.map((line) => JSON.parse(line));
    expect(entries.filter((entry) => entry.msg === 'request completed')).toEqual([]);
    const failed = entries.find((entry) => String(entry.msg).startsWith('Health Check has failed!'));
    expect(failed).toMatchObject({
      level: 50,
      req: { method: 'GET', url: '/health/ready?probe=1', headers: { authorization: '***' } },
    });
    expect(entries.every((entry) => entry.level >= 40)).toBe(true);
    expect(lines.some((line) => line.includes(API_KEY))).toBe(false);
  });
});
