import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';
import { FAIL_FAST_CLUSTER_OPTIONS, FAIL_FAST_REDIS_OPTIONS, FAIL_FAST_SENTINEL_OPTIONS } from '../options/defaults';
import { RedisCacheConfigError } from '../errors';

/** A Redis server, cluster node or sentinel. */
export interface HostPort {
  /** Its host name or IP address. */
  host: string;
  /** Its TCP port. */
  port: number;
}

/** One Redis server: a URL and/or any ioredis options, which override the fail-fast defaults. */
export interface StandaloneConnectionOptions extends RedisOptions {
  /** `redis://[user:password@]host:port[/db]`, or `rediss://` for TLS; ioredis options given beside it win. */
  url?: string;
  /** The connection's name in log lines (defaults: `local`, `shared`). */
  namespace?: string;
  /** Not with `url`: a cluster is `ClusterConnectionOptions`. */
  cluster?: never;
  /** Not with `url`: a Sentinel master is `SentinelConnectionOptions`. */
  sentinel?: never;
  /** Not with `url`: the app's own client is `ExistingConnectionOptions`. */
  client?: never;
}

/**
 * A Redis Cluster: its seed nodes and any ioredis Cluster options, which override
 * the fail-fast defaults (`redisOptions` is merged key by key).
 */
export interface ClusterConnectionOptions {
  /** The seed nodes, and any ioredis Cluster options. */
  cluster: ClusterOptions & { nodes: HostPort[] };
  /** The connection's name in log lines (defaults: `local`, `shared`). */
  namespace?: string;
}

/**
 * A master found through Redis Sentinel: the sentinels, the master group's name,
 * and any ioredis options, which override the fail-fast defaults.
 */
export interface SentinelConnectionOptions {
  /** The sentinels, the master group's name, and any ioredis options. */
  sentinel: Omit<RedisOptions, 'sentinels' | 'name'> & { sentinels: HostPort[]; name: string };
  /** The connection's name in log lines (defaults: `local`, `shared`). */
  namespace?: string;
}

/**
 * A client the app already has, for example one of `@liaoliaots/nestjs-redis`'s
 * named clients (`RedisService.getOrThrow('ai')`): a `Redis` or a `Cluster`.
 * The cache uses it as it is (give it `FAIL_FAST_REDIS_OPTIONS`, or
 * `FAIL_FAST_CLUSTER_OPTIONS`, to keep calls fast while Redis is down) and
 * never closes it: its owner does.
 */
export interface ExistingConnectionOptions {
  /** The app's ioredis `Redis` or `Cluster`. */
  client: Redis | Cluster;
  /** The connection's name in log lines (defaults: `local`, `shared`). */
  namespace?: string;
}

/** The options a client is made from: a server, a cluster or a Sentinel master (what `createCacheClient` takes). */
export type CacheClientOptions = StandaloneConnectionOptions | ClusterConnectionOptions | SentinelConnectionOptions;

/** One of the module's connections: the options to make its client from, or the app's own client. */
export type RedisConnectionOptions = CacheClientOptions | ExistingConnectionOptions;

/**
 * A connection as validated, with the fail-fast defaults applied; `kind` says
 * which client it makes, or `existing` for the app's own client.
 */
export type ResolvedConnectionOptions =
  | { readonly kind: 'standalone'; readonly namespace: string; readonly redis: RedisOptions & { url?: string } }
  | { readonly kind: 'sentinel'; readonly namespace: string; readonly redis: RedisOptions }
  | {
      readonly kind: 'cluster';
      readonly namespace: string;
      readonly nodes: HostPort[];
      readonly cluster: ClusterOptions;
    }
  | { readonly kind: 'existing'; readonly namespace: string; readonly client: Redis | Cluster };

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

/** Options beside `cluster`, `sentinel` or `client` would be silently dropped. */
function assertAlone(raw: Record<string, unknown>, form: 'cluster' | 'sentinel' | 'client', option: string): void {
  const stray = Object.keys(raw).filter((key) => key !== form && key !== 'namespace');
  if (stray.length === 0) return;
  if (form === 'client') {
    throw new RedisCacheConfigError(`${option}.${stray[0]}`, `must not be set beside ${option}.client`);
  }
  throw new RedisCacheConfigError(`${option}.${stray[0]}`, `must go inside ${option}.${form}`);
}

/** An ioredis `Redis` or `Cluster`, from any copy of ioredis: known by its shape, not its class. */
function isIoredisClient(value: unknown): value is Redis | Cluster {
  if (!isRecord(value)) return false;
  return typeof value.status === 'string' && typeof value.defineCommand === 'function' && 'isCluster' in value;
}

function resolveExisting(raw: Record<string, unknown>, option: string) {
  assertAlone(raw, 'client', option);
  if (!isIoredisClient(raw.client)) {
    throw new RedisCacheConfigError(`${option}.client`, 'must be an ioredis Redis or Cluster client');
  }
  return { kind: 'existing' as const, client: raw.client };
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
 * Validates one connection (`{ url, ...ioredis }`, `{ cluster }`, `{ sentinel }`
 * or `{ client }`) and applies the fail-fast defaults. `option` names it in
 * errors (`connections.local`); `defaultNamespace` is its name when it gives none.
 */
export function resolveConnection(value: unknown, option: string, defaultNamespace: string): ResolvedConnectionOptions {
  if (!isRecord(value)) {
    throw new RedisCacheConfigError(
      option,
      'must be an object with a url, ioredis options, cluster, sentinel or client',
    );
  }
  const forms = (['cluster', 'sentinel', 'client'] as const).filter((form) => value[form] !== undefined);
  if (forms.length > 1) {
    throw new RedisCacheConfigError(option, `must have one of cluster, sentinel or client, not ${forms.join(' and ')}`);
  }
  const namespace = value.namespace ?? defaultNamespace;
  if (typeof namespace !== 'string' || namespace.length === 0) {
    throw new RedisCacheConfigError(`${option}.namespace`, 'must be a non-empty string');
  }
  if (value.cluster !== undefined) return { ...resolveCluster(value, option), namespace };
  if (value.sentinel !== undefined) return { ...resolveSentinel(value, option), namespace };
  if (value.client !== undefined) return { ...resolveExisting(value, option), namespace };
  return { ...resolveStandalone(value as StandaloneConnectionOptions, option), namespace };
}
