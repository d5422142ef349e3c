import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { ShutdownIndicator } from './shutdown.indicator';

@Module({
  imports: [TerminusModule],
  controllers: [HealthController],
  providers: [ShutdownIndicator],
})
export class HealthModule {}
