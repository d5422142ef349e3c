import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { environment, type Environment } from '../config/environment';
import { describeConnection, redisConnections } from '../config/redis-cache.config';

/** Logs where the two Redis connections point, once at start, with any password masked. */
@Injectable()
export class RedisConnectionsLogger implements OnApplicationBootstrap {
  private readonly logger = new Logger('RedisCache');

  constructor(@Inject(environment.KEY) private readonly env: Environment) {}

  onApplicationBootstrap(): void {
    const { local, shared, sharedIsLocal } = redisConnections(this.env);
    const sharedNote = sharedIsLocal ? ' (no REDIS_SHARED_* variable is set: messages use the local Redis)' : '';
    this.logger.log(
      `Redis connections: local ${describeConnection(local)}, shared ${describeConnection(shared)}${sharedNote}`,
    );
  }
}
