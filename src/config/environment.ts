import { registerAs } from '@nestjs/config';
import { plainToInstance } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';
import { MESSAGE_DEFAULTS, RedisCacheConfigError, parseHostPorts } from '@wbot/redis-cache';
import { MAX_EMBEDDING_DIMENSIONS } from '../common/limits';

const REDIS_URL = /^rediss?:\/\/\S+$/;
const REDIS_URL_MESSAGE = '$property must be a redis:// or rediss:// URL';
const HOST_PORTS = /^\s*[^,\s]+:\d+(\s*,\s*[^,\s]+:\d+)*\s*$/;
const HOST_PORTS_MESSAGE = '$property must be comma-separated host:port pairs';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The demo's environment, checked once at start; a bad value stops the start naming the variable. */
export class Environment {
  @IsOptional()
  @Matches(REDIS_URL, { message: REDIS_URL_MESSAGE })
  REDIS_URL?: string;

  @IsOptional()
  @Matches(REDIS_URL, { message: REDIS_URL_MESSAGE })
  REDIS_URI?: string;

  @IsOptional()
  @Matches(REDIS_URL, { message: REDIS_URL_MESSAGE })
  REDIS_SHARED_URL?: string;

  /** The AI-only Redis as a Redis Cluster: its seed nodes. */
  @IsOptional()
  @Matches(HOST_PORTS, { message: HOST_PORTS_MESSAGE })
  REDIS_CLUSTER_NODES?: string;

  /** The shared Redis as a Redis Cluster: its seed nodes. */
  @IsOptional()
  @Matches(HOST_PORTS, { message: HOST_PORTS_MESSAGE })
  REDIS_SHARED_CLUSTER_NODES?: string;

  /** The AI-only Redis as a master behind Sentinel: the sentinels, and the master group's name. */
  @IsOptional()
  @Matches(HOST_PORTS, { message: HOST_PORTS_MESSAGE })
  REDIS_SENTINELS?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  REDIS_SENTINEL_NAME?: string;

  /** The shared Redis as a master behind Sentinel; its name defaults to REDIS_SENTINEL_NAME. */
  @IsOptional()
  @Matches(HOST_PORTS, { message: HOST_PORTS_MESSAGE })
  REDIS_SHARED_SENTINELS?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  REDIS_SHARED_SENTINEL_NAME?: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  MAX_ENTRIES_PER_USER?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  EMBEDDING_TTL_SECONDS?: number;

  /** When set, the embedding cache keeps hot vectors in this process too, in at most this many bytes. */
  @IsOptional()
  @IsInt()
  @Min(1)
  EMBEDDING_NEAR_CACHE_BYTES?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  MAX_CACHED_MESSAGES?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  MESSAGES_TTL_SECONDS?: number;

  /** How many buckets (hash tags) the message budget is split into; on a cluster, about 4 per master. */
  @IsOptional()
  @IsInt()
  @Min(1)
  MESSAGE_BUCKETS?: number;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT: number = 3000;

  /** The SQLite file holding conversations; `:memory:` keeps them in the process only. */
  @IsString()
  @MinLength(1)
  DATABASE_PATH: string = './data/demo.sqlite';

  @IsInt()
  @Min(1)
  @Max(MAX_EMBEDDING_DIMENSIONS)
  EMBEDDING_DIMENSIONS: number = 384;

  /** Added to every call of the local embedder, to stand in for a remote model and show what the cache saves. */
  @IsInt()
  @Min(0)
  @Max(60_000)
  EMBEDDING_LATENCY_MS: number = 0;

  /** Waited before each token of the local language model that POST /chat answers with, to stand in for a remote model. */
  @IsInt()
  @Min(0)
  @Max(10_000)
  CHAT_TOKEN_LATENCY_MS: number = 20;

  /** When set, every route but health, metrics and docs needs `Authorization: Bearer <API_KEY>`. */
  @IsOptional()
  @IsString()
  @MinLength(16)
  @MaxLength(512)
  API_KEY?: string;

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  /** The largest accepted JSON body; the default fits a 3072-d embedding many times over. */
  @IsInt()
  @Min(1024)
  @Max(64 * 1024 * 1024)
  BODY_LIMIT_BYTES: number = 2 * 1024 * 1024;

  /** How long readiness reports "shutting down" before the server stops taking connections. */
  @IsInt()
  @Min(0)
  @Max(120_000)
  SHUTDOWN_DELAY_MS: number = 0;
}

export class EnvironmentError extends Error {
  override readonly name = 'EnvironmentError';
}

export function validateEnvironment(raw: Record<string, unknown>): Environment {
  const present = Object.fromEntries(Object.entries(raw).filter(([, value]) => value !== undefined && value !== ''));
  const environment = plainToInstance(Environment, present, { enableImplicitConversion: true });
  const errors = validateSync(environment, { skipMissingProperties: false });
  if (errors.length > 0) {
    const problems = errors.flatMap((error) => Object.values(error.constraints ?? {}));
    throw new EnvironmentError(`Invalid environment: ${problems.join('; ')}`);
  }
  const problem = connectionProblem(environment) ?? bucketProblem(environment);
  if (problem) throw new EnvironmentError(`Invalid environment: ${problem}`);
  return environment;
}

/**
 * The variables that give each Redis connection, by form. Where a list names
 * several, the first one set wins (REDIS_URI is an alias of REDIS_URL; the
 * shared sentinels' master group defaults to REDIS_SENTINEL_NAME).
 */
export const CONNECTION_VARIABLES = {
  local: {
    url: ['REDIS_URL', 'REDIS_URI'],
    clusterNodes: 'REDIS_CLUSTER_NODES',
    sentinels: 'REDIS_SENTINELS',
    sentinelName: ['REDIS_SENTINEL_NAME'],
  },
  shared: {
    url: ['REDIS_SHARED_URL'],
    clusterNodes: 'REDIS_SHARED_CLUSTER_NODES',
    sentinels: 'REDIS_SHARED_SENTINELS',
    sentinelName: ['REDIS_SHARED_SENTINEL_NAME', 'REDIS_SENTINEL_NAME'],
  },
} as const;

export type ConnectionVariables = (typeof CONNECTION_VARIABLES)[keyof typeof CONNECTION_VARIABLES];

/** The value of the first of `names` that is set. */
export function firstSet(environment: Environment, names: readonly (keyof Environment)[]): string | undefined {
  for (const name of names) {
    const value = environment[name];
    if (value !== undefined) return String(value);
  }
  return undefined;
}

/** How an error names a list of alternative variables: `REDIS_URL (or REDIS_URI)`. */
function spell(names: readonly string[]): string {
  return names.length > 1 ? `${names[0]} (or ${names.slice(1).join(', ')})` : names[0];
}

/** Each connection is given in at most one form (local in exactly one), a Sentinel form names its master group, and every port is valid. */
function connectionProblem(environment: Environment): string | undefined {
  for (const [role, variables] of Object.entries(CONNECTION_VARIABLES)) {
    const forms = [
      firstSet(environment, variables.url) !== undefined && spell(variables.url),
      environment[variables.clusterNodes] !== undefined && variables.clusterNodes,
      environment[variables.sentinels] !== undefined && variables.sentinels,
    ].filter((form): form is string => form !== false);
    if (role === 'local' && forms.length === 0) {
      return 'REDIS_URL, REDIS_URI, REDIS_CLUSTER_NODES or REDIS_SENTINELS must be set';
    }
    if (forms.length > 1) return `set only one of ${forms.join(' and ')}: they configure the same connection`;
    if (environment[variables.sentinels] !== undefined && firstSet(environment, variables.sentinelName) === undefined) {
      return `${spell(variables.sentinelName)} must be set with ${variables.sentinels}`;
    }
    for (const name of [variables.clusterNodes, variables.sentinels]) {
      const value = environment[name];
      if (value === undefined) continue;
      try {
        parseHostPorts(value, name);
      } catch (error) {
        if (error instanceof RedisCacheConfigError) return `${error.option} ${error.problem}`;
        throw error;
      }
    }
  }
  return undefined;
}

/** The library splits the message budget over the buckets: each must get at least one message. */
function bucketProblem(environment: Environment): string | undefined {
  const budget = environment.MAX_CACHED_MESSAGES ?? MESSAGE_DEFAULTS.maxCachedMessages;
  if (environment.MESSAGE_BUCKETS !== undefined && environment.MESSAGE_BUCKETS > budget) {
    return `MESSAGE_BUCKETS must not exceed MAX_CACHED_MESSAGES (${budget})`;
  }
  return undefined;
}

/**
 * The validated environment as a config namespace. Its factory runs when the app
 * is created (not when this file is loaded), so each app reads process.env afresh.
 */
export const environment = registerAs('environment', () => validateEnvironment(process.env));
