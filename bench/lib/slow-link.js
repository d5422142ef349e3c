'use strict';
// A private redis-server across a slow link, for the batch bench at a network's round trip (bench/batch-netem.js).
//
// First choice: a network namespace of its own with a veth pair into it, `tc qdisc netem delay` on both ends (half
// the round trip each way), and the redis-server listening inside the namespace, on the far end of the pair. That
// needs root and a kernel with netem (CONFIG_NET_SCH_NETEM). Where either is missing, a delay proxy in Node
// (delay-proxy.js) holds every chunk for half the round trip in each direction, in front of a redis-server on
// loopback; the link's `kind` and `why` say which was used and why. Either way, `stop()` removes everything,
// and so does the process's exit, on failure or on a signal (the namespace is deleted then too), and a start
// first deletes the namespaces of earlier runs whose process is gone (killed with SIGKILL, say).

const { execFileSync, spawn } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');
const { freePort } = require('../../scripts/net-probes');
const { floorClient } = require('./redis');
const { median } = require('./rounds');
const { startServer } = require('./servers');

const PREFIX = 'wbot-bench-';
const CALIBRATION_STEPS = 3;
/** redis-server and the proxy go on CPU 0 where run.sh pins the bench's Node process to CPU 1. */
const PIN = process.env.BENCH_PINNING ? ['taskset', '-c', '0'] : [];
/** Spawns `command` on CPU 0 where the bench is pinned. */
const spawnPinned = (command, options) => spawn([...PIN, ...command][0], [...PIN, ...command].slice(1), options);

/** Runs a command and gives its stdout; throws with its stderr. */
function run(command, args) {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
};

/** Deletes the namespaces earlier runs left behind, if their process is gone, and what still runs in them. */
function removeStaleNamespaces() {
  let list = '';
  try {
    list = run('ip', ['netns', 'list']);
  } catch {
    return;
  }
  for (const [, name, pid] of list.matchAll(new RegExp(`^(${PREFIX}(\\d+))`, 'gm'))) {
    if (alive(Number(pid))) continue;
    // its redis-server outlived it, in the namespace
    for (const orphan of run('ip', ['netns', 'pids', name]).split('\n').filter(Boolean)) {
      process.kill(Number(orphan), 'SIGKILL');
    }
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  }
}

async function waitForPing(host, port, what, child) {
  for (let i = 0; i < 100 && child.exitCode === null; i++) {
    try {
      if (run('redis-cli', ['-h', host, '-p', String(port), 'ping']).trim() === 'PONG') return;
    } catch {
      // not yet
    }
    await sleep(50);
  }
  throw new Error(`${what} did not answer PING`);
}

/** The netem link: a namespace, a veth pair, netem on both ends, redis-server inside. Throws if the kernel refuses. */
async function netemLink(oneWayUs) {
  const name = `${PREFIX}${process.pid}`;
  const near = `wbb${process.pid}a`;
  const far = `wbb${process.pid}b`;
  const slot = process.pid % 16384;
  const subnet = `10.213.${slot >> 6}.${(slot & 63) * 4}`;
  const [nearIp, farIp] = [1, 2].map((host) => subnet.replace(/\d+$/, (last) => String(Number(last) + host)));
  let child;
  let dir;
  const cleanup = () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    try {
      execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
    } catch {
      // never created, or already gone
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', cleanup);
  const inside = (...args) => run('ip', ['netns', 'exec', name, ...args]);
  try {
    run('ip', ['netns', 'add', name]);
    run('ip', ['link', 'add', near, 'type', 'veth', 'peer', 'name', far]);
    run('ip', ['link', 'set', far, 'netns', name]);
    run('ip', ['addr', 'add', `${nearIp}/30`, 'dev', near]);
    run('ip', ['link', 'set', near, 'up']);
    inside('ip', 'addr', 'add', `${farIp}/30`, 'dev', far);
    inside('ip', 'link', 'set', far, 'up');
    inside('ip', 'link', 'set', 'lo', 'up');
    run('tc', ['qdisc', 'add', 'dev', near, 'root', 'netem', 'delay', `${oneWayUs}us`]);
    inside('tc', 'qdisc', 'add', 'dev', far, 'root', 'netem', 'delay', `${oneWayUs}us`);
    const port = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'wbot-bench-redis-'));
    // protected mode would refuse the root namespace's address; only the veth reaches this server
    const args = ['--port', String(port), '--bind', farIp, '--protected-mode', 'no'];
    const quiet = ['--save', '', '--appendonly', 'no', '--dir', dir];
    child = spawnPinned(['ip', 'netns', 'exec', name, 'redis-server', ...args, ...quiet], { stdio: 'ignore' });
    await waitForPing(farIp, port, 'redis-server in the namespace', child);
    // a failure that skips stop() must not keep the process alive: its exit removes everything
    child.unref();
    const stop = async () => {
      process.removeListener('exit', cleanup);
      child.ref(); // until it has exited
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
      cleanup();
    };
    return {
      kind: 'netem',
      url: `redis://${farIp}:${port}`,
      description: `netem, ${oneWayUs} µs each way on a veth pair into a network namespace (${name}); redis-server listens in it`,
      stop,
    };
  } catch (error) {
    process.removeListener('exit', cleanup);
    cleanup();
    throw error;
  }
}

/** The median PING round trip of `samples` one after another on a fresh connection to `port`, in µs. */
async function pingUs(port, samples = 300) {
  const client = await floorClient(`redis://127.0.0.1:${port}`);
  try {
    const times = [];
    for (let i = 0; i < samples; i++) {
      const start = performance.now();
      await client.ping();
      times.push((performance.now() - start) * 1000);
    }
    return median(times);
  } finally {
    client.disconnect();
  }
}

/**
 * Sets the proxy's delay so that a PING through it takes `2 * oneWayUs` longer than one straight to redis-server:
 * the proxy's own hop (two more reads and writes, the clock thread's wake-up) is part of the link. A few steps of
 * measure and correct; gives the delay it settled on.
 */
async function calibrate(proxy, redisPort, proxyPort, oneWayUs) {
  let delayUs = oneWayUs;
  for (let step = 0; step < CALIBRATION_STEPS; step++) {
    const added = (await pingUs(proxyPort)) - (await pingUs(redisPort));
    delayUs = Math.max(0, Math.round(delayUs + (2 * oneWayUs - added) / 2));
    proxy.stdin.write(`${delayUs}\n`);
  }
  return delayUs;
}

/** The fallback: a redis-server on loopback behind delay-proxy.js. */
async function proxyLink(oneWayUs, why) {
  const server = await startServer([], { under: () => PIN });
  const port = await freePort();
  const script = join(__dirname, 'delay-proxy.js');
  const proxy = spawnPinned([process.execPath, script, String(port), String(server.port), String(oneWayUs)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const kill = () => proxy.exitCode === null && proxy.signalCode === null && proxy.kill('SIGKILL');
  process.once('exit', kill);
  let delayUs;
  try {
    await new Promise((resolve, reject) => {
      proxy.stdout.on('data', (chunk) => String(chunk).includes('listening') && resolve());
      proxy.once('exit', (code) => reject(new Error(`the delay proxy exited (${code})`)));
    });
    await waitForPing('127.0.0.1', port, 'redis-server through the delay proxy', proxy);
    delayUs = await calibrate(proxy, server.port, port, oneWayUs);
    // a failure that skips stop() must not keep the process alive: its exit removes everything
    for (const handle of [proxy, proxy.stdin, proxy.stdout, server.child]) handle.unref();
  } catch (error) {
    kill();
    await server.stop();
    throw error;
  }
  return {
    kind: 'proxy',
    url: `redis://127.0.0.1:${port}`,
    description:
      `a TCP delay proxy in Node (bench/lib/delay-proxy.js) before a redis-server on loopback, holding each chunk ` +
      `${delayUs} µs each way so that a PING's round trip is ${(2 * oneWayUs) / 1000} ms longer than on loopback ` +
      `(calibrated: the proxy's own hop takes the rest); netem was not usable: ${why}`,
    why,
    async stop() {
      process.removeListener('exit', kill);
      for (const handle of [proxy, server.child]) handle.ref(); // until they have exited
      if (proxy.exitCode === null && proxy.signalCode === null) {
        const exited = new Promise((resolve) => proxy.once('exit', resolve));
        proxy.kill('SIGKILL');
        await exited;
      }
      await server.stop();
    },
  };
}

/**
 * A redis-server behind a link of `rttMs` round trip: `{ kind: 'netem' | 'proxy', url, description, why?, stop }`.
 * BENCH_LINK=proxy skips netem.
 */
async function startSlowLink(rttMs) {
  const oneWayUs = Math.round((rttMs * 1000) / 2);
  removeStaleNamespaces();
  if (process.env.BENCH_LINK === 'proxy') return proxyLink(oneWayUs, 'BENCH_LINK=proxy');
  try {
    return await netemLink(oneWayUs);
  } catch (error) {
    const why = String(error.stderr || error.message)
      .trim()
      .split('\n')[0]
      .replace(/^Error: /, '');
    return proxyLink(oneWayUs, why);
  }
}

module.exports = { startSlowLink };
