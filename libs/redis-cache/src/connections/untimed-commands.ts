import { Command, type Cluster, type Redis } from 'ioredis';

/** A key or argument of a command, as ioredis takes it. */
type CommandArgument = string | Buffer | number;

/**
 * A command that ioredis's `commandTimeout` arms no timer for. ioredis arms
 * one `setTimeout` per command sent (`Command#setTimeout`, from `sendCommand`),
 * so a read that sends a script and a native command under the cache's own
 * deadline ran three timers where one bounds it. Only for commands sent within
 * a call's deadline (`SafeRedis.run` and `attempt`): that deadline gives the
 * caller its fallback, and the client's `socketTimeout` drops a socket that
 * stops answering, which fails the command like any other on it.
 */
class UntimedCommand extends Command {
  override setTimeout(): void {
    // the call's deadline bounds this command
  }
}

const BUFFER_SUFFIX = 'Buffer';

/**
 * Sends `name` (`lrange`, or `hmgetBuffer` for Buffer replies) with `args` as
 * the client's own command method would (its `keyPrefix`, its friendly error
 * stacks), but with no `commandTimeout` timer, and written at once (not through
 * autopipelining: the caller's connection is corked for the tick instead,
 * `coalesceWrites`). For commands sent within a call's deadline only.
 */
export function sendUntimed(redis: Redis | Cluster, name: string, args: readonly CommandArgument[]): Promise<unknown> {
  const buffers = name.endsWith(BUFFER_SUFFIX);
  const { keyPrefix, showFriendlyErrorStack } = redis.options as {
    keyPrefix?: string;
    showFriendlyErrorStack?: boolean;
  };
  const command = new UntimedCommand(buffers ? name.slice(0, -BUFFER_SUFFIX.length) : name, args as CommandArgument[], {
    replyEncoding: buffers ? null : 'utf8',
    keyPrefix,
    errorStack: showFriendlyErrorStack ? new Error() : undefined,
  });
  return redis.sendCommand(command) as Promise<unknown>;
}
