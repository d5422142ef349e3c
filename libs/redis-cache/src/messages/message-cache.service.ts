import type { OnModuleDestroy } from '@nestjs/common';
import { MessageCacheClient } from './message-cache.client';

/**
 * The conversation message cache as a Nest provider, bound to the `shared`
 * connection. It is the framework-free `MessageCacheClient` itself, so the
 * backend and a frontend using the client run the same code on the same keys.
 */
export class MessageCacheService extends MessageCacheClient implements OnModuleDestroy {
  /** Closes the cache (`close()`) when the module closes, so that nothing of it stays on the connection's client. */
  onModuleDestroy(): void {
    this.close();
  }
}
