import { STATUS_CODES } from 'node:http';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import type { NestExpressApplication } from '@nestjs/platform-express';
import fc from 'fast-check';
import request from 'supertest';
import { startDemoStack, type DemoStack } from './support/demo-stack';

/** Any UTF-16 code unit, lone surrogates and control characters included. */
const anyChar = fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code));
const anyString = fc.oneof(fc.string({ unit: anyChar }), fc.string(), fc.constantFrom('', ' ', 'x'.repeat(100_001)));

/** A path segment: a valid id, arbitrary text percent-encoded, or encodings that do not decode. */
const segment = fc.oneof(
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9_.:-]{1,128}$/), weight: 2 },
  fc.string({ unit: anyChar }).map((text) => encodeURIComponent(text.toWellFormed()) || 'x'),
  fc.constantFrom('%', '%zz', '%ff', '%E0%80', '%ED%A0%80', '%00', '..', '%2e%2e', 'a%2Fb', 'x'.repeat(129), '{a}'),
);

const role = fc.oneof(fc.constantFrom('user', 'assistant', 'system', 'tool'), fc.jsonValue());
const message = fc.oneof(
  fc.record(
    {
      role,
      content: fc.oneof(anyString, fc.jsonValue()),
      name: fc.oneof(anyString, fc.jsonValue()),
      id: fc.jsonValue(),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue(),
);
const embedding = fc.oneof(
  fc.array(fc.double(), { maxLength: 400 }),
  fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1, max: 1 }), { minLength: 384, maxLength: 384 }),
  fc.jsonValue(),
);

/** Bodies shaped like the real ones with arbitrary values, and arbitrary JSON. */
const jsonBody = fc.oneof(
  fc.record({ messages: fc.oneof(fc.array(message, { maxLength: 120 }), fc.jsonValue()) }, { requiredKeys: [] }),
  fc.record({ text: fc.oneof(anyString, fc.jsonValue()), embedding }, { requiredKeys: [] }),
  fc.record({ texts: fc.oneof(fc.array(fc.oneof(anyString, fc.jsonValue()), { maxLength: 300 }), fc.jsonValue()) }),
  fc.record({ title: fc.oneof(anyString, fc.jsonValue()) }, { requiredKeys: [] }),
  fc.jsonValue(),
  fc.dictionary(fc.string({ unit: anyChar }), fc.jsonValue()),
);

/** Objects and arrays nested `depth` deep in a field of a body, past the limit of 64 or within it. */
function nested(field: string, depth: number): string {
  return `{"${field}":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
}
const deepJson = fc
  .tuple(
    fc.constantFrom('title', 'messages', 'text', 'texts', 'embedding', 'tenant'),
    fc.integer({ min: 2, max: 3000 }),
  )
  .map(([field, depth]) => nested(field, depth));

const COMPRESS: Record<string, (text: string) => Buffer> = {
  gzip: gzipSync,
  deflate: deflateSync,
  br: brotliCompressSync,
};

/** Raw bodies: malformed or deep JSON, other media types, compressed or garbage under a Content-Encoding. */
const rawBody = fc.record({
  contentType: fc.constantFrom(
    'application/json',
    'application/json; charset=latin1',
    'application/json; charset=utf-16',
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/octet-stream',
  ),
  text: fc.oneof(
    fc.string({ unit: anyChar }),
    fc.constantFrom('{', '{"messages":[', '[1,', '{"a":1}}', '\u0000', 'a=b&a=c', 'null'),
    deepJson,
  ),
  encoding: fc.constantFrom('identity', 'gzip', 'deflate', 'br', 'x-unknown'),
  compressed: fc.boolean(),
});

const JSON_AS_IS = { contentType: 'application/json', encoding: 'identity', compressed: false };

/** The bytes of a raw body: compressed as its Content-Encoding says, or, when not `compressed`, its text as it is. */
function bytesOf({ text, encoding, compressed }: { text: string; encoding: string; compressed: boolean }): Buffer {
  const compress = COMPRESS[encoding];
  return compressed && compress ? compress(text) : Buffer.from(text);
}

const query = fc.oneof(
  fc.constant(''),
  fc.constantFrom('last=1', 'last=0', 'last=-1', 'last=1e3', 'last=1.5', 'last=', 'last=1&last=2', 'last[a]=1', 'x=1'),
  fc.string({ unit: anyChar }).map((text) => `last=${encodeURIComponent(text.toWellFormed())}`),
);

const noBody = fc.constant({});
const vector = fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1, max: 1 }), {
  minLength: 384,
  maxLength: 384,
});
const validMessages = fc.array(fc.record({ role: fc.constantFrom('user', 'tool'), content: fc.string() }), {
  minLength: 1,
  maxLength: 3,
});

/** Each route, with bodies it accepts, so that the run reaches past validation too. */
const ROUTES = [
  ['post', () => '/conversations', fc.record({ title: fc.string() }, { requiredKeys: [] })],
  ['get', (id: string) => `/conversations/${id}/messages`, noBody],
  ['post', (id: string) => `/conversations/${id}/messages`, fc.record({ messages: validMessages })],
  ['delete', (id: string) => `/conversations/${id}`, noBody],
  ['put', (id: string) => `/users/${id}/embeddings`, fc.record({ text: fc.string(), embedding: vector })],
  ['post', (id: string) => `/users/${id}/embeddings/lookup`, fc.record({ text: fc.string() })],
  [
    'post',
    (id: string) => `/users/${id}/embeddings/embed`,
    fc.record({ texts: fc.array(fc.string(), { minLength: 1 }) }),
  ],
  ['delete', (id: string) => `/users/${id}/embeddings`, noBody],
  [
    'post',
    () => '/chat',
    fc.record(
      {
        messages: fc.array(fc.record({ role: fc.constantFrom('user', 'assistant'), content: fc.string() }), {
          minLength: 1,
          maxLength: 3,
        }),
        tenant: fc.oneof(segment, fc.jsonValue()),
      },
      { requiredKeys: ['messages'] },
    ),
  ],
] as const;

const routeAndBody = fc
  .integer({ min: 0, max: ROUTES.length - 1 })
  .chain((index) =>
    fc.tuple(
      fc.constant(index),
      fc.oneof(
        { arbitrary: fc.oneof(ROUTES[index][2], jsonBody).map((json) => ({ json })), weight: 3 },
        { arbitrary: rawBody.map((raw) => ({ raw })), weight: 1 },
        { arbitrary: deepJson.map((text) => ({ raw: { ...JSON_AS_IS, text } })), weight: 1 },
      ),
    ),
  );

const ANSWERS = [200, 201, 204, 400, 404, 413, 415];

describe('fuzzing every route with generated input', () => {
  let stack: DemoStack;
  let app: NestExpressApplication;

  beforeAll(async () => {
    // the chat's model at full speed: 400 requests must not wait for tokens
    stack = await startDemoStack({ CHAT_TOKEN_LATENCY_MS: '0' });
    app = stack.app;
  });
  afterAll(() => stack.close());

  it('never answers 500: every answer is a success, 400, 404, 413 or 415, and errors say what was wrong', async () => {
    const server = app.getHttpServer();
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(routeAndBody, segment, query, async ([routeIndex, body], id, search) => {
        const [method, path] = ROUTES[routeIndex];
        const url = search ? `${path(id)}?${search}` : path(id);
        const call = request(server)[method](url);
        const response = await ('json' in body
          ? call.set('Content-Type', 'application/json').send(JSON.stringify(body.json))
          : call
              .set('Content-Type', body.raw.contentType)
              .set('Content-Encoding', body.raw.encoding)
              .serialize((bytes: Buffer) => bytes as unknown as string)
              .send(bytesOf(body.raw)));
        statuses.add(response.status);
        expect(ANSWERS).toContain(response.status);
        if (response.status >= 400) {
          expect(response.body.statusCode).toBe(response.status);
          expect(response.body.error).toBe(STATUS_CODES[response.status]);
          expect(response.body.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 400 },
    );
    // the generators reach past validation, not only its refusals
    expect([...statuses].sort()).toEqual(expect.arrayContaining([200, 201, 204, 400, 404, 415]));
  }, 60_000); // 400 requests: about 2 s alone, far more on a loaded 2-core machine
});

describe('bodies the API cannot use', () => {
  let stack: DemoStack;
  let http: ReturnType<typeof request>;
  let conversation: string;

  beforeAll(async () => {
    stack = await startDemoStack();
    http = request(stack.app.getHttpServer());
    conversation = (await http.post('/conversations').expect(201)).body.id;
  });
  afterAll(() => stack.close());

  const badRequest = (message: string | string[]) => ({ statusCode: 400, error: 'Bad Request', message });
  const notJson = (type: string) => ({
    statusCode: 415,
    error: 'Unsupported Media Type',
    message: `The body must be JSON, with Content-Type: application/json (not ${type})`,
  });

  it.each([1_000, 100_000])(
    'answers 400 to objects and arrays nested %d deep, before validation, on both routes that take messages',
    async (depth) => {
      const tooDeep = badRequest('The body nests objects and arrays deeper than 64 levels');
      for (const url of ['/conversations', `/conversations/${conversation}/messages`]) {
        for (const field of ['title', 'messages']) {
          const response = await http.post(url).set('Content-Type', 'application/json').send(nested(field, depth));
          expect(response.body).toEqual(tooDeep);
        }
      }
    },
  );

  it('takes a body nested 64 deep to validation, and refuses one nested 65 deep', async () => {
    const within = await http.post('/conversations').set('Content-Type', 'application/json').send(nested('title', 64));
    expect(within.body).toEqual(badRequest(['title must be a string']));
    const past = await http.post('/conversations').set('Content-Type', 'application/json').send(nested('title', 65));
    expect(past.body).toEqual(badRequest('The body nests objects and arrays deeper than 64 levels'));
  });

  it.each(['gzip', 'deflate', 'br'])('answers 400 to a body that does not decompress as %s', async (encoding) => {
    const response = await http
      .post('/conversations')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', encoding)
      .send('{"title":"not compressed"}');
    expect(response.body).toEqual(badRequest(`The body could not be decompressed (Content-Encoding: ${encoding})`));
  });

  it('reads a body that decompresses, and answers 415 to a Content-Encoding it does not know', async () => {
    const compressed = await http
      .post('/conversations')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'gzip')
      .serialize((bytes: Buffer) => bytes as unknown as string)
      .send(gzipSync('{"title":"compressed"}'))
      .expect(201);
    expect(compressed.body.title).toBe('compressed');
    const unknown = await http
      .post('/conversations')
      .set('Content-Type', 'application/json')
      .set('Content-Encoding', 'x-unknown')
      .send('{"title":"x"}');
    expect(unknown.body).toEqual({
      statusCode: 415,
      error: 'Unsupported Media Type',
      message: 'unsupported content encoding "x-unknown"',
    });
  });

  it('answers 400 to null, saying it is not an object rather than not JSON', async () => {
    const response = await http.post('/conversations').set('Content-Type', 'application/json').send('null');
    expect(response.body).toEqual(badRequest(['body must be a JSON object, not null']));
  });

  it.each([
    ['application/x-www-form-urlencoded', 'title=x'],
    ['text/plain', 'hello'],
    ['application/octet-stream', '{"title":"x"}'],
  ])('answers 415 to a %s body on the routes that take JSON', async (type, body) => {
    for (const url of ['/conversations', `/conversations/${conversation}/messages`, '/users/u1/embeddings/embed']) {
      const response = await http.post(url).set('Content-Type', type).send(body);
      expect(response.body).toEqual(notJson(type));
    }
  });

  it('answers 415 to a body without a Content-Type', async () => {
    const response = await http
      .post('/conversations')
      .serialize((bytes: Buffer) => bytes as unknown as string)
      .send(Buffer.from('{"title":"x"}'));
    expect(response.body).toEqual({
      statusCode: 415,
      error: 'Unsupported Media Type',
      message: 'The body must be JSON, with Content-Type: application/json (it has no Content-Type)',
    });
  });

  it("reads bodies with the demo's JSON parser alone: Nest's own JSON and form parsers are not mounted", () => {
    const layers = stack.app.getHttpAdapter().getInstance().router.stack as { handle: { name: string } }[];
    expect(layers.map((layer) => layer.handle.name).filter((name) => name.endsWith('Parser'))).toEqual(['textParser']);
  });
});
