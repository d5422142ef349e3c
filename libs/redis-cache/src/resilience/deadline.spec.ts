import { DeadlineExceededError, resolvedWithin, withDeadline } from './deadline';

describe('withDeadline', () => {
  it('settles like the work when it settles first', async () => {
    await expect(withDeadline(Promise.resolve(7), 1000)).resolves.toBe(7);
    await expect(withDeadline(Promise.reject(new Error('failed')), 1000)).rejects.toThrow('failed');
  });

  it('rejects with DeadlineExceededError when the work never settles', async () => {
    await expect(withDeadline(new Promise(() => undefined), 10)).rejects.toThrow(
      new DeadlineExceededError('no reply within 10 ms'),
    );
  });
});

describe('withDeadline after the event loop was blocked past the deadline', () => {
  /**
   * An echo server in another process, so that its reply comes back while this
   * process's event loop is blocked, and sits in the socket, as Redis's does.
   */
  async function echo(): Promise<{ ask: () => Promise<string>; close: () => Promise<void> }> {
    const { spawn } = await import('node:child_process');
    const { connect } = await import('node:net');
    const program = `const s = require('net').createServer((c) => c.pipe(c)).listen(0, '127.0.0.1', () => console.log(s.address().port));`;
    const child = spawn(process.execPath, ['-e', program], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve) => child.stdout.once('data', (data) => resolve(Number(data))));
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    return {
      ask: () => {
        const reply = new Promise<string>((resolve) => socket.once('data', (data) => resolve(data.toString())));
        socket.write('pong');
        return reply;
      },
      close: async () => {
        socket.destroy();
        child.kill();
        await new Promise((resolve) => child.once('exit', resolve));
      },
    };
  }

  function block(ms: number): void {
    const until = performance.now() + ms;
    while (performance.now() < until);
  }

  it('serves a reply that arrived while the loop was blocked, instead of declaring the deadline passed', async () => {
    const server = await echo();
    try {
      const outcomes: string[] = [];
      for (let run = 0; run < 20; run++) {
        const call = withDeadline(server.ask(), 10);
        block(50); // the reply arrives meanwhile; the timer is due before the poll phase reads it
        outcomes.push(await call.catch((error: Error) => error.name));
      }
      expect(outcomes).toEqual(Array.from({ length: 20 }, () => 'pong'));
    } finally {
      await server.close();
    }
  });
});

describe('resolvedWithin', () => {
  it('gives what the work resolves to in time, undefined once the bound has passed, and rejects as the work does', async () => {
    await expect(resolvedWithin(Promise.resolve([1]), 1000)).resolves.toEqual([1]);
    await expect(resolvedWithin(new Promise(() => undefined), 10)).resolves.toBeUndefined();
    await expect(resolvedWithin(new Promise(() => undefined), -5)).resolves.toBeUndefined();
    await expect(resolvedWithin(Promise.reject(new Error('loader failed')), 1000)).rejects.toThrow('loader failed');
  });
});
