// first, so that tracing starts (when OTEL_EXPORTER_OTLP_ENDPOINT is set) before Nest and ioredis load
import './tracing/register';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { APP_OPTIONS, configureApp } from './app.setup';
import { environment, type Environment } from './config/environment';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule, { ...APP_OPTIONS, bufferLogs: true });
  const logger = app.get(Logger);
  app.useLogger(logger);
  configureApp(app);
  // SIGTERM/SIGINT: readiness goes down, in-flight requests finish, then Redis and SQLite close
  app.enableShutdownHooks();
  const { PORT } = app.get<Environment>(environment.KEY);
  try {
    await app.listen(PORT);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    logger.error(`Port ${PORT} is in use: set PORT to a free port, for example PORT=${PORT + 1} npm run demo`, 'Demo');
    await app.close();
    process.exitCode = 1;
    return;
  }
  logger.log(
    `Listening on http://localhost:${PORT} (API docs: /docs, health: /health/ready, metrics: /metrics)`,
    'Demo',
  );
}

void bootstrap();
