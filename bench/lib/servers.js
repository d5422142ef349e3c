'use strict';
// Private redis-server processes for the benches that start their own (sizing,
// cluster): free ports (never 6379), temp dirs, no persistence, and always
// stopped, on exit or on a signal.

const { execFile, spawn } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');
const { createCacheRedis } = require('../../libs/redis-cache/dist');
const { freePort } = require('../../scripts/net-probes');
const { ready } = require('./redis');
const { promisify } = require('node:util');

const run = promisify(execFile);
const started = new Set();

function stopAll() {
  for (const server of started) server.child.kill('SIGKILL');
}
process.once('exit', stopAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    stopAll();
    process.exit(130);
  });
}

async function pings(port) {
  try {
    const { stdout } = await run('redis-cli', ['-p', String(port), 'ping']);
    return stdout.trim() === 'PONG';
  } catch {
    return false;
  }
}

/**
 * Starts a redis-server on a free port with `extraArgs`; `.stop()` kills it and removes its dir. `under(dir)` gives
 * a command to run it under, before `redis-server` (valgrind, say), and `startMs` how long it may take to answer.
 */
async function startServer(extraArgs = [], { under = () => [], startMs = 5000 } = {}) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    if (port === 6379) continue;
    const dir = mkdtempSync(join(tmpdir(), 'wbot-bench-redis-'));
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    const [command, ...prefix] = [...under(dir), 'redis-server'];
    const child = spawn(command, [...prefix, ...args, '--dir', dir, '--daemonize', 'no', ...extraArgs], {
      stdio: 'ignore',
    });
    const server = {
      port,
      url: `redis://127.0.0.1:${port}`,
      dir,
      child,
      async stop() {
        started.delete(server);
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGKILL');
          await exited;
        }
        rmSync(dir, { recursive: true, force: true });
      },
    };
    started.add(server);
    for (let i = 0; i < startMs / 50 && child.exitCode === null; i++) {
      if (await pings(port)) return server;
      await sleep(50);
    }
    await server.stop();
  }
  throw new Error('could not start redis-server (is it installed?)');
}

/** A Redis Cluster of `size` masters and no replicas, ready (cluster_state:ok on every node). */
async function startCluster(size) {
  const args = [
    ...['--cluster-enabled', 'yes', '--cluster-node-timeout', '2000', '--cluster-require-full-coverage', 'no'],
    // a lone master that never met another does not know its own address
    ...['--cluster-announce-ip', '127.0.0.1'],
  ];
  const masters = await Promise.all(Array.from({ length: size }, () => startServer(args)));
  const stop = () => Promise.all(masters.map((master) => master.stop()));
  try {
    if (size === 1) {
      // redis-cli --cluster create wants three masters; one node takes every slot itself
      await run('redis-cli', ['-p', String(masters[0].port), 'cluster', 'addslotsrange', '0', '16383']);
    } else {
      const addresses = masters.map((master) => `127.0.0.1:${master.port}`);
      await run('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes']);
    }
    for (let i = 0; i < 300; i++) {
      const states = await Promise.all(
        masters.map(async ({ port }) => (await run('redis-cli', ['-p', String(port), 'cluster', 'info'])).stdout),
      );
      if (states.every((info) => /cluster_state:ok/.test(info))) {
        return { masters, nodes: masters.map(({ port }) => ({ host: '127.0.0.1', port })), stop };
      }
      await sleep(50);
    }
    throw new Error(`the ${size}-master cluster did not reach cluster_state:ok`);
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Runs `work({ client, admin })` on a private redis-server started with
 * `extraArgs`: `client` for what is measured, `admin` for INFO and inspection,
 * both library clients with a 10 s command timeout. Closes both and stops the
 * server afterwards, whatever `work` does.
 */
async function withPrivateServer(extraArgs, work) {
  const server = await startServer(extraArgs);
  const client = createCacheRedis(server.url, { commandTimeout: 10_000 });
  const admin = createCacheRedis(server.url, { commandTimeout: 10_000 });
  try {
    await Promise.all([ready(client), ready(admin)]);
    return await work({ client, admin });
  } finally {
    client.disconnect();
    admin.disconnect();
    await server.stop();
  }
}

module.exports = { startCluster, startServer, withPrivateServer };
