// `npm run demo`: starts the built demo app. When no Redis is configured (none of
// REDIS_URL, REDIS_URI, REDIS_CLUSTER_NODES, REDIS_SENTINELS in the environment or
// in .env, which the app also reads), it first starts a private, memory-only
// redis-server on a free port (the embedded default) and stops it when the app exits.
const { spawn, spawnSync } = require('node:child_process');
const { existsSync, readFileSync } = require('node:fs');
const { parse } = require('dotenv');
const { answersPing, freePort } = require('./net-probes');
const { join } = require('node:path');

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
  const redis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  for (let attempt = 0; attempt < 100 && !(await answersPing(port)); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  console.log(`Started a private redis-server on port ${port} (memory only; stopped when the demo exits).`);
  return { redis, url: `redis://127.0.0.1:${port}` };
}

/** The variables that configure the local connection, one per form (src/config/environment.ts). */
const LOCAL_REDIS_VARIABLES = ['REDIS_URL', 'REDIS_URI', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'];

/** Whether the environment, or the .env file the app reads as @nestjs/config does, configures a Redis. */
function redisConfigured(env) {
  const file = existsSync('.env') ? parse(readFileSync('.env')) : {};
  return LOCAL_REDIS_VARIABLES.some((name) => env[name] || file[name]);
}

async function main() {
  const env = { ...process.env };
  let redis;
  if (!redisConfigured(env)) {
    const started = await startPrivateRedis();
    redis = started.redis;
    env.REDIS_URL = started.url;
  }
  const app = spawn(process.execPath, [join(__dirname, '..', 'dist', 'main.js')], { env, stdio: 'inherit' });
  const stop = (signal) => app.kill(signal);
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  app.on('exit', (code, signal) => {
    redis?.kill('SIGTERM');
    process.exit(code ?? (signal ? 0 : 1));
  });
}

void main();
