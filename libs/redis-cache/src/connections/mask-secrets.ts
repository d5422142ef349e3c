import type { Cluster, Redis, RedisOptions } from 'ioredis';
import { isCluster } from './is-cluster';

const MASK = '***';
const URL_PASSWORD = /(rediss?:\/\/[^:@/\s]*:)[^@\s]*@/gi;

/** The passwords a client was configured with (from its options or its URL). */
export function clientSecrets(client: Redis | Cluster): string[] {
  const options: Partial<RedisOptions> = isCluster(client) ? (client.options.redisOptions ?? {}) : client.options;
  return [options.password, options.sentinelPassword].filter((secret): secret is string => !!secret);
}

/** `message` with every secret, and the password part of any Redis URL, replaced by `***`. */
export function maskSecrets(message: string, secrets: readonly string[]): string {
  let masked = message.replace(URL_PASSWORD, `$1${MASK}@`);
  for (const secret of secrets) masked = masked.split(secret).join(MASK);
  return masked;
}
