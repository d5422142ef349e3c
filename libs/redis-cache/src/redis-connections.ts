import type { ClusterOptions, RedisOptions } from 'ioredis';
import { FAIL_FAST_CLUSTER_OPTIONS, FAIL_FAST_REDIS_OPTIONS, FAIL_FAST_SENTINEL_OPTIONS } from './defaults';
import { RedisCacheConfigError } from './errors';

/** A Redis server, cluster node or sentinel. */
export interface HostPort {
  host: string;
  port: number;
}

/** One Redis server: a URL and/or any ioredis options, which override the fail-fast defaults. */
export interface StandaloneConnectionOptions extends RedisOptions {
  url?: string;
  /** The client's name in `@liaoliaots/nestjs-redis`'s `RedisService` (defaults: `local`, `shared`). */
  namespace?: string;
  cluster?: never;
  sentinel?: never;
}

/**
 * A Redis Cluster: its seed nodes and any ioredis Cluster options, which override
 * the fail-fast defaults (`redisOptions` is merged key by key).
 */
export interface ClusterConnectionOptions {
  cluster: ClusterOptions & { nodes: HostPort[] };
  /** The client's name in `@liaoliaots/nestjs-redis`'s `ClusterService` (defaults: `local`, `shared`). */
  namespace?: string;
}

/**
 * A master found through Redis Sentinel: the sentinels, the master group's name,
 * and any ioredis options, which override the fail-fast defaults.
 */
export interface SentinelConnectionOptions {
  sentinel: Omit<RedisOptions, 'sentinels' | 'name'> & { sentinels: HostPort[]; name: string };
  /** The client's name in `@liaoliaots/nestjs-redis`'s `RedisService` (defaults: `local`, `shared`). */
  namespace?: string;
}

export type RedisConnectionOptions = StandaloneConnectionOptions | ClusterConnectionOptions | SentinelConnectionOptions;

/** A connection as validated, with the fail-fast defaults applied; `kind` says which client it makes. */
export type ResolvedConnectionOptions =
  | { readonly kind: 'standalone'; readonly namespace: string; readonly redis: RedisOptions & { url?: string } }
  | { readonly kind: 'sentinel'; readonly namespace: string; readonly redis: RedisOptions }
  | {
      readonly kind: 'cluster';
      readonly namespace: string;
      readonly nodes: HostPort[];
      readonly cluster: ClusterOptions;
    };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hostPorts(value: unknown, option: string): HostPort[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new RedisCacheConfigError(option, 'must be a non-empty array of { host, port }');
  }
  return value.map((item: unknown, i) => {
    const { host, port } = isRecord(item) ? item : {};
    if (typeof host !== 'string' || host.length === 0) {
      throw new RedisCacheConfigError(`${option}[${i}].host`, 'must be a non-empty string');
    }
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new RedisCacheConfigError(
        `${option}[${i}].port`,
        `must be an integer from 1 to 65535 (got ${String(port)})`,
      );
    }
    return { host, port };
  });
}

/**
 * Parses `host:port,host:port` (the form of REDIS_CLUSTER_NODES and REDIS_SENTINELS)
 * into addresses; `option` names the setting in the error. IPv6 hosts go in brackets.
 */
export function parseHostPorts(value: string, option: string): HostPort[] {
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
  return hostPorts(
    items.map((item) => {
      const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(item);
      if (!match) throw new RedisCacheConfigError(option, `must be comma-separated host:port pairs (got "${item}")`);
      return { host: match[1], port: Number(match[2]) };
    }),
    option,
  );
}

function assertUrl(url: unknown, option: string): void {
  if (typeof url !== 'string' || !/^rediss?:\/\/./.test(url)) {
    throw new RedisCacheConfigError(option, 'must be a redis:// or rediss:// URL');
  }
  try {
    new URL(url);
  } catch {
    throw new RedisCacheConfigError(option, 'is not a valid URL');
  }
}

/** Options beside `cluster` or `sentinel` would be silently dropped; they belong inside it. */
function assertAlone(raw: Record<string, unknown>, form: 'cluster' | 'sentinel', option: string): void {
  const stray = Object.keys(raw).filter((key) => key !== form && key !== 'namespace');
  if (stray.length > 0) {
    throw new RedisCacheConfigError(`${option}.${stray[0]}`, `must go inside ${option}.${form}`);
  }
}

function resolveCluster(raw: Record<string, unknown>, option: string) {
  assertAlone(raw, 'cluster', option);
  if (!isRecord(raw.cluster)) throw new RedisCacheConfigError(`${option}.cluster`, 'must be an object');
  const { nodes, redisOptions, ...options } = raw.cluster as unknown as ClusterConnectionOptions['cluster'];
  if (redisOptions !== undefined && !isRecord(redisOptions)) {
    throw new RedisCacheConfigError(`${option}.cluster.redisOptions`, 'must be an object');
  }
  return {
    kind: 'cluster' as const,
    nodes: hostPorts(nodes, `${option}.cluster.nodes`),
    cluster: {
      ...FAIL_FAST_CLUSTER_OPTIONS,
      ...options,
      redisOptions: { ...FAIL_FAST_CLUSTER_OPTIONS.redisOptions, ...redisOptions },
    },
  };
}

function resolveSentinel(raw: Record<string, unknown>, option: string) {
  assertAlone(raw, 'sentinel', option);
  if (!isRecord(raw.sentinel)) throw new RedisCacheConfigError(`${option}.sentinel`, 'must be an object');
  const sentinel = raw.sentinel as unknown as SentinelConnectionOptions['sentinel'];
  if (typeof sentinel.name !== 'string' || sentinel.name.length === 0) {
    throw new RedisCacheConfigError(`${option}.sentinel.name`, "must be the master group's name");
  }
  const sentinels = hostPorts(sentinel.sentinels, `${option}.sentinel.sentinels`);
  return { kind: 'sentinel' as const, redis: { ...FAIL_FAST_SENTINEL_OPTIONS, ...sentinel, sentinels } };
}

function resolveStandalone(raw: StandaloneConnectionOptions, option: string) {
  if (raw.url !== undefined) assertUrl(raw.url, `${option}.url`);
  const { namespace: _namespace, ...redis } = raw;
  return { kind: 'standalone' as const, redis: { ...FAIL_FAST_REDIS_OPTIONS, ...redis } };
}

/**
 * Validates one connection (`{ url, ...ioredis }`, `{ cluster }` or `{ sentinel }`)
 * and applies the fail-fast defaults. `option` names it in errors (`connections.local`);
 * `defaultNamespace` is its client's name when it gives none.
 */
export function resolveConnection(value: unknown, option: string, defaultNamespace: string): ResolvedConnectionOptions {
  if (!isRecord(value)) {
    throw new RedisCacheConfigError(option, 'must be an object with a url, ioredis options, cluster or sentinel');
  }
  if (value.cluster !== undefined && value.sentinel !== undefined) {
    throw new RedisCacheConfigError(option, 'must have cluster or sentinel, not both');
  }
  const namespace = value.namespace ?? defaultNamespace;
  if (typeof namespace !== 'string' || namespace.length === 0) {
    throw new RedisCacheConfigError(`${option}.namespace`, 'must be a non-empty string');
  }
  if (value.cluster !== undefined) return { ...resolveCluster(value, option), namespace };
  if (value.sentinel !== undefined) return { ...resolveSentinel(value, option), namespace };
  return { ...resolveStandalone(value as StandaloneConnectionOptions, option), namespace };
}
