import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';
import { environment, type Environment } from './config/environment';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  const { PORT } = app.get<Environment>(environment.KEY);
  await app.listen(PORT);
  new Logger('Demo').log(`Listening on http://localhost:${PORT} (health: /health/live, /health/ready)`);
}

void bootstrap();
