import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/public.decorator';
import { MetricsService } from './metrics.service';

@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @Public()
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Prometheus metrics',
    description:
      'Text exposition format: HTTP latency per route, cache latency and outcomes per operation and connection, ' +
      "the library's counters, chat answers by how the response cache answered them, Redis connection state, and " +
      "Node's process metrics. No authentication.",
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({ description: 'The metrics.', schema: { type: 'string' } })
  render(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
