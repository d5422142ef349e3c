import type { Cluster, Redis } from 'ioredis';

/** Sockets corked in this tick, uncorked at its end. */
const corked = new WeakSet<object>();

/**
 * Makes the commands written to a node's connection in this tick go out
 * in one socket write. ioredis writes each command to the socket at once, one
 * system call each, and that call was the largest share of the Node time of a
 * read. The first command of a tick corks the socket, and it is uncorked once
 * the tick's synchronous code and promise callbacks have run: so a read's
 * script and its `LRANGE`, and the calls that other requests make in the same
 * tick, share one write, as node-redis does, without a pipeline's bookkeeping.
 * Nothing waits longer than the tick. Given a cluster, it does nothing: the
 * caller passes the connection to the node of its call's slot instead.
 */
export function coalesceWrites(redis: Redis | Cluster): void {
  if (!('stream' in redis) || redis.status !== 'ready') return;
  const { stream } = redis;
  if (corked.has(stream)) return;
  corked.add(stream);
  stream.cork();
  process.nextTick(() => {
    corked.delete(stream);
    stream.uncork();
  });
}
