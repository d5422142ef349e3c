import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { RedisCacheHealthIndicator } from '@wbot/redis-cache';
import { Public } from '../auth/public.decorator';
import { ShutdownIndicator } from './shutdown.indicator';

@ApiTags('operations')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly redis: RedisCacheHealthIndicator,
    private readonly shutdown: ShutdownIndicator,
  ) {}

  /** Liveness: the process answers. Checks no dependency, so a Redis outage never restarts the app. */
  @Get('live')
  @HealthCheck()
  @ApiOperation({ summary: 'Liveness', description: 'The process answers. Checks no dependency. No authentication.' })
  live() {
    return this.health.check([]);
  }

  /** Readiness: not shutting down, and both Redis connections up, with state and PING latency. */
  @Get('ready')
  @HealthCheck()
  @ApiOperation({
    summary: 'Readiness',
    description:
      'Up when the app is not shutting down and both Redis connections answer PING. 503 otherwise, naming what is ' +
      'down (`app` is down with state "shutting down" during a graceful shutdown). No authentication.',
  })
  ready() {
    return this.health.check([
      () => this.shutdown.isServing(),
      () => this.redis.isHealthy('local'),
      () => this.redis.isHealthy('shared'),
    ]);
  }
}
