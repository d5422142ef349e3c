/** The headers of an answer streamed as Server-Sent Events; `X-Accel-Buffering` keeps nginx from holding it back. */
export const EVENT_STREAM_HEADERS = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache',
  'X-Accel-Buffering': 'no',
} as const;

/**
 * One Server-Sent Event: an `event:` line when it is not a plain message, then its data as JSON on one `data:` line
 * (JSON.stringify escapes every line break), then the blank line that ends it.
 */
export function serverSentEvent(data: unknown, event?: string): string {
  return `${event === undefined ? '' : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`;
}
