import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { environment, type Environment } from '../config/environment';

/**
 * Readiness during a graceful shutdown. Nest's shutdown runs the destroy hooks,
 * then the before-shutdown hooks, then closes the HTTP server (in-flight requests
 * finish), then the shutdown hooks (Redis and SQLite close). Readiness goes down
 * at the first step, and SHUTDOWN_DELAY_MS keeps the server taking requests while
 * a load balancer notices and stops sending new ones.
 */
@Injectable()
export class ShutdownIndicator implements OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger('Shutdown');
  private shuttingDown = false;

  constructor(
    private readonly health: HealthIndicatorService,
    @Inject(environment.KEY) private readonly env: Environment,
  ) {}

  onModuleDestroy(): void {
    this.shuttingDown = true;
  }

  /** `signal` is set when a signal started the shutdown (enableShutdownHooks), not when the app closes itself. */
  async beforeApplicationShutdown(signal?: string): Promise<void> {
    if (signal) {
      this.logger.log(
        `Shutting down on ${signal}: readiness is down; in-flight requests finish` +
          `${this.env.SHUTDOWN_DELAY_MS > 0 ? ` after ${this.env.SHUTDOWN_DELAY_MS} ms` : ''}, then Redis and SQLite close`,
      );
    }
    if (this.env.SHUTDOWN_DELAY_MS > 0) await sleep(this.env.SHUTDOWN_DELAY_MS);
  }

  isServing(key = 'app'): HealthIndicatorResult {
    const indicator = this.health.check(key);
    return this.shuttingDown ? indicator.down({ state: 'shutting down' }) : indicator.up({ state: 'serving' });
  }
}
