/** Work under way in this process that later calls may join, and when it started (`performance.now()`). */
export interface Flight {
  readonly startedAt: number;
}

/**
 * Work under way in this process, by key, that later calls may join
 * (single-flight), each for at most `timeoutMs` from its start: past that no
 * call joins it, and one that never settles is forgotten then, so that a hung
 * computation or load holds nothing for longer. The embedding cache's
 * computations and the message cache's loads are both flights.
 */
export class Flights<F extends Flight> {
  private readonly flying = new Map<string, F>();

  constructor(private readonly timeoutMs: number) {}

  /** The flight under `key` that a call may join: none past `timeoutMs` from its start. */
  joinable(key: string): F | undefined {
    const flight = this.flying.get(key);
    if (!flight || this.left(flight) <= 0) return undefined;
    return flight;
  }

  /** The milliseconds of `timeoutMs` that `flight` has left. */
  left(flight: F): number {
    return this.timeoutMs - (performance.now() - flight.startedAt);
  }

  /** Registers each flight under its key until `settled` settles, or `timeoutMs` passes. */
  add(flights: readonly (readonly [string, F])[], settled: Promise<unknown>): void {
    for (const [key, flight] of flights) this.flying.set(key, flight);
    const land = () => {
      clearTimeout(timer);
      for (const [key, flight] of flights) this.forget(key, flight);
    };
    const timer = setTimeout(land, this.timeoutMs);
    timer.unref();
    settled.then(land, land);
  }

  /** Forgets the flight under `key`, whichever it is: a write has made what it will bring stale. */
  drop(key: string): void {
    this.flying.delete(key);
  }

  /** Forgets `flight`, unless a later flight has taken its key. */
  forget(key: string, flight: F): void {
    if (this.flying.get(key) === flight) this.flying.delete(key);
  }

  /** How many flights are registered. */
  get size(): number {
    return this.flying.size;
  }
}
