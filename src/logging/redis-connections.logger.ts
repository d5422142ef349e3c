import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { environment, type Environment } from '../config/environment';
import { maskRedisUrl } from '../config/redis-cache.config';

/** Logs where the two Redis connections point, once at start, with any password masked. */
@Injectable()
export class RedisConnectionsLogger implements OnApplicationBootstrap {
  private readonly logger = new Logger('RedisCache');

  constructor(@Inject(environment.KEY) private readonly env: Environment) {}

  onApplicationBootstrap(): void {
    const local = (this.env.REDIS_URL ?? this.env.REDIS_URI) as string;
    const shared = this.env.REDIS_SHARED_URL ?? local;
    this.logger.log(`Redis connections: local ${maskRedisUrl(local)}, shared ${maskRedisUrl(shared)}`);
  }
}
