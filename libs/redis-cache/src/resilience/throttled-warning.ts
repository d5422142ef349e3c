import type { CacheLogger } from '../options/redis-cache-options';

const QUIET_PERIOD_MS = 10_000;

/**
 * Logs the first of a run of repeated failures at once, then at most one line per
 * quiet period with the number suppressed, so an outage can't flood the logs.
 * One per kind of warning (a connection's errors, a cache's fallbacks, the
 * settling's failed clears), so that one kind never hides another.
 */
export class ThrottledWarning {
  private lastLoggedAt = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly logger: CacheLogger,
    private readonly now: () => number = Date.now,
  ) {}

  warn(message: string): void {
    const now = this.now();
    if (now - this.lastLoggedAt < QUIET_PERIOD_MS) {
      this.suppressed++;
      return;
    }
    const tail = this.suppressed > 0 ? ` (${this.suppressed} similar suppressed)` : '';
    this.lastLoggedAt = now;
    this.suppressed = 0;
    this.logger.warn(message + tail);
  }
}
