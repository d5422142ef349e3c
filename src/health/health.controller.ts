import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { RedisCacheHealthIndicator } from '@wbot/redis-cache';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redis: RedisCacheHealthIndicator,
  ) {}

  /** Liveness: the process answers. Checks no dependency, so a Redis outage never restarts the app. */
  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Readiness: both Redis connections, with state and PING latency; 503 when one is down. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.redis.isHealthy('local'), () => this.redis.isHealthy('shared')]);
  }
}
