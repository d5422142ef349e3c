import { gzipSync } from 'node:zlib';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { MessageCacheService } from '@wbot/redis-cache';
import request from 'supertest';
import { ConversationRepository } from '../src/database/conversation.repository';
import { startDemoStack, type DemoStack } from './support/demo-stack';

const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const user = (content: string) => ({ role: 'user', content });

describe('conversations', () => {
  let stack: DemoStack;
  let app: NestExpressApplication;
  let http: ReturnType<typeof request>;

  beforeAll(async () => {
    stack = await startDemoStack();
    app = stack.app;
    http = request(app.getHttpServer());
  });
  afterAll(() => stack.close());

  async function createConversation(): Promise<string> {
    const response = await http.post('/conversations').expect(201);
    return response.body.id;
  }

  function cached(id: string) {
    return app.get(MessageCacheService).getCachedMessages(id);
  }

  describe('POST /conversations', () => {
    it('creates a conversation and answers 201 with its generated id and creation time', async () => {
      const response = await http.post('/conversations').send({ title: 'Trip to Lisbon' }).expect(201);
      expect(Object.keys(response.body).sort()).toEqual(['createdAt', 'id', 'title']);
      expect(response.body.id).toMatch(UUID);
      expect(response.body.title).toBe('Trip to Lisbon');
      expect(response.body.createdAt).toMatch(ISO_DATE);
      expect(await app.get(ConversationRepository).listMessages(response.body.id)).toEqual([]);
    });

    it('accepts no body at all', async () => {
      const response = await http.post('/conversations').expect(201);
      expect(Object.keys(response.body).sort()).toEqual(['createdAt', 'id']);
    });

    it.each([
      [{ title: 'x'.repeat(201) }, 'title must be shorter than or equal to 200 characters'],
      [{ title: 7 }, 'title must be a string'],
      [{ owner: 'me' }, 'owner should not exist'],
    ])('answers 400 naming the field for %j', async (body, message) => {
      const response = await http.post('/conversations').send(body).expect(400);
      expect(response.body.message).toContain(message);
    });
  });

  describe('GET /conversations/:id/messages', () => {
    it('answers 404 for a conversation that does not exist, and caches nothing', async () => {
      const response = await http.get('/conversations/no-such-conversation/messages').expect(404);
      expect(response.body).toEqual({
        statusCode: 404,
        error: 'Not Found',
        message: 'Conversation no-such-conversation not found',
      });
      expect(await cached('no-such-conversation')).toBeNull();
    });

    it('answers MISS from SQLite on the first read, then HIT from Redis with the same messages', async () => {
      const id = await createConversation();
      const posted = await http
        .post(`/conversations/${id}/messages`)
        .send({ messages: [{ role: 'user', content: 'Hello' }] })
        .expect(201);

      const first = await http.get(`/conversations/${id}/messages`).expect(200);
      expect(first.headers['x-cache']).toBe('MISS');
      const second = await http.get(`/conversations/${id}/messages`).expect(200);
      expect(second.headers['x-cache']).toBe('HIT');
      expect(first.body).toEqual(posted.body);
      expect(second.body).toEqual(posted.body);
      expect(await cached(id)).toEqual(posted.body.messages);
    });

    it('answers a HIT with the JSON of the messages as cached, byte for byte, as a MISS answers it', async () => {
      const id = await createConversation();
      await http
        .post(`/conversations/${id}/messages`)
        .send({
          messages: [
            { role: 'user', content: 'Grüße "quoted" 👋' },
            { role: 'assistant', content: 'ok', name: 'bot' },
          ],
        })
        .expect(201);
      const miss = await http.get(`/conversations/${id}/messages`).expect(200);
      const hit = await http.get(`/conversations/${id}/messages`).expect(200);
      expect([miss.headers['x-cache'], hit.headers['x-cache']]).toEqual(['MISS', 'HIT']);
      expect(hit.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(hit.text).toBe(miss.text);
      expect(hit.text).toBe(JSON.stringify({ messages: await app.get(MessageCacheService).getCachedMessages(id) }));
    });

    it('caches an empty conversation: MISS, then HIT with no messages', async () => {
      const id = await createConversation();
      const first = await http.get(`/conversations/${id}/messages`).expect(200);
      const second = await http.get(`/conversations/${id}/messages`).expect(200);
      expect([first.headers['x-cache'], second.headers['x-cache']]).toEqual(['MISS', 'HIT']);
      expect(second.body).toEqual({ messages: [] });
    });

    it('returns only the last N messages with ?last=N, on a miss and on a hit alike', async () => {
      const id = await createConversation();
      const contents = ['one', 'two', 'three', 'four'];
      await http
        .post(`/conversations/${id}/messages`)
        .send({ messages: contents.map((content) => ({ role: 'user', content })) })
        .expect(201);

      const miss = await http.get(`/conversations/${id}/messages?last=2`).expect(200);
      const hit = await http.get(`/conversations/${id}/messages?last=2`).expect(200);
      const beyond = await http.get(`/conversations/${id}/messages?last=10`).expect(200);
      expect([miss.headers['x-cache'], hit.headers['x-cache']]).toEqual(['MISS', 'HIT']);
      expect(miss.body.messages.map((m: { content: string }) => m.content)).toEqual(['three', 'four']);
      expect(hit.body).toEqual(miss.body);
      expect(beyond.body.messages.map((m: { content: string }) => m.content)).toEqual(contents);
    });

    it.each([
      ['0', 'last must not be less than 1'],
      ['-1', 'last must not be less than 1'],
      ['', 'last must not be less than 1'],
      ['1.5', 'last must be an integer number'],
      ['abc', 'last must be an integer number'],
      ['10001', 'last must not be greater than 10000'],
    ])('answers 400 for ?last=%s with one line, the first rule it breaks: %s', async (last, line) => {
      const response = await http.get(`/conversations/any-id/messages?last=${last}`).expect(400);
      expect(response.body).toEqual({ statusCode: 400, error: 'Bad Request', message: [line] });
    });

    it('answers 400 naming last when it is given twice', async () => {
      const response = await http.get('/conversations/any-id/messages?last=1&last=2').expect(400);
      expect(response.body.message).toEqual(['last must be an integer number']);
    });

    it('answers 400 naming an unknown query parameter', async () => {
      const response = await http.get('/conversations/any-id/messages?first=1').expect(400);
      expect(response.body.message).toEqual(['first should not exist']);
    });

    it.each([
      ['x'.repeat(129), 'too long'],
      ['has%20space', 'a space'],
      ['%C3%A9t%C3%A9', 'non-ASCII letters'],
      ['a%2Fb', 'a slash'],
      ['%7Bhash%7D', 'braces'],
    ])('answers 400 naming id for an id that is %s (%s)', async (id) => {
      const response = await http.get(`/conversations/${id}/messages`).expect(400);
      expect(response.body.message).toEqual(['id must be 1 to 128 characters from A-Z, a-z, 0-9 and _ . : -']);
    });

    it('accepts an id of exactly 128 allowed characters', async () => {
      await http.get(`/conversations/${'a.b:c_d-'.repeat(16)}/messages`).expect(404);
    });
  });

  describe('POST /conversations/:id/messages', () => {
    it('commits the messages and answers 201 with them as stored, with their database ids', async () => {
      const id = await createConversation();
      const response = await http
        .post(`/conversations/${id}/messages`)
        .send({
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: 'Weather in Lisbon? ☀️' },
            { role: 'tool', content: '{"temp":21}', name: 'weather' },
            { role: 'assistant', content: '' },
          ],
        })
        .expect(201);
      const messages = response.body.messages;
      expect(messages.map(({ id: _id, createdAt: _createdAt, ...rest }: Record<string, unknown>) => rest)).toEqual([
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Weather in Lisbon? ☀️' },
        { role: 'tool', content: '{"temp":21}', name: 'weather' },
        { role: 'assistant', content: '' },
      ]);
      const ids = messages.map((m: { id: number }) => m.id);
      expect(ids).toEqual([ids[0], ids[0] + 1, ids[0] + 2, ids[0] + 3]);
      expect(messages.every((m: { createdAt: string }) => ISO_DATE.test(m.createdAt))).toBe(true);
      expect(await app.get(ConversationRepository).listMessages(id)).toEqual(messages);
    });

    it('appends to the cached conversation (write-through), so the next read is a HIT with the new messages', async () => {
      const id = await createConversation();
      await http.post(`/conversations/${id}/messages`).send({ messages: [{ role: 'user', content: 'a' }] });
      await http.get(`/conversations/${id}/messages`).expect(200);
      const added = await http
        .post(`/conversations/${id}/messages`)
        .send({ messages: [{ role: 'assistant', content: 'b' }] })
        .expect(201);

      const read = await http.get(`/conversations/${id}/messages`).expect(200);
      expect(read.headers['x-cache']).toBe('HIT');
      expect(read.body.messages.map((m: { content: string }) => m.content)).toEqual(['a', 'b']);
      expect(read.body.messages[1]).toEqual(added.body.messages[0]);
    });

    it('does not create a cache entry when the conversation is not cached', async () => {
      const id = await createConversation();
      await http.post(`/conversations/${id}/messages`).send({ messages: [{ role: 'user', content: 'a' }] });
      expect(await cached(id)).toBeNull();
    });

    it('keeps the cache idempotent: re-appending stored messages adds nothing, because each carries its id', async () => {
      const id = await createConversation();
      await http.get(`/conversations/${id}/messages`).expect(200);
      const posted = await http
        .post(`/conversations/${id}/messages`)
        .send({ messages: [{ role: 'user', content: 'once' }] })
        .expect(201);
      expect(await app.get(MessageCacheService).appendMessages(id, posted.body.messages)).toBe(true);
      expect(await cached(id)).toEqual(posted.body.messages);
    });

    it('answers 404 for a conversation that does not exist, and stores nothing', async () => {
      const response = await http
        .post('/conversations/missing/messages')
        .send({ messages: [{ role: 'user', content: 'a' }] })
        .expect(404);
      expect(response.body.message).toBe('Conversation missing not found');
      expect(await app.get(ConversationRepository).listMessages('missing')).toBeNull();
    });

    it.each([
      ['an empty messages array', { messages: [] }, 'messages should not be empty'],
      [
        '101 messages',
        { messages: Array.from({ length: 101 }, () => user('x')) },
        'messages must contain no more than 100 elements',
      ],
      ['no messages field', {}, 'messages must be an array'],
      ['messages that is an object', { messages: { role: 'user' } }, 'messages must be an array'],
      [
        'content over 100k characters',
        { messages: [user('x'.repeat(100_001))] },
        'messages.0.content must be shorter than or equal to 100000 characters',
      ],
      [
        'an unknown role',
        { messages: [user('ok'), { role: 'robot', content: 'beep' }] },
        'messages.1.role must be one of the following values: user, assistant, system, tool',
      ],
      ['a missing content', { messages: [{ role: 'user' }] }, 'messages.0.content must be a string'],
      ['a numeric content', { messages: [{ role: 'user', content: 5 }] }, 'messages.0.content must be a string'],
      [
        'a lone surrogate in content',
        { messages: [user('bad \ud800 text')] },
        'messages.0.content must be well-formed Unicode (it has a lone surrogate)',
      ],
      ['an unknown message field', { messages: [{ ...user('a'), id: 7 }] }, 'messages.0.id should not exist'],
      ['an unknown top-level field', { messages: [user('a')], force: true }, 'force should not exist'],
      ['a message that is an array', { messages: [[]] }, 'messages.0 must be an object'],
      ['a message that is not an object', { messages: [user('a'), 'hello'] }, 'messages.1 must be an object'],
    ])('answers 400 naming the field for %s, and stores nothing', async (_case, body, message) => {
      const id = await createConversation();
      const response = await http.post(`/conversations/${id}/messages`).send(body).expect(400);
      expect(response.body.message).toContain(message);
      expect(await app.get(ConversationRepository).listMessages(id)).toEqual([]);
    });

    it('accepts content of exactly 100k characters', async () => {
      const id = await createConversation();
      await http
        .post(`/conversations/${id}/messages`)
        .send({ messages: [user('é'.repeat(100_000))] })
        .expect(201);
    });

    it('answers 400 naming id for a bad conversation id', async () => {
      const response = await http
        .post('/conversations/a*b/messages')
        .send({ messages: [user('a')] })
        .expect(400);
      expect(response.body.message).toEqual(['id must be 1 to 128 characters from A-Z, a-z, 0-9 and _ . : -']);
    });

    it('leaves the database and the cache identical after 50 concurrent appends to one conversation', async () => {
      const id = await createConversation();
      await http.get(`/conversations/${id}/messages`).expect(200);
      const responses = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          http
            .post(`/conversations/${id}/messages`)
            .send({ messages: [user(`question ${i}`), { role: 'assistant', content: `answer ${i}` }] }),
        ),
      );
      expect(responses.map((response) => response.status)).toEqual(Array(50).fill(201));

      const inDatabase = await app.get(ConversationRepository).listMessages(id);
      expect(inDatabase).toHaveLength(100);
      expect(await cached(id)).toEqual(inDatabase);
      const read = await http.get(`/conversations/${id}/messages`).expect(200);
      expect(read.headers['x-cache']).toBe('HIT');
      expect(read.body.messages).toEqual(inDatabase);
      // each request's two messages are adjacent, in order
      for (let i = 0; i < 100; i += 2) {
        expect(inDatabase![i + 1].content).toBe(inDatabase![i].content.replace('question', 'answer'));
      }
    });
  });

  describe('DELETE /conversations/:id', () => {
    it('deletes from the database and the cache and answers 204; the conversation is then 404', async () => {
      const id = await createConversation();
      await http.post(`/conversations/${id}/messages`).send({ messages: [{ role: 'user', content: 'a' }] });
      await http.get(`/conversations/${id}/messages`).expect(200);
      expect(await cached(id)).not.toBeNull();

      const response = await http.delete(`/conversations/${id}`).expect(204);
      expect(response.text).toBe('');
      expect(await cached(id)).toBeNull();
      expect(await app.get(ConversationRepository).listMessages(id)).toBeNull();
      await http.get(`/conversations/${id}/messages`).expect(404);
      await http.delete(`/conversations/${id}`).expect(404);
    });

    it('answers 400 naming id for a bad id', async () => {
      const response = await http.delete(`/conversations/${'x'.repeat(129)}`).expect(400);
      expect(response.body.message).toEqual(['id must be 1 to 128 characters from A-Z, a-z, 0-9 and _ . : -']);
    });
  });

  describe('request bodies', () => {
    it('answers 400 (never 500) for malformed JSON', async () => {
      const response = await http
        .post('/conversations')
        .set('Content-Type', 'application/json')
        .send('{"title": "unterminated')
        .expect(400);
      expect(response.body.statusCode).toBe(400);
      expect(response.body.message).toMatch(/^The body is not valid JSON: /);
    });

    it.each([
      ['[]', 'an array'],
      ['"text"', 'a string'],
      ['42', 'a number'],
      ['true', 'a boolean'],
      [' null ', 'null'],
    ])('answers 400 for a JSON body that is not an object: %s', async (body, kind) => {
      const response = await http.post('/conversations').set('Content-Type', 'application/json').send(body);
      expect(response.body).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: [`body must be a JSON object, not ${kind}`],
      });
    });

    it.each([
      ['no body and no Content-Type', undefined],
      ['an empty body of another media type', 'text/plain'],
      ['an empty JSON body', 'application/json'],
    ])('creates a conversation without a title from %s', async (_case, type) => {
      const post = http.post('/conversations');
      const response = await (type ? post.set('Content-Type', type) : post).expect(201);
      expect(Object.keys(response.body).sort()).toEqual(['createdAt', 'id']);
    });

    it('reads JSON in UTF-16, as its charset says, and answers 415 for a charset that is not Unicode', async () => {
      const utf16 = await http
        .post('/conversations')
        .set('Content-Type', 'application/json; charset=utf-16le')
        .serialize((bytes: Buffer) => bytes as unknown as string)
        .send(Buffer.from('{"title":"Lisboa é linda"}', 'utf16le'))
        .expect(201);
      expect(utf16.body.title).toBe('Lisboa é linda');

      const latin1 = await http
        .post('/conversations')
        .set('Content-Type', 'application/json; charset=latin1')
        .send('{"title":"x"}')
        .expect(415);
      expect(latin1.body).toEqual({
        statusCode: 415,
        error: 'Unsupported Media Type',
        message: 'unsupported charset "LATIN1"',
      });
    });

    it('answers 413 for a body over the 2 MB limit', async () => {
      const id = await createConversation();
      const body = JSON.stringify({ messages: [user('x'.repeat(2 * 1024 * 1024))] });
      const response = await http
        .post(`/conversations/${id}/messages`)
        .set('Content-Type', 'application/json')
        .send(body)
        .expect(413);
      expect(response.body).toEqual({
        statusCode: 413,
        error: 'Payload Too Large',
        message: 'The body is over the limit of 2097152 bytes',
      });
    });

    it('answers 413 for a compressed body that is over the limit once decompressed', async () => {
      const id = await createConversation();
      const compressed = gzipSync(JSON.stringify({ messages: [user('x'.repeat(3 * 1024 * 1024))] }));
      expect(compressed.length).toBeLessThan(10_000);
      const response = await http
        .post(`/conversations/${id}/messages`)
        .set('Content-Type', 'application/json')
        .set('Content-Encoding', 'gzip')
        .serialize((bytes: Buffer) => bytes as unknown as string)
        .send(compressed)
        .expect(413);
      expect(response.body.message).toBe('The body is over the limit of 2097152 bytes');
    });
  });
});
