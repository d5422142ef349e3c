// What opossum costs on the hot path: the same resolved call, awaited bare and
// through a breaker configured as the library configures it (no timeout, no
// percentiles, no snapshots). Standalone: `node bench/breaker.js`.
const CircuitBreaker = require('opossum');

const CALLS = 1_000_000;
const ROUNDS = 5;

const breaker = new CircuitBreaker((call) => call(), {
  timeout: false,
  errorThresholdPercentage: 50,
  volumeThreshold: 5,
  resetTimeout: 500,
  rollingCountTimeout: 1000,
  rollingCountBuckets: 10,
  rollingPercentilesEnabled: false,
  enableSnapshots: false,
  errorFilter: (error) => error.name === 'ReplyError',
});
let failuresInARow = 0;
breaker.on('success', () => (failuresInARow = 0));
breaker.on('failure', () => failuresInARow++);

const reply = Promise.resolve('OK');
const call = () => reply;

async function bare() {
  for (let i = 0; i < CALLS; i++) await call();
}

async function guarded() {
  for (let i = 0; i < CALLS; i++) await breaker.fire(call);
}

async function open() {
  breaker.open();
  for (let i = 0; i < CALLS; i++) await breaker.fire(call).catch(() => null);
  breaker.close();
}

async function nsPerCall(run) {
  const started = process.hrtime.bigint();
  await run();
  return Number(process.hrtime.bigint() - started) / CALLS;
}

(async () => {
  const results = { bare: [], guarded: [], open: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries({ bare, guarded, open })) results[name].push(await nsPerCall(run));
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const bareNs = median(results.bare);
  const guardedNs = median(results.guarded);
  console.log(
    `node ${process.version}, opossum ${require('opossum/package.json').version}, ${CALLS} calls x ${ROUNDS} rounds, median`,
  );
  console.log(`bare await:               ${bareNs.toFixed(0)} ns/call`);
  console.log(`through a closed breaker: ${guardedNs.toFixed(0)} ns/call (+${(guardedNs - bareNs).toFixed(0)} ns)`);
  console.log(`rejected by an open one:  ${median(results.open).toFixed(0)} ns/call`);
  breaker.shutdown();
})();
