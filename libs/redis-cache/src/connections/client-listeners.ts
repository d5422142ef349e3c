import type { EventEmitter } from 'node:events';

/** What listeners are added to and taken off: an ioredis client or node connection. */
type Emitter = Pick<EventEmitter, 'on' | 'once' | 'off'>;
type Listener = Parameters<Emitter['on']>[1];

/**
 * The listeners one owner (a module's connections, a breaker) added to clients,
 * so that it takes every one of them off when it closes. An app's own client
 * outlives the modules started on it: a listener left behind keeps its closed
 * owner alive, and they add up with every restart.
 */
export class ClientListeners {
  private readonly added = new Map<Emitter, [event: string, listener: Listener][]>();

  on(emitter: Emitter, event: string, listener: Listener): void {
    emitter.on(event, listener);
    this.remember(emitter, event, listener);
  }

  /** A listener called once; `off` takes it off as well while it has not run (Node matches its wrapper). */
  once(emitter: Emitter, event: string, listener: Listener): void {
    emitter.once(event, listener);
    this.remember(emitter, event, listener);
  }

  /** Takes off the listeners added to `emitter`: a cluster node connection that ioredis dropped. */
  removeFrom(emitter: Emitter): void {
    for (const [event, listener] of this.added.get(emitter) ?? []) emitter.off(event, listener);
    this.added.delete(emitter);
  }

  /** Takes off every listener added so far. */
  removeAll(): void {
    for (const emitter of [...this.added.keys()]) this.removeFrom(emitter);
  }

  private remember(emitter: Emitter, event: string, listener: Listener): void {
    const listeners = this.added.get(emitter) ?? [];
    listeners.push([event, listener]);
    this.added.set(emitter, listeners);
  }
}
