/**
 * `beforeAll` and `afterAll` hooks start and stop real servers: redis-server
 * processes, a three-master cluster, Sentinel, the demo app, Chromium. Jest's 5 s
 * default failed such a hook in CI, when `redis-cli --cluster create` took up to
 * 6 s to form a cluster; forming one still takes 2.1 s, more on a loaded machine.
 * A once-per-file hook that names no timeout gets 60 s here. Tests, and
 * `beforeEach`/`afterEach`, keep the 5 s default, so a call that hangs still
 * fails fast.
 */
const SETUP_HOOK_TIMEOUT_MS = 60_000;

type Hook = typeof beforeAll;

function withSetupTimeout(hook: Hook): Hook {
  return (fn, timeout = SETUP_HOOK_TIMEOUT_MS) => hook(fn, timeout);
}

globalThis.beforeAll = withSetupTimeout(globalThis.beforeAll);
globalThis.afterAll = withSetupTimeout(globalThis.afterAll);
