'use strict';
// When a cached entry or conversation was last refreshed on the server, as far as its worker can know: the TTL
// check of the models. Serving it later than its TTL after that is a wrong read (an expired value served).
//
// What the worker cannot know, it does not check:
// - a call that gave its fallback may still run on the server, later (ioredis #2130): until a later call on the
//   same slot is answered (one connection per node, in order, so the earlier one ran before or never), the
//   entry may have been refreshed at any time;
// - after a loss of the LRU that the scripts rebuild (a dropped bookkeeping key), the rebuilt scores are new:
//   until the entry is refreshed again by a call that started after the loss, its age is unknown.

/** The server's clock (TIME, microseconds) and this process's are the same machine's; this absorbs rounding. */
const SLACK_MS = 50;

class Recency {
  last = -Infinity;
  pending = false;
  /** Set after a loss: a refresh counts again once one started at or after it (Infinity while the loss is under way). */
  unknownFrom = undefined;

  /** A call that gave its fallback, and may still refresh it. */
  mayRefresh() {
    this.pending = true;
  }

  /** A later call on the same slot was answered: a pending one ran before it, or never. */
  answered(call) {
    if (!this.pending) return;
    this.pending = false;
    this.last = Math.max(this.last, call.end);
  }

  /** A call refreshed it: a hit, or a write that went through. */
  refreshed(call) {
    this.answered(call);
    this.last = Math.max(this.last, call.end);
    if (this.unknownFrom !== undefined && call.start >= this.unknownFrom) this.unknownFrom = undefined;
  }

  /** Its LRU record is about to be lost; `lostAt` says when it was. */
  losing() {
    this.unknownFrom = Infinity;
  }

  lostAt(time) {
    if (this.unknownFrom === Infinity) this.unknownFrom = time;
  }

  /** Whether it was certainly expired when a read that started at `start` ran, with a TTL of `ttlMs`. */
  expiredBy(start, ttlMs) {
    return !this.pending && this.unknownFrom === undefined && start > this.last + ttlMs + SLACK_MS;
  }
}

module.exports = { Recency };
