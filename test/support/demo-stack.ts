import { RedisService } from '@liaoliaots/nestjs-redis';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { bootDemo, type BootOptions } from './demo-app';
import { waitUntilReady } from './redis-client';
import { RedisServer } from './redis-server';

/** The demo on two private Redis servers (local and shared) and an in-memory SQLite. */
export interface DemoStack {
  app: NestExpressApplication;
  local: RedisServer;
  shared: RedisServer;
  /** Closes the app (Redis clients, SQLite) and stops both servers. */
  close(): Promise<void>;
}

export async function connectionsReady(app: NestExpressApplication): Promise<void> {
  const redis = app.get(RedisService);
  await Promise.all([waitUntilReady(redis.getOrThrow('local')), waitUntilReady(redis.getOrThrow('shared'))]);
}

export async function startDemoStack(
  environment: Record<string, string> = {},
  options: BootOptions = {},
): Promise<DemoStack> {
  const [local, shared] = await Promise.all([RedisServer.start(), RedisServer.start()]);
  const app = await bootDemo({ REDIS_URL: local.url, REDIS_SHARED_URL: shared.url, ...environment }, options);
  await connectionsReady(app);
  return {
    app,
    local,
    shared,
    async close() {
      await app.close();
      await Promise.all([local.stop(), shared.stop()]);
    },
  };
}
