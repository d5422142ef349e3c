import { registerAs } from '@nestjs/config';
import { plainToInstance } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min, validateSync } from 'class-validator';

const REDIS_URL = /^rediss?:\/\/\S+$/;
const REDIS_URL_MESSAGE = '$property must be a redis:// or rediss:// URL';

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
}

export class EnvironmentError extends Error {
  override readonly name = 'EnvironmentError';
}

export function validateEnvironment(raw: Record<string, unknown>): Environment {
  const environment = plainToInstance(Environment, raw, { enableImplicitConversion: true });
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
