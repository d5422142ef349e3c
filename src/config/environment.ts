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
import { MAX_EMBEDDING_DIMENSIONS } from '../common/limits';

const REDIS_URL = /^rediss?:\/\/\S+$/;
const REDIS_URL_MESSAGE = '$property must be a redis:// or rediss:// URL';

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

  @IsOptional()
  @IsInt()
  @Min(1)
  MAX_ENTRIES_PER_USER?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  EMBEDDING_TTL_SECONDS?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  MAX_CACHED_MESSAGES?: number;

  @IsOptional()
  @IsInt()
  @Min(1)
  MESSAGES_TTL_SECONDS?: number;

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
  if (!environment.REDIS_URL && !environment.REDIS_URI) {
    throw new EnvironmentError('Invalid environment: REDIS_URL (or REDIS_URI) must be set');
  }
  return environment;
}

/**
 * The validated environment as a config namespace. Its factory runs when the app
 * is created (not when this file is loaded), so each app reads process.env afresh.
 */
export const environment = registerAs('environment', () => validateEnvironment(process.env));
