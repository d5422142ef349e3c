/** What `withDeadline` rejects with when no reply came in time; a breaker counts it as a failure. */
export class DeadlineExceededError extends Error {
  override readonly name = 'DeadlineExceededError';
}

/**
 * Settles like `work`, or rejects with DeadlineExceededError once `ms` have passed.
 *
 * A late event loop is not a slow Redis: after the app blocked the loop for
 * longer than `ms`, Node runs the expired timer before the poll phase reads the
 * replies already waiting in the socket. So the timer does not reject by itself:
 * it lets the poll phase run once (`setImmediate` runs after it) and only then
 * rejects, if the reply still has not come.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let afterPoll: NodeJS.Immediate | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      afterPoll = setImmediate(() => reject(new DeadlineExceededError(`no reply within ${ms} ms`)));
    }, ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
    clearImmediate(afterPoll);
  }
}

/**
 * What `work` resolves to if it does within `ms`, or undefined once `ms` have
 * passed (at once if `ms` ≤ 0); rejects if `work` rejects first. For joining
 * work another call started, for no longer than a bound from its start.
 */
export async function resolvedWithin<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
