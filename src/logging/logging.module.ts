import { Module } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import { environment, type Environment } from '../config/environment';
import { LOG_DESTINATION } from './log-destination';
import { RedisConnectionsLogger } from './redis-connections.logger';

/** Requests that would flood the log: probes and scrapes. */
const QUIET_PATHS = new Set(['/health/live', '/health/ready', '/metrics']);

/**
 * Structured JSON logs through nestjs-pino: one line per request (method, route,
 * status, time) and the app's own lines. Credentials never reach the log: the
 * Authorization and Cookie headers are censored, and Redis URLs are logged with
 * their password masked.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      providers: [{ provide: LOG_DESTINATION, useFactory: () => pino.destination(1) }],
      inject: [environment.KEY, LOG_DESTINATION],
      useFactory: (env: Environment, destination: pino.DestinationStream) => ({
        pinoHttp: [
          {
            level: env.LOG_LEVEL,
            redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '***' },
            autoLogging: { ignore: (request: IncomingMessage) => QUIET_PATHS.has(request.url ?? '') },
          },
          destination,
        ],
      }),
    }),
  ],
  providers: [RedisConnectionsLogger],
})
export class LoggingModule {}
