import type { NestApplicationOptions } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ErrorResponseFilter } from './common/error-response.filter';
import { useJsonBody } from './common/json-body';
import { strictValidationPipe } from './common/validation-pipe';
import { environment, type Environment } from './config/environment';
import { setupDocs } from './docs/openapi';
import { HTTP_LOGGER, requestLogging } from './logging/request-logging';
import { httpMetricsMiddleware } from './metrics/http-metrics.middleware';
import { MetricsService } from './metrics/metrics.service';

/**
 * The options main.ts and the tests create the app with. Nest's own body parsers
 * (JSON, and forms, which no route takes) are off: configureApp mounts the one the
 * API reads.
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
  setupDocs(app);
  // after the docs, which get no request line or request context, and before the body is read, so that a body
  // refused (malformed, too large, not JSON) is logged as any other 4xx: one request line, at info
  app.use(requestLogging(app.get(HTTP_LOGGER)));
  useJsonBody(app, env.BODY_LIMIT_BYTES);
  app.useGlobalPipes(strictValidationPipe());
  app.useGlobalFilters(new ErrorResponseFilter(app.getHttpAdapter()));
  return app;
}
