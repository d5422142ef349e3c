/**
 * `beforeAll` and `afterAll` hooks start and stop real servers: redis-server
 * processes, a three-master cluster, Sentinel, the demo app, Chromium. Forming a
 * cluster alone takes 2 to 6 s on an idle 2-core machine (redis-cli waits for
 * the nodes to agree in steps of a second), more on a loaded one, so Jest's 5 s
 * default failed such a hook in CI. A once-per-file hook that names no timeout
 * gets 60 s here. Tests, and `beforeEach`/`afterEach`, keep the 5 s default, so
 * a call that hangs still fails fast.
 */
export const SETUP_HOOK_TIMEOUT_MS = 60_000;

type Hook = typeof beforeAll;

function withSetupTimeout(hook: Hook): Hook {
  return (fn, timeout = SETUP_HOOK_TIMEOUT_MS) => hook(fn, timeout);
}

globalThis.beforeAll = withSetupTimeout(globalThis.beforeAll);
globalThis.afterAll = withSetupTimeout(globalThis.afterAll);
