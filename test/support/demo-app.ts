import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AppModule } from '../../src/app.module';

const VARIABLES = [
  'REDIS_URL',
  'REDIS_URI',
  'REDIS_SHARED_URL',
  'MAX_ENTRIES_PER_USER',
  'EMBEDDING_TTL_SECONDS',
  'MAX_CACHED_MESSAGES',
  'MESSAGES_TTL_SECONDS',
  'PORT',
];

/** Boots the demo's AppModule with exactly this environment (it is read while the app is created). */
export async function bootDemo(environment: Record<string, string>): Promise<INestApplication> {
  const saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));
  for (const name of VARIABLES) delete process.env[name];
  Object.assign(process.env, environment);
  try {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    return await app.init();
  } finally {
    for (const name of VARIABLES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  }
}
