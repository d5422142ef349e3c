import { REDIRECTION_RETRY_FIRST_MS, REDIRECTION_RETRY_MAX_MS } from '../options/defaults';
import { DeadlineExceededError, withDeadline } from './deadline';

/**
 * Whether a call failed only because its slot of a Redis Cluster is moving or
 * has moved: a `MOVED`, `ASK` or `TRYAGAIN` reply, or the error ioredis gives
 * after following too many of them. The master answered each time, and the
 * command did not run: it is no sign of a failing master, and safe to send again.
 */
export function isRedirection(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return /^(MOVED|ASK|TRYAGAIN) /.test(error.message) || error.message.startsWith('Too many Cluster redirections');
}

/**
 * Settles like `call()`, within `ms` like `withDeadline`; but while `call` fails
 * with a redirection (its slot is moving: `TRYAGAIN` until the keys it names are
 * all on one side), it runs again after a short pause, doubling from
 * `REDIRECTION_RETRY_FIRST_MS` to `REDIRECTION_RETRY_MAX_MS`, as long as the
 * pause ends within `ms`. Nothing is sent once `ms` has passed. A call still
 * being redirected at the end rejects with its last redirection, not with
 * `DeadlineExceededError`, so that a breaker does not count it.
 */
export async function withRedirections<T>(call: () => Promise<T>, ms: number): Promise<T> {
  const until = performance.now() + ms;
  let redirection: unknown;
  let over = false;
  const attempts = async (): Promise<T> => {
    for (let pause = REDIRECTION_RETRY_FIRST_MS; ; pause = Math.min(2 * pause, REDIRECTION_RETRY_MAX_MS)) {
      try {
        return await call();
      } catch (error) {
        if (over || !isRedirection(error) || performance.now() + pause >= until) throw error;
        redirection = error;
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
      if (over) throw redirection;
    }
  };
  try {
    return await withDeadline(attempts(), ms);
  } catch (error) {
    throw error instanceof DeadlineExceededError && redirection !== undefined ? redirection : error;
  } finally {
    over = true;
  }
}
