import { NEAR_CACHE_MAX_FENCES } from '../../options/defaults';

/**
 * Keeps a read from filling the near cache with what an invalidation that came
 * while it was under way made stale. A read takes a ticket before it is sent; an
 * invalidation of a user, or of everything, raises a fence; a read may fill only
 * if no fence of its user, and no fence of everything, was raised after its
 * ticket. That is enough: a change that ran in Redis after the read is announced
 * after the read was sent, so its invalidation either comes before the read's
 * reply (and fences it) or after (and removes what it filled). Fences are only
 * kept while reads are under way, at most `NEAR_CACHE_MAX_FENCES` of them; past
 * that, the oldest becomes a fence of everything. Pure bookkeeping, no I/O.
 */
export class ReadFence {
  private sequence = 0;
  private floor = 0;
  private reading = 0;
  /** The sequence of each user's last invalidation, by `vec` key, oldest first. */
  private readonly fences = new Map<string, number>();

  /** A ticket for a read about to be sent; end it with `end()` once its reply is handled, whatever it was. */
  begin(): number {
    this.reading++;
    return this.sequence;
  }

  end(): void {
    if (--this.reading === 0) this.fences.clear();
  }

  /** Whether the read of `ticket` may fill entries of the user whose `vec` key is `vectorsKey`. */
  admits(ticket: number, vectorsKey: string): boolean {
    return ticket >= this.floor && ticket >= (this.fences.get(vectorsKey) ?? 0);
  }

  /** Fences the reads under way of the user whose `vec` key is `vectorsKey`. */
  user(vectorsKey: string): void {
    this.sequence++;
    if (this.reading === 0) return;
    this.fences.delete(vectorsKey);
    this.fences.set(vectorsKey, this.sequence);
    if (this.fences.size > NEAR_CACHE_MAX_FENCES) {
      const [oldest, sequence] = this.fences.entries().next().value as [string, number];
      this.fences.delete(oldest);
      this.floor = Math.max(this.floor, sequence);
    }
  }

  /** Fences every read under way. */
  all(): void {
    this.sequence++;
    this.floor = this.sequence;
    this.fences.clear();
  }
}
