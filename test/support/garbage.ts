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
