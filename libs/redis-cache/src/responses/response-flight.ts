/** How a flight ended: its response complete (`done`), or not (`failed`: the model failed, or its call was lost). */
export type FlightEnd = 'done' | 'failed';

/** What a call waiting for a flight's first part got. */
export type FirstPart = 'part' | 'failed' | 'late';

/**
 * One model call's response on its way, as this process sees it: the parts that reached it so far, each encoded,
 * in order, and its end once it has one. Its source is a model call made here, or a leader's live stream in
 * Redis. Calls of the same key that start while it flies read it instead of asking Redis or the model.
 */
export class Flight {
  readonly parts: string[] = [];
  end?: FlightEnd;
  /** Set by `clearTenant`: nothing this flight answers may be stored. */
  fenced = false;
  /** Resolves once the flight is no longer the one of its key: after its end, and what its end does in Redis. */
  readonly closed: Promise<void>;
  private markClosed!: () => void;
  /** Calls reading it. When the last one leaves before its end, `onIdle` decides whether it goes on. */
  private readers = 0;
  private wake?: () => void;
  private changed?: Promise<void>;

  constructor(
    /** Its key among the process's flights: the tenant's key base and the entry field. */
    readonly id: string,
    /** The tenant's generation when it started; undefined when Redis could not say. */
    readonly generation: string | undefined,
    readonly startedAt: number,
    private readonly onIdle: (flight: Flight) => void,
  ) {
    this.closed = new Promise<void>((resolve) => (this.markClosed = resolve));
  }

  append(parts: readonly string[]): void {
    if (this.end) return;
    this.parts.push(...parts);
    this.notify();
  }

  finish(end: FlightEnd): void {
    if (this.end) return;
    this.end = end;
    this.notify();
  }

  /** Says that the flight is no longer the one of its key. */
  close(): void {
    this.markClosed();
  }

  /** Resolves at its next part or its end. */
  next(): Promise<void> {
    this.changed ??= new Promise<void>((resolve) => (this.wake = resolve));
    return this.changed;
  }

  join(): void {
    this.readers++;
  }

  leave(): void {
    this.readers--;
    if (this.readers === 0 && !this.end) this.onIdle(this);
  }

  /**
   * Waits for the first part, the end, `deadline` (a `performance.now()` time: `late`) or the abort of `signal`
   * (rejects with its reason), whichever comes first.
   */
  async firstPart(deadline: number, signal: AbortSignal | undefined): Promise<FirstPart> {
    signal?.throwIfAborted();
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), deadline - performance.now());
    });
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal!.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    try {
      while (this.parts.length === 0 && !this.end) {
        if ((await Promise.race([this.next(), late, aborted])) === 'late') return 'late';
      }
      return this.parts.length > 0 || this.end === 'done' ? 'part' : 'failed';
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort!);
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.changed = undefined;
    this.wake = undefined;
    wake?.();
  }
}
