import { request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One Server-Sent Event as POST /chat sends it: its `event:` name, if any, and its data, parsed. */
export interface ChatEvent {
  event?: string;
  data: unknown;
}

/** An answer of POST /chat as a client sees it, with when (performance.now()) each of its parts reached it. */
export interface ChatReply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  events: ChatEvent[];
  /** The concatenated deltas. */
  answer: string;
  headersAt: number;
  /** Undefined for an answer without a body. */
  firstChunkAt?: number;
  endAt: number;
}

/** The events of a text/event-stream body, each ended by a blank line. */
export function parseEvents(text: string): ChatEvent[] {
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((block) => {
      const lines = block.split('\n');
      const event = lines.find((line) => line.startsWith('event: '))?.slice('event: '.length);
      const data = JSON.parse(lines.find((line) => line.startsWith('data: '))!.slice('data: '.length));
      return event === undefined ? { data } : { event, data };
    });
}

/** The text of an answer: its deltas, concatenated. */
export function answerOf(events: ChatEvent[]): string {
  return events
    .filter((event) => event.event === undefined)
    .map((event) => (event.data as { delta: string }).delta)
    .join('');
}

/**
 * POSTs `body` to /chat on a listening server, over a connection of its own (node:http, not supertest, which
 * buffers the answer: this sees when the headers and the first bytes came).
 */
export function postChat(server: Server, body: unknown, headers: Record<string, string> = {}): Promise<ChatReply> {
  const { port } = server.address() as AddressInfo;
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const call = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/chat',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers },
      },
      (response) => {
        const headersAt = performance.now();
        let firstChunkAt: number | undefined;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => {
          firstChunkAt ??= performance.now();
          chunks.push(chunk);
        });
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const isStream = response.headers['content-type']?.startsWith('text/event-stream') ?? false;
          const events = isStream ? parseEvents(text) : [];
          resolve({
            status: response.statusCode!,
            headers: response.headers,
            text,
            events,
            answer: answerOf(events),
            headersAt,
            firstChunkAt,
            endAt: performance.now(),
          });
        });
        response.on('error', reject);
      },
    );
    call.on('error', reject);
    call.end(payload);
  });
}
