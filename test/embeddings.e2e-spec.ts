import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { FeatureHashingEmbedder } from '../src/embeddings/feature-hashing.embedder';
import { bootDemo } from './support/demo-app';
import { connectionsReady, startDemoStack, type DemoStack } from './support/demo-stack';

/** A vector whose values are exact in float32, so it reads back identical. */
function exactVector(dimensions: number, seed: number): number[] {
  return Array.from({ length: dimensions }, (_, i) => ((i * 7 + seed) % 64) / 8 - 4);
}

/** What the default embedder gives for these texts, as the cache stores it (float32). */
async function embedded(texts: string[], dimensions = 384): Promise<number[][]> {
  const vectors = await new FeatureHashingEmbedder(dimensions).embed(texts);
  return vectors.map((vector) => Array.from(Float32Array.from(vector)));
}

/** A base64 answer read back as OpenAI's clients read it: little-endian float32 values. */
function decodeBase64(encoded: unknown): number[] {
  expect(encoded).toMatch(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
  const bytes = Buffer.from(encoded as string, 'base64');
  expect(bytes.length % 4).toBe(0);
  return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
}

describe('embeddings', () => {
  let stack: DemoStack;
  let app: NestExpressApplication;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    stack = await startDemoStack();
    app = stack.app;
    http = request(app.getHttpServer());
  });
  afterAll(() => stack.close());

  describe('PUT /users/:userId/embeddings and POST .../lookup', () => {
    it('stores a vector (204) that a lookup of the same text returns exactly (200, HIT)', async () => {
      const embedding = exactVector(384, 1);
      const put = await http.put('/users/alice/embeddings').send({ text: 'Hello world', embedding }).expect(204);
      expect(put.text).toBe('');
      expect(put.headers['x-cache-write']).toBe('stored');

      const lookup = await http.post('/users/alice/embeddings/lookup').send({ text: 'Hello world' }).expect(200);
      expect(lookup.headers['x-cache']).toBe('HIT');
      expect(lookup.body).toEqual({ embedding });
    });

    it('answers 404 (MISS) for a text that is not cached, and for the same text of another user', async () => {
      await http
        .put('/users/bob/embeddings')
        .send({ text: 'mine', embedding: exactVector(384, 2) })
        .expect(204);
      const other = await http.post('/users/bob/embeddings/lookup').send({ text: 'not mine' }).expect(404);
      expect(other.headers['x-cache']).toBe('MISS');
      expect(other.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'No cached embedding for this text' });
      await http.post('/users/carol/embeddings/lookup').send({ text: 'mine' }).expect(404);
    });

    it('replaces the vector when the same text is stored again', async () => {
      await http
        .put('/users/dave/embeddings')
        .send({ text: 't', embedding: exactVector(384, 3) })
        .expect(204);
      await http
        .put('/users/dave/embeddings')
        .send({ text: 't', embedding: exactVector(384, 4) })
        .expect(204);
      const lookup = await http.post('/users/dave/embeddings/lookup').send({ text: 't' }).expect(200);
      expect(lookup.body.embedding).toEqual(exactVector(384, 4));
    });

    const vector = exactVector(384, 5);
    it.each([
      [
        'a vector of the wrong dimension count',
        { text: 't', embedding: [1, 2, 3] },
        'embedding must have exactly 384 dimensions (got 3)',
      ],
      ['an empty vector', { text: 't', embedding: [] }, 'embedding should not be empty'],
      [
        'a non-finite number (1e999 parses as Infinity)',
        { text: 't', embedding: '1e999' },
        'embedding must be an array',
      ],
      [
        'a number outside the float32 range',
        { text: 't', embedding: [...vector.slice(1), 1e39] },
        'embedding: each value in embedding must not be greater than 3.4028234663852886e+38',
      ],
      [
        'a string element',
        { text: 't', embedding: [...vector.slice(1), '1'] },
        'embedding: each value in embedding must be a number conforming to the specified constraints',
      ],
      [
        'a null element',
        { text: 't', embedding: [...vector.slice(1), null] },
        'embedding: each value in embedding must be a number conforming to the specified constraints',
      ],
      ['a missing text', { embedding: vector }, 'text must be a string'],
      ['a numeric text', { text: 12, embedding: vector }, 'text must be a string'],
      [
        'a text over 100k characters',
        { text: 'x'.repeat(100_001), embedding: vector },
        'text must be shorter than or equal to 100000 characters',
      ],
      [
        'a lone surrogate in the text',
        { text: '\udc00', embedding: vector },
        'text must be well-formed Unicode (it has a lone surrogate)',
      ],
      ['an unknown field', { text: 't', embedding: vector, model: 'x' }, 'model should not exist'],
    ])('PUT answers 400 naming the field for %s', async (_case, body, message) => {
      const response = await http.put('/users/erin/embeddings').send(body).expect(400);
      expect(response.body.message).toContain(message);
    });

    it('PUT answers 400 naming embedding for Infinity written as 1e999', async () => {
      const body = `{"text":"t","embedding":[${vector.slice(1).join(',')},1e999]}`;
      const response = await http
        .put('/users/erin/embeddings')
        .set('Content-Type', 'application/json')
        .send(body)
        .expect(400);
      expect(response.body.message).toContain(
        'embedding: each value in embedding must be a number conforming to the specified constraints',
      );
      await http.post('/users/erin/embeddings/lookup').send({ text: 't' }).expect(404);
    });

    it.each([
      ['put', '/users/x%20y/embeddings', { text: 't', embedding: vector }],
      ['post', '/users/x%20y/embeddings/lookup', { text: 't' }],
      ['post', '/users/x%20y/embeddings/embed', { texts: ['t'] }],
      ['delete', '/users/x%20y/embeddings', undefined],
      ['put', `/users/${'u'.repeat(129)}/embeddings`, { text: 't', embedding: vector }],
    ] as const)('%s %s answers 400 naming userId', async (method, path, body) => {
      const response = await http[method](path).send(body).expect(400);
      expect(response.body.message).toContain('userId must be 1 to 128 characters from A-Z, a-z, 0-9 and _ . : -');
    });

    it.each([
      [{}, 'text must be a string'],
      [{ text: ['a'] }, 'text must be a string'],
      [{ text: 'a', extra: 1 }, 'extra should not exist'],
    ])('lookup answers 400 naming the field for %j', async (body, message) => {
      const response = await http.post('/users/erin/embeddings/lookup').send(body).expect(400);
      expect(response.body.message).toContain(message);
    });
  });

  describe('POST /users/:userId/embeddings/embed', () => {
    it('computes missing texts with the local embedder, caches them, and reports which came from the cache', async () => {
      const first = await http
        .post('/users/frank/embeddings/embed')
        .send({ texts: ['red apple', 'green pear'] })
        .expect(200);
      expect(first.body).toEqual({ embeddings: await embedded(['red apple', 'green pear']), cached: [false, false] });

      const second = await http
        .post('/users/frank/embeddings/embed')
        .send({ texts: ['green pear', 'yellow banana', 'red apple'] })
        .expect(200);
      expect(second.body).toEqual({
        embeddings: await embedded(['green pear', 'yellow banana', 'red apple']),
        cached: [true, false, true],
      });

      const lookup = await http.post('/users/frank/embeddings/lookup').send({ text: 'yellow banana' }).expect(200);
      expect(lookup.body.embedding).toEqual((await embedded(['yellow banana']))[0]);
    });

    it('computes a text repeated in one request once and returns it for each occurrence', async () => {
      const response = await http
        .post('/users/gina/embeddings/embed')
        .send({ texts: ['same', 'same'] })
        .expect(200);
      const [vector] = await embedded(['same']);
      expect(response.body).toEqual({ embeddings: [vector, vector], cached: [false, false] });
    });

    it('returns a vector stored with PUT instead of computing one', async () => {
      const embedding = exactVector(384, 6);
      await http.put('/users/hank/embeddings').send({ text: 'custom', embedding }).expect(204);
      const response = await http
        .post('/users/hank/embeddings/embed')
        .send({ texts: ['custom'] })
        .expect(200);
      expect(response.body).toEqual({ embeddings: [embedding], cached: [true] });
    });

    it.each([
      [{ texts: [] }, 'texts should not be empty'],
      [{ texts: 'one' }, 'texts must be an array'],
      [{}, 'texts must be an array'],
      [{ texts: Array.from({ length: 257 }, (_, i) => `t${i}`) }, 'texts must contain no more than 256 elements'],
      [{ texts: ['ok', 3] }, 'texts: each value in texts must be a string'],
      [
        { texts: ['x'.repeat(100_001)] },
        'texts: each value in texts must be shorter than or equal to 100000 characters',
      ],
      [{ texts: ['\ud800'] }, 'texts: each value in texts must be well-formed Unicode (it has a lone surrogate)'],
    ])('answers 400 naming texts for %#', async (body, message) => {
      const response = await http.post('/users/ivan/embeddings/embed').send(body).expect(400);
      expect(response.body.message).toContain(message);
    });
  });

  describe('encoding_format', () => {
    /** Full-precision numbers: stored as float32, so the float answer is rounded and base64 must match it exactly. */
    const precise = Array.from({ length: 384 }, (_, i) => Math.sin(i + 0.25) * 0.987654321);
    const ERROR = 'encoding_format must be one of the following values: float, base64';

    it('gives the looked-up vector as base64 of its little-endian float32 bytes, exactly the float answer', async () => {
      await http.put('/users/olga/embeddings').send({ text: 'precise', embedding: precise }).expect(204);
      const float = await http.post('/users/olga/embeddings/lookup').send({ text: 'precise' }).expect(200);
      const explicit = await http
        .post('/users/olga/embeddings/lookup')
        .send({ text: 'precise', encoding_format: 'float' })
        .expect(200);
      const base64 = await http
        .post('/users/olga/embeddings/lookup')
        .send({ text: 'precise', encoding_format: 'base64' })
        .expect(200);

      expect(float.body.embedding).toEqual(Array.from(Float32Array.from(precise)));
      expect(explicit.body).toEqual(float.body);
      expect(base64.headers['x-cache']).toBe('HIT');
      expect(Object.keys(base64.body)).toEqual(['embedding']);
      expect(typeof base64.body.embedding).toBe('string');
      expect(base64.body.embedding).toHaveLength((384 * 4 * 4) / 3);
      expect(decodeBase64(base64.body.embedding)).toEqual(float.body.embedding);
    });

    it('answers a base64 lookup that misses with the same 404 (MISS)', async () => {
      const response = await http
        .post('/users/olga/embeddings/lookup')
        .send({ text: 'never stored', encoding_format: 'base64' })
        .expect(404);
      expect(response.headers['x-cache']).toBe('MISS');
      expect(response.body).toEqual({
        statusCode: 404,
        error: 'Not Found',
        message: 'No cached embedding for this text',
      });
    });

    it('gives embedded vectors as base64, computed or cached, exactly the float answer', async () => {
      // computed for this request (base64), then cached (float), then a mix of both (base64)
      const computed = await http
        .post('/users/pete/embeddings/embed')
        .send({ texts: ['blue sky', 'grey cloud'], encoding_format: 'base64' })
        .expect(200);
      expect(computed.body.cached).toEqual([false, false]);
      const float = await http
        .post('/users/pete/embeddings/embed')
        .send({ texts: ['blue sky', 'grey cloud', 'white snow'] })
        .expect(200);
      expect(float.body.cached).toEqual([true, true, false]);
      const mixed = await http
        .post('/users/pete/embeddings/embed')
        .send({ texts: ['white snow', 'black night', 'blue sky'], encoding_format: 'base64' })
        .expect(200);
      expect(mixed.body.cached).toEqual([true, false, true]);

      expect(float.body.embeddings).toEqual(await embedded(['blue sky', 'grey cloud', 'white snow']));
      expect(computed.body.embeddings.map(decodeBase64)).toEqual(float.body.embeddings.slice(0, 2));
      const [, blackNight] = await embedded(['white snow', 'black night']);
      expect(mixed.body.embeddings.map(decodeBase64)).toEqual([
        float.body.embeddings[2],
        blackNight,
        float.body.embeddings[0],
      ]);
    });

    it('gives the same base64 for a vector stored with PUT, by lookup and by embed', async () => {
      await http.put('/users/quinn/embeddings').send({ text: 'mine', embedding: precise }).expect(204);
      const lookup = await http
        .post('/users/quinn/embeddings/lookup')
        .send({ text: 'mine', encoding_format: 'base64' })
        .expect(200);
      const embed = await http
        .post('/users/quinn/embeddings/embed')
        .send({ texts: ['mine'], encoding_format: 'base64' })
        .expect(200);
      expect(embed.body).toEqual({ embeddings: [lookup.body.embedding], cached: [true] });
    });

    it.each([['BASE64'], ['binary'], [''], [1], [['base64']], [{}]])(
      'answers 400 naming encoding_format for %j',
      async (encoding_format) => {
        const lookup = await http
          .post('/users/olga/embeddings/lookup')
          .send({ text: 'precise', encoding_format })
          .expect(400);
        expect(lookup.body.message).toEqual([ERROR]);
        const embed = await http
          .post('/users/olga/embeddings/embed')
          .send({ texts: ['precise'], encoding_format })
          .expect(400);
        expect(embed.body.message).toEqual([ERROR]);
      },
    );

    it('is no field of PUT, which takes a vector rather than giving one', async () => {
      const response = await http
        .put('/users/olga/embeddings')
        .send({ text: 'precise', embedding: precise, encoding_format: 'float' })
        .expect(400);
      expect(response.body.message).toEqual(['encoding_format should not exist']);
    });

    it('is documented in OpenAPI for lookup and embed, with both answer shapes', async () => {
      const { components, paths } = (await http.get('/docs-json').expect(200)).body;
      const field = { type: 'string', enum: ['float', 'base64'], default: 'float' };
      expect(components.schemas.TextDto.properties.encoding_format).toMatchObject(field);
      expect(components.schemas.TextDto.required).toEqual(['text']);
      expect(components.schemas.EmbedTextsDto.properties.encoding_format).toMatchObject(field);
      expect(components.schemas.CacheEmbeddingDto.properties.encoding_format).toBeUndefined();
      const shapes = [
        { type: 'array', items: { type: 'number' } },
        { type: 'string', format: 'byte' },
      ];
      expect(components.schemas.EmbeddingResponse.properties.embedding.oneOf).toMatchObject(shapes);
      expect(components.schemas.EmbeddingsResponse.properties.embeddings.items.oneOf).toMatchObject(shapes);
      const lookup = paths['/users/{userId}/embeddings/lookup'].post;
      expect(lookup.responses['200'].content['application/json'].schema.$ref).toBe(
        '#/components/schemas/EmbeddingResponse',
      );
    });
  });

  describe('DELETE /users/:userId/embeddings', () => {
    it("forgets all of the user's vectors (204) and no other user's", async () => {
      await http
        .put('/users/judy/embeddings')
        .send({ text: 'a', embedding: exactVector(384, 7) })
        .expect(204);
      await http
        .post('/users/judy/embeddings/embed')
        .send({ texts: ['b'] })
        .expect(200);
      await http
        .put('/users/kim/embeddings')
        .send({ text: 'a', embedding: exactVector(384, 8) })
        .expect(204);

      await http.delete('/users/judy/embeddings').expect(204);
      await http.post('/users/judy/embeddings/lookup').send({ text: 'a' }).expect(404);
      await http.post('/users/judy/embeddings/lookup').send({ text: 'b' }).expect(404);
      await http.post('/users/kim/embeddings/lookup').send({ text: 'a' }).expect(200);
      await http.delete('/users/judy/embeddings').expect(204);
    });
  });

  describe('with EMBEDDING_DIMENSIONS=3072', () => {
    let wide: NestExpressApplication;
    beforeAll(async () => {
      wide = await bootDemo({ REDIS_URL: stack.local.url, EMBEDDING_DIMENSIONS: '3072' });
      await connectionsReady(wide);
    });
    afterAll(() => wide.close());

    it('accepts a 3072-d vector of full-precision numbers within the body limit and returns it as float32', async () => {
      const embedding = Array.from({ length: 3072 }, (_, i) => Math.sin(i + 0.5) * 0.123456789012345);
      expect(JSON.stringify({ text: 't', embedding }).length).toBeGreaterThan(60_000);
      await request(wide.getHttpServer()).put('/users/wide/embeddings').send({ text: 't', embedding }).expect(204);
      const lookup = await request(wide.getHttpServer())
        .post('/users/wide/embeddings/lookup')
        .send({ text: 't' })
        .expect(200);
      expect(lookup.body.embedding).toEqual(Array.from(Float32Array.from(embedding)));
    });

    it('embeds to 3072 dimensions, and keeps them apart from the 384-d entries of the same user and text', async () => {
      await http
        .post('/users/wide/embeddings/embed')
        .send({ texts: ['shared text'] })
        .expect(200);
      const response = await request(wide.getHttpServer())
        .post('/users/wide/embeddings/embed')
        .send({ texts: ['shared text'] })
        .expect(200);
      expect(response.body).toEqual({ embeddings: await embedded(['shared text'], 3072), cached: [false] });
    });
  });
});
