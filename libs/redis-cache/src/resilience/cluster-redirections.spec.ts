import { DeadlineExceededError } from './deadline';
import { isRedirection, withRedirections } from './cluster-redirections';
import { REDIRECTION_RETRY_FIRST_MS, REDIRECTION_RETRY_MAX_MS } from '../options/defaults';

/** An error as ioredis gives it: a `ReplyError` for a server's error reply, a plain `Error` for its own. */
const reply = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });
const tryAgain = () => reply('TRYAGAIN Multiple keys request during rehashing of slot');
const tooMany = () => new Error('Too many Cluster redirections. Last error: ReplyError: ASK 6939 127.0.0.1:7001');

describe('isRedirection', () => {
  it('is true of MOVED, ASK, TRYAGAIN and the error ioredis gives after too many of them, and of nothing else', () => {
    const errors = [
      reply('MOVED 6939 127.0.0.1:7001'),
      reply('ASK 6939 127.0.0.1:7001'),
      tryAgain(),
      tooMany(),
      reply('CLUSTERDOWN The cluster is down'),
      reply('NOREPLICAS Not enough good replicas to write.'),
      new Error('Connection is closed.'),
      new DeadlineExceededError('no reply within 150 ms'),
      'MOVED 1 a:1',
    ];
    expect(errors.map(isRedirection)).toEqual([true, true, true, true, false, false, false, false, false]);
  });
});

describe('withRedirections', () => {
  it('runs the call again while it is redirected, after pauses doubling up to the max, and settles with its value', async () => {
    const at: number[] = [];
    const started = performance.now();
    const value = await withRedirections(async () => {
      at.push(performance.now() - started);
      if (at.length < 6) throw at.length % 2 ? tryAgain() : tooMany();
      return 'served';
    }, 1000);
    expect(value).toBe('served');
    const pauses = at.slice(1).map((ms, i) => ms - at[i]);
    const expected = [1, 2, 4, 8, 16].map((factor) =>
      Math.min(REDIRECTION_RETRY_FIRST_MS * factor, REDIRECTION_RETRY_MAX_MS),
    );
    pauses.forEach((pause, i) => expect(pause).toBeGreaterThanOrEqual(expected[i] - 1));
  });

  it('gives up with the redirection itself, not a timeout, when the next pause would end past the deadline', async () => {
    let calls = 0;
    const error = await withRedirections(async () => {
      calls++;
      throw tryAgain();
    }, 40).catch((failure: unknown) => failure);
    expect(error).toMatchObject({ name: 'ReplyError', message: expect.stringMatching(/^TRYAGAIN /) });
    // 4, 8 and 16 ms of pauses fit in 40 ms, the next 32 do not (fewer if the timers ran late)
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(calls).toBeLessThanOrEqual(4);
  });

  it('a redirected call whose retry is still unanswered at the deadline rejects with the redirection, and is not sent again', async () => {
    let calls = 0;
    const error = await withRedirections(() => {
      calls++;
      return calls === 1 ? Promise.reject(tooMany()) : new Promise<never>(() => undefined);
    }, 30).catch((failure: unknown) => failure);
    expect(isRedirection(error)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls).toBe(2);
  });

  it('any other failure rejects at once, and no reply at all is a timeout', async () => {
    let calls = 0;
    const closed = new Error('Connection is closed.');
    await expect(
      withRedirections(async () => {
        calls++;
        throw closed;
      }, 100),
    ).rejects.toBe(closed);
    expect(calls).toBe(1);
    await expect(withRedirections(() => new Promise<never>(() => undefined), 10)).rejects.toBeInstanceOf(
      DeadlineExceededError,
    );
  });

  it('a call that throws before it returns a promise rejects with what it threw, once, as a rejection would', async () => {
    let calls = 0;
    const broken = new TypeError('not a function');
    const call = (): Promise<string> => {
      calls++;
      throw broken;
    };
    await expect(withRedirections(call, 100)).rejects.toBe(broken);
    expect(calls).toBe(1);
  });
});
