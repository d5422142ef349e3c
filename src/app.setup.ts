import type { NestExpressApplication } from '@nestjs/platform-express';
import { jsonBodyErrors, requireJsonObject } from './common/json-body';
import { strictValidationPipe } from './common/validation-pipe';
import { environment, type Environment } from './config/environment';
import { setupDocs } from './docs/openapi';
import { HTTP_LOGGER, requestLogging } from './logging/request-logging';
import { httpMetricsMiddleware } from './metrics/http-metrics.middleware';
import { MetricsService } from './metrics/metrics.service';

/**
 * Everything main.ts sets on the app besides listening, so that the tests run
 * exactly the app that ships. Call before `init()`.
 */
export function configureApp(app: NestExpressApplication): NestExpressApplication {
  const env = app.get<Environment>(environment.KEY);
  app.disable('x-powered-by');
  app.use(httpMetricsMiddleware(app.get(MetricsService)));
  app.useBodyParser('json', { limit: env.BODY_LIMIT_BYTES });
  app.useBodyParser('urlencoded', { limit: env.BODY_LIMIT_BYTES, extended: false });
  app.use(jsonBodyErrors, requireJsonObject);
  app.useGlobalPipes(strictValidationPipe());
  setupDocs(app);
  // where nestjs-pino's middleware ran, after the body parsers and the docs: neither a request the parsers
  // refuse nor a request for the docs gets a request line or request context, as before
  app.use(requestLogging(app.get(HTTP_LOGGER)));
  return app;
}
