import { DeadlineExceededError, withDeadline } from './deadline';

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
