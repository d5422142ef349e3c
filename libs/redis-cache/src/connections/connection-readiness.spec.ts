import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { ConnectionReadiness } from './connection-readiness';

/** A stand-in for an ioredis client: a status and the events ioredis emits. Pure logic, no I/O. */
class FakeClient extends EventEmitter {
  isCluster = false;
  connects = 0;
  constructor(public status: string) {
    super();
  }
  connect(): Promise<void> {
    this.connects++;
    this.status = 'connecting';
    return Promise.resolve();
  }
  /** Moves to `status` and emits it, as ioredis does (it emits a tick later, in the same order). */
  become(status: string, event = status): void {
    this.status = status;
    this.emit(event);
  }
}

function follow(status: string): [FakeClient, ConnectionReadiness] {
  const client = new FakeClient(status);
  return [client, ConnectionReadiness.of(client as unknown as Redis)];
}

/** Whether a promise has settled, and with what, without waiting for it. */
async function peek<T>(promise: Promise<T>): Promise<{ settled: boolean; value?: T }> {
  const pending = Symbol('pending');
  const value = await Promise.race([promise, Promise.resolve(pending)]);
  return value === pending ? { settled: false } : { settled: true, value: value as T };
}

describe('ConnectionReadiness', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('is one tracker per client', () => {
    const client = new FakeClient('ready') as unknown as Redis;
    expect(ConnectionReadiness.of(client)).toBe(ConnectionReadiness.of(client));
  });

  it('answers at once on a ready client', async () => {
    const [, readiness] = follow('ready');
    expect(readiness.state).toBe('ready');
    expect(await peek(readiness.whenReady(100, true))).toEqual({ settled: true, value: true });
  });

  it('lets a call wait through the first connect, and wakes it on ready', async () => {
    const [client, readiness] = follow('connecting');
    expect(readiness.state).toBe('connecting');
    const call = readiness.whenReady(100, true);
    expect(await peek(call)).toEqual({ settled: false });
    client.become('ready');
    expect(await peek(call)).toEqual({ settled: true, value: true });
  });

  it('knows the connection is down once the first connect attempt fails, and stops a waiting call at once', async () => {
    const [client, readiness] = follow('connecting');
    const call = readiness.whenReady(100, true);
    const start = readiness.whenReady(1000, false);
    client.become('reconnecting', 'close');
    expect(readiness.state).toBe('down');
    expect(await peek(call)).toEqual({ settled: true, value: false });
    expect(await peek(readiness.whenReady(100, true))).toEqual({ settled: true, value: false });
    // a start-up wait lets the reconnect attempts go on until its timeout
    expect(await peek(start)).toEqual({ settled: false });
    client.become('ready');
    expect(await peek(start)).toEqual({ settled: true, value: true });
  });

  it('treats the loss of a ready connection as a blip to wait through, and the next failed attempt as down', async () => {
    const [client, readiness] = follow('ready');
    client.become('reconnecting', 'close');
    expect(readiness.state).toBe('connecting');
    const call = readiness.whenReady(100, true);
    expect(await peek(call)).toEqual({ settled: false });
    client.emit('close');
    expect(readiness.state).toBe('down');
    expect(await peek(call)).toEqual({ settled: true, value: false });
    client.become('ready');
    expect(readiness.state).toBe('ready');
    client.become('reconnecting', 'close');
    expect(readiness.state).toBe('connecting');
  });

  it('assumes a client first met while reconnecting is down', () => {
    const [, readiness] = follow('reconnecting');
    expect(readiness.state).toBe('down');
  });

  it('is down while closing and once ended, and releases every waiter on end', async () => {
    const [client, readiness] = follow('connecting');
    const waiting = [readiness.whenReady(100, true), readiness.whenReady(1000, false)];
    client.become('disconnecting', 'disconnecting');
    expect(readiness.state).toBe('down');
    client.become('end');
    expect(await Promise.all(waiting)).toEqual([false, false]);
    expect(await peek(readiness.whenReady(1000, false))).toEqual({ settled: true, value: false });
  });

  it('gives up after the timeout', async () => {
    const [, readiness] = follow('connecting');
    const call = readiness.whenReady(100, true);
    jest.advanceTimersByTime(99);
    expect(await peek(call)).toEqual({ settled: false });
    jest.advanceTimersByTime(1);
    expect(await peek(call)).toEqual({ settled: true, value: false });
    expect(await peek(readiness.whenReady(0, false))).toEqual({ settled: true, value: false });
  });

  it('connects a client that was never told to (lazyConnect), once', async () => {
    const [client, readiness] = follow('wait');
    const first = readiness.whenReady(100, true);
    const second = readiness.whenReady(100, true);
    expect(client.connects).toBe(1);
    client.become('ready');
    expect(await Promise.all([first, second])).toEqual([true, true]);
  });
});
