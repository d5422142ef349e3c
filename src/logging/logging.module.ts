import { Module } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';
import { environment, type Environment } from '../config/environment';
import { LOG_DESTINATION } from './log-destination';
import { RedisConnectionsLogger } from './redis-connections.logger';
import { HTTP_LOGGER } from './request-logging';

/** Requests that would flood the log: probes and scrapes. */
const QUIET_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

/**
 * Structured JSON logs through nestjs-pino: one line per request (method, route,
 * status, time) and the app's own lines. Credentials never reach the log: the
 * Authorization and Cookie headers are censored, and Redis URLs are logged with
 * their password masked.
 *
 * The request middleware is `requestLogging` (request-logging.ts, mounted in
 * app.setup.ts), on the pino-http instance made here. nestjs-pino's Logger writes
 * through that instance's logger (`useExisting`), and mounts no middleware of its
 * own (`forRoutes: []`).
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      providers: [
        { provide: LOG_DESTINATION, useFactory: () => pino.destination(1) },
        {
          provide: HTTP_LOGGER,
          inject: [environment.KEY, LOG_DESTINATION],
          useFactory: (env: Environment, destination: pino.DestinationStream): HttpLogger =>
            pinoHttp(
              {
                level: env.LOG_LEVEL,
                redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '***' },
                autoLogging: { ignore: (request: IncomingMessage) => QUIET_PATHS.has(request.url ?? '') },
              },
              destination,
            ),
        },
      ],
      inject: [HTTP_LOGGER],
      useFactory: (http: HttpLogger) => ({
        pinoHttp: { logger: http.logger },
        useExisting: true as const,
        forRoutes: [],
      }),
    }),
  ],
  providers: [RedisConnectionsLogger],
})
export class LoggingModule {}
