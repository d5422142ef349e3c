import type { NestApplicationOptions } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { useJsonBody } from './common/json-body';
import { strictValidationPipe } from './common/validation-pipe';
import { environment, type Environment } from './config/environment';
import { setupDocs } from './docs/openapi';
import { HTTP_LOGGER, requestLogging } from './logging/request-logging';
import { httpMetricsMiddleware } from './metrics/http-metrics.middleware';
import { MetricsService } from './metrics/metrics.service';

/**
 * The options main.ts and the tests create the app with. Nest's own body parsers
 * are off: configureApp mounts those the API reads.
 */
export const APP_OPTIONS = { bodyParser: false } satisfies NestApplicationOptions;

/**
 * Everything main.ts sets on the app besides listening, so that the tests run
 * exactly the app that ships. Call before `init()`, on an app created with APP_OPTIONS.
 */
export function configureApp(app: NestExpressApplication): NestExpressApplication {
  const env = app.get<Environment>(environment.KEY);
  app.disable('x-powered-by');
  app.use(httpMetricsMiddleware(app.get(MetricsService)));
  app.useBodyParser('urlencoded', { limit: env.BODY_LIMIT_BYTES, extended: false });
  useJsonBody(app, env.BODY_LIMIT_BYTES);
  app.useGlobalPipes(strictValidationPipe());
  setupDocs(app);
  // where nestjs-pino's middleware ran, after the body parsers and the docs: neither a request the parsers
  // refuse nor a request for the docs gets a request line or request context, as before
  app.use(requestLogging(app.get(HTTP_LOGGER)));
  return app;
}
