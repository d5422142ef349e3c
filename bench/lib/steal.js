'use strict';
// The share of the machine's CPU time that the hypervisor gave to other guests
// while a bench ran (`steal` in /proc/stat): on a shared virtual machine, the
// noise that no pinning removes. Linux only; elsewhere the meter gives undefined.

const { readFileSync } = require('node:fs');

function cpuTimes() {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: guest time is already counted in user
    return { total: fields.slice(0, 8).reduce((sum, value) => sum + value, 0), steal: fields[7] ?? 0 };
  } catch {
    return undefined;
  }
}

/** Starts counting; the function it returns gives the percentage of CPU time stolen since, or undefined. */
function stealMeter() {
  const start = cpuTimes();
  return () => {
    const end = cpuTimes();
    if (!start || !end || end.total === start.total) return undefined;
    return (100 * (end.steal - start.steal)) / (end.total - start.total);
  };
}

/** A stolen share as the reports print it. */
function stolen(percent) {
  return percent === undefined ? 'unknown (no /proc/stat)' : `${percent.toFixed(1)}%`;
}

module.exports = { stealMeter, stolen };
