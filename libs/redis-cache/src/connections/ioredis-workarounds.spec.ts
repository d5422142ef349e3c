import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { applyIoredisWorkarounds } from './ioredis-workarounds';

/** Stands in for the ioredis internals the workarounds touch; the real behaviour is covered on real Sentinel in sentinel.spec.ts. */
function fakeClient(detector: { isDisconnected: boolean } | null, major = 5) {
  const cleanups: string[] = [];
  const client = Object.assign(new EventEmitter(), {
    socketTimeoutTimer: setTimeout(() => undefined, 60_000) as NodeJS.Timeout | undefined,
    connector: {
      failoverDetector: detector && { ...detector, cleanup: () => cleanups.push('cleanup') },
    },
  });
  applyIoredisWorkarounds(client as unknown as Redis, major);
  return { client, cleanups };
}

describe('applyIoredisWorkarounds', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('on ioredis 5, on close, clears the stale socket timer and cleans up a live failover detector, once', () => {
    const { client, cleanups } = fakeClient({ isDisconnected: false });
    expect(jest.getTimerCount()).toBe(1);
    client.emit('close');
    client.emit('close');
    expect(client.socketTimeoutTimer).toBeUndefined();
    expect(jest.getTimerCount()).toBe(0);
    expect(cleanups).toEqual(['cleanup']);
    expect(client.connector.failoverDetector).toBeNull();
  });

  it('retires a detector that already cleaned up after a failover without cleaning it up again', () => {
    const { client, cleanups } = fakeClient({ isDisconnected: true });
    client.emit('close');
    expect(cleanups).toEqual([]);
    expect(client.connector.failoverDetector).toBeNull();
  });

  it('on ioredis 6, which clears its socket timer itself, leaves the timer alone and still retires the detector', () => {
    const { client, cleanups } = fakeClient({ isDisconnected: false }, 6);
    const timer = client.socketTimeoutTimer;
    client.emit('close');
    expect(client.socketTimeoutTimer).toBe(timer);
    expect(jest.getTimerCount()).toBe(1);
    expect(cleanups).toEqual(['cleanup']);
    expect(client.connector.failoverDetector).toBeNull();
  });

  it('leaves a client without a detector (single node) alone', () => {
    const { client } = fakeClient(null);
    client.emit('close');
    expect(client.connector.failoverDetector).toBeNull();
    expect(client.socketTimeoutTimer).toBeUndefined();
  });
});

describe('a socket that errs twice', () => {
  /** A client whose socket reports its first error to the client once, as ioredis's `stream.once('error')` does. */
  function clientWithSocket(withWorkarounds: boolean) {
    const client = Object.assign(new EventEmitter(), { stream: new EventEmitter() });
    client.on('error', () => undefined); // the app's (or the module's) listener
    if (withWorkarounds) applyIoredisWorkarounds(client as unknown as Redis, 6);
    client.stream.once('error', (error: Error) => client.emit('error', error));
    return client;
  }
  const refused = new Error('certificate signature failure');
  const alert = new Error('tlsv1 alert decode error');

  it('ignores the second error instead of throwing it', () => {
    const client = clientWithSocket(true);
    client.stream.emit('error', refused);
    expect(() => client.stream.emit('error', alert)).not.toThrow();
    expect(client.stream.listenerCount('error')).toBe(1);
  });

  it('without the workaround, the second error is thrown (uncaught in a real process)', () => {
    const client = clientWithSocket(false);
    client.stream.emit('error', refused);
    expect(() => client.stream.emit('error', alert)).toThrow(/tlsv1 alert decode error/);
  });
});
