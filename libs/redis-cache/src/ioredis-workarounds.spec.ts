import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { applyIoredisWorkarounds } from './ioredis-workarounds';

/** Stands in for the ioredis internals the workarounds touch; the real behaviour is covered on real Sentinel in sentinel.spec.ts. */
function fakeClient(detector: { isDisconnected: boolean } | null) {
  const cleanups: string[] = [];
  const client = Object.assign(new EventEmitter(), {
    socketTimeoutTimer: setTimeout(() => undefined, 60_000) as NodeJS.Timeout | undefined,
    connector: {
      failoverDetector: detector && { ...detector, cleanup: () => cleanups.push('cleanup') },
    },
  });
  applyIoredisWorkarounds(client as unknown as Redis);
  return { client, cleanups };
}

describe('applyIoredisWorkarounds', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('on close, clears the stale socket timer and cleans up a live failover detector, once', () => {
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

  it('leaves a client without a detector (single node) alone', () => {
    const { client } = fakeClient(null);
    client.emit('close');
    expect(client.connector.failoverDetector).toBeNull();
    expect(client.socketTimeoutTimer).toBeUndefined();
  });
});
