import { EventEmitter } from 'node:events';
import type { Cluster } from 'ioredis';
import { OpossumConnectionBreaker } from './opossum-breaker';

const OPTIONS = {
  consecutiveFailures: 3,
  errorThresholdPercentage: 50,
  volumeThreshold: 5,
  windowMs: 1000,
  resetTimeoutMs: 50,
};

const fail = () => Promise.reject(new Error('Command timed out'));
const succeed = () => Promise.resolve('ok');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('OpossumConnectionBreaker', () => {
  let breaker: OpossumConnectionBreaker;
  beforeEach(() => (breaker = new OpossumConnectionBreaker('test', OPTIONS)));
  afterEach(() => breaker.shutdown());

  it('opens after consecutiveFailures failures in a row, even when the window holds many successes', async () => {
    for (let i = 0; i < 100; i++) await breaker.run(succeed);
    await breaker.run(fail).catch(() => undefined);
    await breaker.run(fail).catch(() => undefined);
    expect(breaker.state).toBe('closed');
    await breaker.run(fail).catch(() => undefined);
    expect(breaker.state).toBe('open');
  });

  it('a success resets the run of failures', async () => {
    await breaker.run(fail).catch(() => undefined);
    await breaker.run(fail).catch(() => undefined);
    await breaker.run(succeed);
    await breaker.run(fail).catch(() => undefined);
    expect(breaker.state).toBe('closed');
  });

  it('while open, rejects at once without running the call', async () => {
    for (let i = 0; i < 3; i++) await breaker.run(fail).catch(() => undefined);
    let ran = false;
    const call = () => {
      ran = true;
      return succeed();
    };
    await expect(breaker.run(call)).rejects.toMatchObject({ code: 'EOPENBREAKER' });
    expect(ran).toBe(false);
  });

  it('after resetTimeoutMs lets exactly one probe through; its success closes the breaker', async () => {
    for (let i = 0; i < 3; i++) await breaker.run(fail).catch(() => undefined);
    await sleep(OPTIONS.resetTimeoutMs + 20);
    expect(breaker.state).toBe('half-open');
    let release!: () => void;
    const probe = breaker.run(() => new Promise<string>((resolve) => (release = () => resolve('probed'))));
    await expect(breaker.run(succeed)).rejects.toMatchObject({ code: 'EOPENBREAKER' });
    release();
    expect(await probe).toBe('probed');
    expect(breaker.state).toBe('closed');
  });

  it('a failed probe opens it again', async () => {
    for (let i = 0; i < 3; i++) await breaker.run(fail).catch(() => undefined);
    await sleep(OPTIONS.resetTimeoutMs + 20);
    await breaker.run(fail).catch(() => undefined);
    expect(breaker.state).toBe('open');
  });

  it('an error reply from the server does not count as a failure', async () => {
    const reply = Object.assign(new Error('WRONGTYPE'), { name: 'ReplyError' });
    for (let i = 0; i < 10; i++) await breaker.run(() => Promise.reject(reply)).catch(() => undefined);
    expect(breaker.state).toBe('closed');
  });

  it('a cluster redirection does not count as a failure, not even ioredis’s error after too many of them', async () => {
    const redirections = [
      Object.assign(new Error('TRYAGAIN Multiple keys request during rehashing of slot'), { name: 'ReplyError' }),
      new Error('Too many Cluster redirections. Last error: ReplyError: ASK 6939 127.0.0.1:7001'),
    ];
    for (let i = 0; i < 10; i++) await breaker.run(() => Promise.reject(redirections[i % 2])).catch(() => undefined);
    expect(breaker.state).toBe('closed');
  });

  it('takes off at shutdown every listener follow added, on a cluster and on the nodes it added since', () => {
    const node = () => Object.assign(new EventEmitter(), { options: { host: '10.0.0.1', port: 6379 } });
    const first = node();
    const cluster = Object.assign(new EventEmitter(), { isCluster: true, nodes: () => [first] });
    const before = cluster.eventNames();
    breaker.follow(cluster as unknown as Cluster);
    const later = node();
    cluster.emit('+node', later);
    expect([cluster.listenerCount('ready'), first.listenerCount('ready'), later.listenerCount('ready')]).toEqual([
      1, 1, 1,
    ]);
    breaker.shutdown();
    expect(cluster.eventNames()).toEqual(before);
    expect([first.eventNames(), later.eventNames()]).toEqual([[], []]);
  });

  it('after shutdown rejects every call', async () => {
    breaker.shutdown();
    await expect(breaker.run(succeed)).rejects.toMatchObject({ code: 'ESHUTDOWN' });
  });
});

describe('OpossumConnectionBreaker scopes (one per cluster master)', () => {
  let breaker: OpossumConnectionBreaker;
  beforeEach(() => (breaker = new OpossumConnectionBreaker('test', OPTIONS)));
  afterEach(() => breaker.shutdown());

  it('opens only the scope whose calls fail; the others keep running their calls', async () => {
    for (let i = 0; i < 3; i++) await breaker.run(fail, '10.0.0.1:6379').catch(() => undefined);
    expect(breaker.stateOf('10.0.0.1:6379')).toBe('open');
    expect(await breaker.run(succeed, '10.0.0.2:6379')).toBe('ok');
    expect(breaker.scopes()).toEqual({ '10.0.0.1:6379': 'open', '10.0.0.2:6379': 'closed' });
    expect(breaker.state).toBe('closed');
    await expect(breaker.run(succeed, '10.0.0.1:6379')).rejects.toMatchObject({ code: 'EOPENBREAKER' });
  });

  it('is open as a whole only when every scope is open', async () => {
    for (const scope of ['a:1', 'b:1']) {
      for (let i = 0; i < 3; i++) await breaker.run(fail, scope).catch(() => undefined);
    }
    expect(breaker.state).toBe('open');
    expect(breaker.stateOf('c:1')).toBe('closed');
  });
});
