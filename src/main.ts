import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { environment, type Environment } from './config/environment';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { bufferLogs: true });
  const logger = app.get(Logger);
  app.useLogger(logger);
  configureApp(app);
  // SIGTERM/SIGINT: readiness goes down, in-flight requests finish, then Redis and SQLite close
  app.enableShutdownHooks();
  const { PORT } = app.get<Environment>(environment.KEY);
  await app.listen(PORT);
  logger.log(
    `Listening on http://localhost:${PORT} (API docs: /docs, health: /health/ready, metrics: /metrics)`,
    'Demo',
  );
}

void bootstrap();
