import { RedisCacheFollowError } from '../errors';
import { decodeResponse } from './response-codec';
import type { Flight } from './response-flight';

/** A stored stream's parts, all at once, or one every `delayMs` after the first. */
export function replayStream<P>(parts: readonly P[], delayMs: number): ReadableStream<P> {
  let next = 0;
  if (delayMs <= 0) {
    return new ReadableStream<P>({
      start(controller) {
        for (const part of parts) controller.enqueue(part);
        controller.close();
      },
    });
  }
  return new ReadableStream<P>({
    async pull(controller) {
      if (next > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      if (next < parts.length) controller.enqueue(parts[next++]);
      if (next === parts.length) controller.close();
    },
  });
}

/**
 * Resolves with `work`, or rejects with the reason of `signal` if it aborts first (at once if it has). `work`'s own
 * rejection is handled either way, so that a call that stopped waiting leaves none unhandled.
 */
export async function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * A reader's stream of a flight it has joined, from its first part: each part decoded (a copy of its own), then
 * the end. A failed end becomes `failurePart` of a `RedisCacheFollowError`. It leaves the flight at its end,
 * when it is cancelled, or when `signal` aborts (the stream then errors with the signal's reason).
 */
export function flightStream<P>(
  flight: Flight,
  signal: AbortSignal | undefined,
  failurePart: (error: Error) => P,
): ReadableStream<P> {
  let next = 0;
  let left = false;
  const leave = () => {
    if (left) return;
    left = true;
    flight.leave();
  };
  return new ReadableStream<P>({
    async pull(controller) {
      try {
        while (next === flight.parts.length && !flight.end) await unlessAborted(flight.next(), signal);
      } catch (reason) {
        leave();
        controller.error(reason);
        return;
      }
      if (next < flight.parts.length) {
        controller.enqueue(decodeResponse(flight.parts[next++]) as P);
        return;
      }
      if (flight.end === 'failed') {
        controller.enqueue(failurePart(new RedisCacheFollowError('the call this one followed failed before its end')));
      }
      leave();
      controller.close();
    },
    cancel: leave,
  });
}

/**
 * The stream of the call that asks the model (the origin), fed with the model's parts as they are, by the flight's
 * pump. It takes over the origin's place among the flight's readers (the origin joined it first), and leaves when
 * its consumer cancels it or `signal` aborts it (it then errors with the signal's reason); what is pushed after
 * that is dropped.
 */
export class OriginStream<P> {
  readonly stream: ReadableStream<P>;
  private controller!: ReadableStreamDefaultController<P>;
  private gone = false;
  private readonly onAbort = () => {
    this.error(this.signal!.reason);
  };

  constructor(
    private readonly flight: Flight,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.stream = new ReadableStream<P>({
      start: (controller) => {
        this.controller = controller;
      },
      cancel: () => this.leave(),
    });
    if (signal?.aborted) this.onAbort();
    else signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  push(part: P): void {
    if (!this.gone) this.controller.enqueue(part);
  }

  close(): void {
    if (this.gone) return;
    this.controller.close();
    this.leave();
  }

  error(reason: unknown): void {
    if (this.gone) return;
    this.controller.error(reason);
    this.leave();
  }

  private leave(): void {
    if (this.gone) return;
    this.gone = true;
    this.signal?.removeEventListener('abort', this.onAbort);
    this.flight.leave();
  }
}
