'use strict';
// The measuring loop shared by every case: a fixed number of requests in
// flight, a warm-up, then a fixed duration. Every loop is bounded in count and
// in time, so a stalled system fails its case instead of hanging the run.

const IN_FLIGHT = 32;
/** A case that has not settled this long after its duration has stalled. */
const STALL_GRACE_MS = 15_000;
/** No case needs more operations than this; the bound keeps latency samples in fixed memory. */
const MAX_OPS = 1_000_000;

/**
 * Per case: a warm-up, then the timed run; the suites run every case `rounds` times. Many short rounds, not a
 * few long ones: on this shared machine two full runs of 3 rounds of 3 s gave medians more than ±15% apart for
 * 6 of 18 targets, and two of 9 rounds of 1 s for 1 (bench/spread.js; docs/benchmarks.md, "Figures that hold
 * still"). A case measured once (the cluster bench) runs as long as a case's rounds together, `onceMs`.
 */
function timings() {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 9);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('BENCH_ROUNDS must be a whole number of at least 1');
  const durationMs = Number(process.env.BENCH_DURATION_MS ?? 1000);
  return {
    warmupMs: Number(process.env.BENCH_WARMUP_MS ?? 500),
    durationMs,
    rounds,
    onceMs: durationMs * rounds,
  };
}

function rejectAfter(ms, message) {
  let timer;
  const promise = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/**
 * Runs `op(worker)` from `inFlight` workers until `ms` have passed or `maxOps`
 * operations have started. An op succeeds when it resolves truthy; a falsy
 * result or a rejection counts as a failure (a cache fallback is a failure).
 */
async function drive(name, op, { inFlight, ms, maxOps, latencies }) {
  let started = 0;
  let ok = 0;
  let failed = 0;
  let firstError;
  const start = performance.now();
  const end = start + ms;
  const worker = async (w) => {
    while (started < maxOps && performance.now() < end) {
      const i = started++;
      const t0 = performance.now();
      try {
        if (await op(w)) ok++;
        else failed++;
      } catch (error) {
        failed++;
        firstError ??= error;
      }
      if (latencies) latencies[i] = performance.now() - t0;
    }
  };
  const stall = rejectAfter(ms + STALL_GRACE_MS, `${name}: stalled for ${STALL_GRACE_MS} ms past its duration`);
  try {
    await Promise.race([Promise.all(Array.from({ length: inFlight }, (_, w) => worker(w))), stall.promise]);
  } finally {
    stall.cancel();
  }
  return { started, ok, failed, firstError, elapsedMs: performance.now() - start };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function redisCpuSeconds(admin) {
  const info = await admin.info('cpu');
  const field = (name) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)[1]);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/** Redis's own time per call of each command (Lua's inner calls included), from INFO commandstats. */
async function commandTimes(admin) {
  const info = await admin.info('commandstats');
  const times = {};
  for (const [, command, calls, usec] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    if (command !== 'config|resetstat')
      times[command] = { calls: Number(calls), usecPerCall: Number(usec) / Number(calls) };
  }
  return times;
}

/**
 * Measures one case: warm-up, then the timed run. Returns ops/s of successful
 * operations, failures, latency percentiles in ms, and the CPU time per
 * operation of this process and of Redis, which tell which side is saturated.
 */
async function measure(name, op, admin, options = {}) {
  const { warmupMs, durationMs } = { ...timings(), ...options };
  const inFlight = options.inFlight ?? IN_FLIGHT;
  const maxOps = options.maxOps ?? MAX_OPS;
  await drive(`${name} (warm-up)`, op, { inFlight, ms: warmupMs, maxOps });
  const latencies = new Float64Array(maxOps);
  await admin.config('resetstat');
  const redisCpuBefore = await redisCpuSeconds(admin);
  const nodeCpuBefore = process.cpuUsage();
  const run = await drive(name, op, { inFlight, ms: durationMs, maxOps, latencies });
  const nodeCpu = process.cpuUsage(nodeCpuBefore);
  const redisCpu = (await redisCpuSeconds(admin)) - redisCpuBefore;
  const sorted = latencies.subarray(0, run.started).sort();
  const result = {
    name,
    inFlight,
    ops: run.ok,
    failed: run.failed,
    opsPerSec: run.ok / (run.elapsedMs / 1000),
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    nodeCpuUsPerOp: (nodeCpu.user + nodeCpu.system) / run.started,
    redisCpuUsPerOp: (redisCpu * 1e6) / run.started,
    commands: await commandTimes(admin),
    error: run.firstError ? String(run.firstError.message ?? run.firstError) : undefined,
  };
  const failures = result.failed ? `, ${result.failed} FAILED (${result.error ?? 'falsy result'})` : '';
  console.log(
    `  ${name}: ${Math.round(result.opsPerSec)} ops/s, p50 ${result.p50Ms.toFixed(2)} ms, ` +
      `p99 ${result.p99Ms.toFixed(2)} ms, CPU per op: node ${Math.round(result.nodeCpuUsPerOp)} us, ` +
      `redis ${Math.round(result.redisCpuUsPerOp)} us (${inFlight} in flight)${failures}`,
  );
  return result;
}

async function usedMemory(redis) {
  const info = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)[1]);
}

/**
 * Bytes per entry: used_memory after `fill(n)` minus before, over n. The caller
 * flushes first and primes scripts and connections, so only the entries count.
 */
async function bytesPerEntry(admin, n, fill) {
  const before = await usedMemory(admin);
  await fill(n);
  const after = await usedMemory(admin);
  return (after - before) / n;
}

module.exports = { bytesPerEntry, measure, timings };
