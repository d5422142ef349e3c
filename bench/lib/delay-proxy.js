'use strict';
// node bench/lib/delay-proxy.js <listen port> <target port> <one-way delay µs>: a TCP proxy on 127.0.0.1 that
// holds every chunk, in each direction, for the delay before passing it on. It stands in for `netem` where the
// kernel has none (bench/lib/slow-link.js starts it). Prints `listening` once it accepts connections.
//
// Node's timers count whole milliseconds, too coarse for a delay of 250 µs. A worker thread keeps the time
// instead: the main thread posts it the earliest deadline; it sleeps in Atomics.wait until shortly before, spins
// the rest (never more than SPIN_US) and posts back, and the main thread passes on every chunk that is due. So the
// proxy takes CPU only while a chunk waits, and mostly sleeps then too. A line `<µs>` on its stdin sets a new delay:
// slow-link.js calibrates it, since the proxy's own hop adds to the round trip.

const net = require('node:net');
const { Worker, isMainThread, parentPort } = require('node:worker_threads');

/** How long before a deadline the worker stops sleeping and spins: Atomics.wait oversleeps by about 0.1 ms. */
const SPIN_US = 150;
const nowUs = () => Number(process.hrtime.bigint() / 1000n);

function clock() {
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  parentPort.on('message', (deadline) => {
    for (let left = deadline - nowUs(); left > 0; left = deadline - nowUs()) {
      if (left > SPIN_US) Atomics.wait(sleeper, 0, 0, (left - SPIN_US) / 1000);
    }
    parentPort.postMessage(0);
  });
}

function proxy(listenPort, targetPort, initialDelayUs) {
  let delayUs = initialDelayUs;
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (lines) => {
    const last = Number(lines.trim().split('\n').at(-1));
    if (last >= 0) delayUs = last;
  });
  /** Chunks (or an end) in arrival order: with one delay for all, that is also the order they fall due. */
  const queue = [];
  let armed = false;
  const worker = new Worker(module.filename);
  worker.unref();
  const arm = () => {
    if (armed || queue.length === 0) return;
    armed = true;
    worker.postMessage(queue[0].due);
  };
  worker.on('message', () => {
    armed = false;
    const now = nowUs();
    while (queue.length > 0 && queue[0].due <= now) {
      const { to, chunk } = queue.shift();
      if (to.destroyed) continue;
      if (chunk === null) to.end();
      else to.write(chunk);
    }
    arm();
  });
  const hold = (to, chunk) => {
    queue.push({ to, chunk, due: nowUs() + delayUs });
    arm();
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ]) {
      from.setNoDelay(true);
      from.on('data', (chunk) => hold(to, chunk));
      from.on('end', () => hold(to, null));
      from.on('error', () => to.destroy());
      from.on('close', () => setTimeout(() => to.destroy(), 50));
    }
  });
  server.listen(listenPort, '127.0.0.1', () => console.log('listening'));
}

if (isMainThread) {
  const [listenPort, targetPort, delayUs] = process.argv.slice(2).map(Number);
  if (!listenPort || !targetPort || !(delayUs >= 0)) {
    console.error('usage: node bench/lib/delay-proxy.js <listen port> <target port> <one-way delay µs>');
    process.exit(2);
  }
  proxy(listenPort, targetPort, delayUs);
} else {
  clock();
}
