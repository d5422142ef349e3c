import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/**
 * Full garbage collections, with the callbacks they let run (finalizers, the
 * clearing of WeakRefs) run in between: after it, an object nothing reaches is gone.
 */
export async function collectGarbage(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    collect();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/**
 * Whether the promise `start` returns is gone `ms` after it started, once
 * garbage is collected: whether nothing keeps it (the caller here drops it).
 */
export async function collectedAfter(start: () => Promise<unknown>, ms: number): Promise<boolean> {
  const started = new WeakRef(start());
  await new Promise((resolve) => setTimeout(resolve, ms));
  await collectGarbage();
  return started.deref() === undefined;
}
