'use strict';
// The runner's side of one worker process: forks worker.js, asks it things and awaits its replies (each request
// has an id), and keeps the samples it sends every second. A worker that dies fails whatever was asked of it.

const { fork } = require('node:child_process');
const { join } = require('node:path');

const REQUEST_TIMEOUT_MS = 60_000;

class WorkerProcess {
  samples = [];
  pending = new Map();
  nextId = 1;
  exit = undefined;

  /** `index` numbers the worker in the run, `topology` is the one it runs on. */
  constructor(index, topology) {
    this.index = index;
    this.topology = topology;
    this.name = `${topology} ${index}`;
    // --expose-gc: the RSS compared before and after is measured after full collections (worker.js).
    // A young generation of a fixed size (16 MB semi-spaces): left to itself, Node 24's V8 grows it from 1 MB to
    // ~100 MB over the first minutes, as allocation bursts (a fault, a module restart) come, and its pages stay
    // resident; in a 60 s run that was 10-15% "growth" of the RSS with the live heap flat (18.2 -> 18.6 MB).
    this.child = fork(join(__dirname, 'worker.js'), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: [...process.execArgv, '--expose-gc', '--min-semi-space-size=16', '--max-semi-space-size=16'],
    });
    this.child.on('message', (message) => this.receive(message));
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        for (const { reject } of this.pending.values())
          reject(new Error(`worker ${this.name} exited (${code ?? signal})`));
        this.pending.clear();
        resolve();
      }),
    );
  }

  receive(message) {
    if (message.type === 'sample') {
      this.samples.push(message);
      return;
    }
    const request = this.pending.get(message.id);
    if (!request) return;
    this.pending.delete(message.id);
    clearTimeout(request.timer);
    if (message.error) request.reject(new Error(`worker ${this.name}: ${message.error}`));
    else request.resolve(message);
  }

  /** Sends `{ type, ...payload }` and resolves with the worker's reply. */
  request(type, payload = {}, timeoutMs = REQUEST_TIMEOUT_MS) {
    if (this.exit) return Promise.reject(new Error(`worker ${this.name} is gone`));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`worker ${this.name} did not answer ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.child.send({ type, id, ...payload });
    });
  }

  /** Ends the process if it is still running (after a failure), and waits for it. */
  async kill() {
    if (!this.exit) this.child.kill('SIGKILL');
    await this.exited;
  }
}

module.exports = { WorkerProcess };
