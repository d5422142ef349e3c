'use strict';
// npm run soak [-- --duration <s> ...]: hours of production in minutes. Starts private redis-servers on free
// ports (two single nodes and a 3-master cluster, the shared ones holding a million foreign keys), forks worker
// processes that run mixed traffic through the built RedisCacheModule and judge every read, injects a fault
// every few seconds, then checks the budget from the raw keys, writes the report (docs/soak.md and docs/soak/,
// or --report-dir) and exits 1 when a target was missed. Leaves nothing running, whatever happens.

const { existsSync } = require('node:fs');
const { spawnSync } = require('node:child_process');
const os = require('node:os');
const { join, resolve } = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');
const { stealMeter, stolen } = require('../bench/lib/steal');
const { clock } = require('./clock');

const LIBRARY = join(__dirname, '..', 'libs', 'redis-cache', 'dist', 'index.js');
const DOCS = join(__dirname, '..', 'docs');

/** Every this often, a line on the console. */
const PROGRESS_MS = 10_000;

function log(line) {
  console.log(`soak: ${line}`);
}

/** The machine, and how busy it was: the timings mean little on one loaded past its cores. */
function machine(loadStart, steal) {
  const redis = /v=(\S+)/.exec(spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout ?? '')?.[1];
  const cpus = os.cpus();
  return (
    `${cpus.length} CPUs (${cpus[0]?.model ?? 'unknown'}), Node ${process.version}, redis-server ${redis}; ` +
    `load average ${loadStart.toFixed(2)} at the start and ${os.loadavg()[0].toFixed(2)} at the end, ` +
    `CPU time stolen by the hypervisor ${stolen(steal())}`
  );
}

async function progress(workers, until, injector) {
  let seen = 0;
  while (clock() < until) {
    await sleep(Math.min(PROGRESS_MS, Math.max(0, until - clock())));
    const recent = workers.flatMap((worker) => worker.samples.slice(-10));
    const calls = recent.reduce((sum, sample) => sum + sample.calls, 0) / 10;
    const fallbacks = recent.reduce((sum, sample) => sum + sample.fallbacks, 0) / 10;
    const faults = injector.events.slice(seen).map((event) => `${event.kind} ${event.topology}`);
    seen = injector.events.length;
    log(
      `${Math.round((until - clock()) / 1000)} s left: ${Math.round(calls)} calls/s, ${Math.round(fallbacks)} fallbacks/s` +
        (faults.length > 0 ? `; faults: ${faults.join(', ')}` : ''),
    );
  }
}

async function main() {
  const { parseOptions, TAIL_S } = require('./options');
  const options = parseOptions(process.argv.slice(2));
  if (options.help) {
    console.log(options.help);
    return 0;
  }
  if (!existsSync(LIBRARY)) throw new Error('the library is not built: run `npm run build:lib` (npm run soak does)');
  // after the check above: these load the built library
  const { DEFAULT_DEADLINE_MS } = require(LIBRARY);
  const { checkBudgets } = require('./budget-check');
  const { FaultInjector } = require('./fault-injector');
  const { writeReport } = require('./report');
  const { evaluate } = require('./targets');
  const { SlowLog } = require('./slow-log');
  const { closeRegistry, openRegistry } = require('./test-support');
  const { startTopology } = require('./topology');
  const { WorkerProcess } = require('./worker-process');

  const startedAt = clock();
  const loadStart = os.loadavg()[0];
  const steal = stealMeter();
  openRegistry();
  const topologies = {};
  const workers = [];
  const stopAll = async () => {
    await Promise.all(workers.map((worker) => worker.kill()));
    await Promise.all(Object.values(topologies).map((topology) => topology.stop()));
    closeRegistry();
  };
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      log(`${signal}: stopping`);
      stopAll().finally(() => process.exit(130));
    });
  }

  const run = { options, deadlineMs: DEFAULT_DEADLINE_MS, workers: [], budgets: {} };
  run.command = process.argv.length > 2 ? `npm run soak -- ${process.argv.slice(2).join(' ')}` : 'npm run soak';
  try {
    log(
      `starting ${options.topologies.join(' and ')}, with ${options.foreignKeys.toLocaleString('en-US')} foreign keys`,
    );
    await Promise.all(
      options.topologies.map(async (name) => (topologies[name] = await startTopology(name, options.foreignKeys))),
    );
    const slowLog = new SlowLog(
      Object.values(topologies).flatMap((topology) =>
        topology.targets().map(({ name, server }) => ({ name, topology: topology.name, port: server.port })),
      ),
    );
    await slowLog.start();
    const byTopology = {};
    for (const name of options.topologies) {
      byTopology[name] = [];
      for (let i = 0; i < options.workers; i++) {
        const worker = new WorkerProcess(workers.length + 1, name);
        byTopology[name].push(worker);
        workers.push(worker);
      }
    }
    log(`${workers.length} workers starting`);
    // they start their traffic as soon as they are up
    run.trafficStart = clock();
    await Promise.all(
      workers.map((worker) =>
        worker.request('start', {
          config: {
            worker: worker.index,
            topology: worker.topology,
            endpoints: topologies[worker.topology].endpoints(),
            rate: options.rate,
            seed: options.seed * 1000 + worker.index,
          },
        }),
      ),
    );
    const endAt = clock() + options.duration * 1000;
    const injector = new FaultInjector({ topologies, workers: byTopology, options });
    log(`traffic for ${options.duration} s; warm-up ${options.warmup} s, then a fault every ${options.faultEvery} s`);
    const reporting = progress(workers, endAt, injector);
    await sleep(options.warmup * 1000);
    run.baselineAt = clock();
    const baselines = await Promise.all(workers.map((worker) => worker.request('baseline')));
    await injector.run(endAt - TAIL_S * 1000);
    await sleep(Math.max(0, endAt - clock()));
    await reporting;
    run.trafficEnd = clock();
    run.events = injector.events;
    log('stopping the workers');
    const summaries = await Promise.all(workers.map((worker) => worker.request('stop')));
    await Promise.all(workers.map((worker) => worker.exited));
    run.workers = workers.map((worker, i) => ({
      name: worker.name,
      topology: worker.topology,
      samples: worker.samples,
      baseline: baselines[i],
      summary: summaries[i],
    }));
    await slowLog.stop();
    run.slowLog = slowLog.entries;
    log('checking the budget of every bucket');
    for (const name of options.topologies) run.budgets[name] = await checkBudgets(topologies[name]);
  } finally {
    await stopAll();
  }
  run.wallMs = clock() - startedAt;
  run.machine = machine(loadStart, steal);
  const evaluation = evaluate(run);
  const dir = resolve(options.reportDir);
  const file = await writeReport(run, evaluation, dir, dir === DOCS);
  for (const row of evaluation.rows) log(`${row.pass ? 'pass' : 'FAIL'}  ${row.target}: ${row.measured}`);
  log(`report: ${file}`);
  return evaluation.pass ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`soak: ${error?.stack ?? error}`);
    process.exit(1);
  },
);
