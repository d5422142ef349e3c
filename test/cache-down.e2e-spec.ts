import type { NestExpressApplication } from '@nestjs/platform-express';
import request from 'supertest';
import { ConversationRepository } from '../src/database/conversation.repository';
import { FeatureHashingEmbedder } from '../src/embeddings/feature-hashing.embedder';
import { parseEvents } from './support/chat-client';
import { startDemoStack, type DemoStack } from './support/demo-stack';

async function embedded(texts: string[]): Promise<number[][]> {
  const vectors = await new FeatureHashingEmbedder(384).embed(texts);
  return vectors.map((vector) => Array.from(Float32Array.from(vector)));
}

describe('with both Redis servers down', () => {
  let stack: DemoStack;
  let app: NestExpressApplication;
  let http: ReturnType<typeof request>;
  let warm: string;
  const question = { messages: [{ role: 'user', content: 'Answered before the outage' }] };
  let answeredBefore: string;

  beforeAll(async () => {
    stack = await startDemoStack();
    app = stack.app;
    http = request(app.getHttpServer());
    // a conversation and embeddings cached while Redis was up
    warm = (await http.post('/conversations').expect(201)).body.id;
    await http.post(`/conversations/${warm}/messages`).send({ messages: [{ role: 'user', content: 'before' }] });
    await http.get(`/conversations/${warm}/messages`).expect(200);
    await http
      .post('/users/u/embeddings/embed')
      .send({ texts: ['cached text'] })
      .expect(200);
    const stored = await http.post('/chat').send(question).expect(200);
    expect(stored.headers['x-cache']).toBe('MISS');
    answeredBefore = stored.text;
    expect((await http.post('/chat').send(question).expect(200)).headers['x-cache']).toBe('HIT');
    await Promise.all([stack.local.kill(), stack.shared.kill()]);
  });
  afterAll(() => stack.close());

  it('creates, appends to and reads conversations from SQLite (X-Cache: MISS)', async () => {
    const { id } = (await http.post('/conversations').send({ title: 'offline' }).expect(201)).body;
    const posted = await http
      .post(`/conversations/${id}/messages`)
      .send({
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'hello' },
        ],
      })
      .expect(201);
    const read = await http.get(`/conversations/${id}/messages`).expect(200);
    expect(read.headers['x-cache']).toBe('MISS');
    expect(read.body).toEqual(posted.body);
    const last = await http.get(`/conversations/${id}/messages?last=1`).expect(200);
    expect(last.body.messages).toEqual([posted.body.messages[1]]);
  });

  it('serves a conversation that was cached before the outage, with the messages written during it', async () => {
    await http.post(`/conversations/${warm}/messages`).send({ messages: [{ role: 'user', content: 'during' }] });
    const read = await http.get(`/conversations/${warm}/messages`).expect(200);
    expect(read.headers['x-cache']).toBe('MISS');
    expect(read.body.messages).toEqual(await app.get(ConversationRepository).listMessages(warm));
    expect(read.body.messages.map((m: { content: string }) => m.content)).toEqual(['before', 'during']);
  });

  it('deletes a conversation from SQLite (204), which is then 404', async () => {
    const { id } = (await http.post('/conversations').expect(201)).body;
    await http.delete(`/conversations/${id}`).expect(204);
    await http.get(`/conversations/${id}/messages`).expect(404);
    await http
      .post(`/conversations/${id}/messages`)
      .send({ messages: [{ role: 'user', content: 'x' }] })
      .expect(404);
  });

  it('computes embeddings with the local embedder, none of them cached', async () => {
    const response = await http
      .post('/users/u/embeddings/embed')
      .send({ texts: ['cached text', 'new text'] })
      .expect(200);
    expect(response.body).toEqual({ embeddings: await embedded(['cached text', 'new text']), cached: [false, false] });
  });

  it('answers a chat from the model (X-Cache: MISS), the whole answer, even one that was cached before the outage', async () => {
    const response = await http.post('/chat').send(question).expect(200);
    expect(response.headers['x-cache']).toBe('MISS');
    expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(response.text).toBe(answeredBefore);
    expect(parseEvents(response.text).at(-1)).toEqual({ event: 'done', data: { finishReason: 'stop' } });
  });

  it('answers PUT with 204 and X-Cache-Write: skipped, and a lookup with 404 (MISS)', async () => {
    const put = await http
      .put('/users/u/embeddings')
      .send({ text: 't', embedding: Array(384).fill(0.5) })
      .expect(204);
    expect(put.headers['x-cache-write']).toBe('skipped');
    const lookup = await http.post('/users/u/embeddings/lookup').send({ text: 'cached text' }).expect(404);
    expect(lookup.headers['x-cache']).toBe('MISS');
  });

  it('answers DELETE of embeddings with 503 and Retry-After, since the vectors could not be removed', async () => {
    const response = await http.delete('/users/u/embeddings').expect(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(response.body.message).toBe('The embedding cache is unavailable; the vectors were not removed');
  });

  it('still validates input (400) and reports liveness up, readiness down and the connections down in /metrics', async () => {
    await http.get('/conversations/bad%20id/messages').expect(400);
    await http.get('/health/live').expect(200);
    const ready = await http.get('/health/ready').expect(503);
    expect(ready.body.error['redis-local'].status).toBe('down');
    expect(ready.body.error['redis-shared'].status).toBe('down');
    const metrics = (await http.get('/metrics').expect(200)).text;
    expect(metrics).toContain('wbot_redis_connection_up{connection="local"} 0');
    expect(metrics).toContain('wbot_redis_connection_up{connection="shared"} 0');
    expect(metrics).toMatch(/wbot_cache_events_total\{connection="shared",event="fallbacks"\} [1-9]/);
    expect(metrics).toMatch(/wbot_response_cache_events_total\{event="fallbacks"\} [1-9]/);
  });
});
