// `npm run demo`: builds the library and the demo (`npm run build`), then starts the app. When no Redis is
// configured (none of REDIS_URL, REDIS_URI, REDIS_CLUSTER_NODES, REDIS_SENTINELS in the environment or in .env,
// or the file ENV_FILE names, which the app also reads), it first starts a private, memory-only redis-server on
// a free port.
//
// npm runs this script with `exec` (package.json), so a SIGTERM or SIGINT sent to npm reaches this process
// and no shell is left in between to swallow it. This process passes the signal to the step under way (the
// build, or the app, which then shuts down gracefully), stops the private redis-server once the app has
// exited, and exits itself. The children run in their own process group, so a Ctrl-C in the terminal reaches
// the app once, through here, and not a second time directly (a second signal would cut its shutdown short).
const { spawn, spawnSync } = require('node:child_process');
const { existsSync, readFileSync } = require('node:fs');
const { join, resolve: resolvePath } = require('node:path');
const { parse } = require('dotenv');
const { answersPing, freePort } = require('./net-probes');

const ROOT = join(__dirname, '..');
const SIGNALS = ['SIGINT', 'SIGTERM'];
/** How long the private redis-server may take to stop before it is killed. */
const REDIS_STOP_TIMEOUT_MS = 5000;

/** The variables that configure the local connection, one per form (src/config/environment.ts). */
const LOCAL_REDIS_VARIABLES = ['REDIS_URL', 'REDIS_URI', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'];

let current; // the child under way: the build, then the app
let stopping;

function run(command, args, env) {
  current = spawn(command, args, { cwd: ROOT, env, stdio: 'inherit', detached: true });
  return new Promise((resolve) => current.once('exit', (code, signal) => resolve({ code, signal })));
}

function exited(child) {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Stops a child and waits for it, killing it if it takes longer than `timeoutMs`. */
function stop(child, timeoutMs) {
  if (!child || exited(child)) return Promise.resolve();
  const done = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return done.finally(() => clearTimeout(timer));
}

/** Whether the environment, or the .env file the app reads as @nestjs/config does, configures a Redis. */
function redisConfigured(env) {
  const path = resolvePath(ROOT, env.ENV_FILE ?? '.env');
  const file = existsSync(path) ? parse(readFileSync(path)) : {};
  return LOCAL_REDIS_VARIABLES.some((name) => env[name] || file[name]);
}

async function startPrivateRedis() {
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    console.error(
      'REDIS_URL is not set and no redis-server binary was found.\n' +
        'Either install Redis (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis),\n' +
        'or start one with Docker (docker compose up -d redis) and run: REDIS_URL=redis://localhost:6379 npm run demo',
    );
    process.exit(1);
  }
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  const redis = spawn('redis-server', args, { stdio: 'ignore', detached: true });
  for (let attempt = 0; attempt < 100 && !(await answersPing(port)); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  console.log(`Started a private redis-server on port ${port} (memory only; stopped when the demo exits).`);
  return { redis, url: `redis://127.0.0.1:${port}` };
}

async function main() {
  for (const signal of SIGNALS) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = signal;
      if (current && !exited(current)) current.kill(signal);
    });
  }

  const built = await run('npm', ['run', 'build'], process.env);
  if (stopping || built.code !== 0) process.exit(stopping ? 0 : (built.code ?? 1));

  const env = { ...process.env };
  let redis;
  if (!redisConfigured(env)) {
    ({ redis, url: env.REDIS_URL } = await startPrivateRedis());
  }
  const app = stopping ? { code: 0 } : await run(process.execPath, [join(ROOT, 'dist', 'main.js')], env);
  await stop(redis, REDIS_STOP_TIMEOUT_MS);
  process.exit(stopping ? 0 : (app.code ?? 1));
}

void main();
