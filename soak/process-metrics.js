'use strict';
// What a worker measures of its own process: memory, event-loop delay (perf_hooks), the active handles and
// requests that keep it alive (process.getActiveResourcesInfo), and the listeners on the clients the app gave
// the module (and, on a cluster, on their node connections), which a module must leave as it found them.

const { monitorEventLoopDelay } = require('node:perf_hooks');

const MB = 1024 * 1024;

class ProcessMetrics {
  constructor() {
    this.delay = monitorEventLoopDelay({ resolution: 10 });
    this.delay.enable();
    this.cpu = process.cpuUsage();
    this.at = performance.now();
  }

  /** Memory, and the CPU (in cores) and event-loop delay since the last sample, in MB and ms; both start over. */
  sample() {
    const { rss, heapUsed } = process.memoryUsage();
    const cpu = process.cpuUsage(this.cpu);
    const elapsedUs = (performance.now() - this.at) * 1000;
    this.cpu = process.cpuUsage();
    this.at = performance.now();
    const ms = (ns) => Math.round(ns / 1e4) / 100;
    const sample = {
      rssMb: rss / MB,
      cores: (cpu.user + cpu.system) / elapsedUs,
      heapMb: heapUsed / MB,
      delayP50Ms: ms(this.delay.percentile(50)),
      delayP99Ms: ms(this.delay.percentile(99)),
      delayMaxMs: ms(this.delay.max),
      resources: process.getActiveResourcesInfo().length,
    };
    this.delay.reset();
    return sample;
  }

  /** The active resources by type, for the baseline and the end. */
  resources() {
    return countBy(process.getActiveResourcesInfo(), (type) => type);
  }

  stop() {
    this.delay.disable();
  }
}

/**
 * Listeners per event on each client (`<connection> <event>`) and, on a cluster, the most on any one of its node
 * connections (`<connection> node <event>`): the library follows a node only once a call waited for it, so which
 * nodes carry its listeners changes with the faults, but no node should carry more as time goes by.
 */
function listenerCounts(clients) {
  const counts = {};
  for (const [name, client] of Object.entries(clients)) {
    for (const event of client.eventNames()) counts[`${name} ${String(event)}`] = client.listenerCount(event);
    if (typeof client.nodes !== 'function') continue;
    for (const node of client.nodes()) {
      for (const event of node.eventNames()) {
        const key = `${name} node ${String(event)}`;
        counts[key] = Math.max(counts[key] ?? 0, node.listenerCount(event));
      }
    }
  }
  return counts;
}

function countBy(items, keyOf) {
  const counts = {};
  for (const item of items) counts[keyOf(item)] = (counts[keyOf(item)] ?? 0) + 1;
  return counts;
}

/** The sum of a `{ name: count }` record. */
const total = (counts) => Object.values(counts).reduce((sum, count) => sum + count, 0);

module.exports = { ProcessMetrics, listenerCounts, total };
