'use strict';
// The soak's command line (`npm run soak -- --duration 300`), and the figures derived from it: warm-up, the
// fault schedule, and what each worker runs.

const { join } = require('node:path');

const DOCS = join(__dirname, '..', 'docs');

const USAGE = `Usage: npm run soak -- [options]
  --duration <s>         how long the traffic runs (default 1800: 30 minutes)
  --workers <n>          worker processes per topology (default 2)
  --rate <n>             calls per second per worker (default 300)
  --topologies <list>    single, cluster or both (default single,cluster)
  --foreign-keys <n>     foreign keys on each shared Redis, DEBUG POPULATE (default 1000000)
  --warmup <s>           before the baseline of RSS, handles and listeners (default: half the run, 10 to 60)
  --fault-every <s>      time between faults (default: ten over the run, every 4 to 30 s)
  --freeze <ms>          how long a frozen server stays stopped (default 2500)
  --seed <n>             the traffic's random choices (default 1)
  --report-dir <dir>     where soak.md and its SVGs go (default docs/: docs/soak.md and docs/soak/)`;

const DEFAULTS = {
  duration: 1800,
  workers: 2,
  rate: 300,
  topologies: ['single', 'cluster'],
  foreignKeys: 1_000_000,
  freezeMs: 2500,
  seed: 1,
  reportDir: DOCS,
};

/** Faults stop this long before the end, so that every recovery and every settling is seen before the checks. */
const TAIL_S = 10;

const FLAGS = {
  '--duration': ['duration', positive],
  '--workers': ['workers', positive],
  '--rate': ['rate', positive],
  '--topologies': ['topologies', topologyList],
  '--foreign-keys': ['foreignKeys', nonNegative],
  '--warmup': ['warmup', positive],
  '--fault-every': ['faultEvery', positive],
  '--freeze': ['freezeMs', positive],
  '--seed': ['seed', nonNegative],
  '--report-dir': ['reportDir', (value) => value],
};

function positive(value, flag) {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new Error(`${flag} must be a positive number (got ${value})`);
  return number;
}

function nonNegative(value, flag) {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 0) throw new Error(`${flag} must be an integer >= 0 (got ${value})`);
  return number;
}

function topologyList(value, flag) {
  const list = value.split(',').map((name) => name.trim());
  if (list.length === 0 || list.some((name) => name !== 'single' && name !== 'cluster')) {
    throw new Error(`${flag} takes single, cluster or single,cluster (got ${value})`);
  }
  return [...new Set(list)];
}

const clamp = (value, low, high) => Math.min(high, Math.max(low, value));

/** The options from `argv` (process.argv.slice(2)), defaults and derived figures filled in; throws on a bad one. */
function parseOptions(argv) {
  const options = { ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    if (flag === '--help' || flag === '-h') return { help: USAGE };
    const known = FLAGS[flag];
    if (!known) throw new Error(`unknown option ${argv[i]}\n${USAGE}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
    const [name, parse] = known;
    options[name] = parse(value, flag);
  }
  options.workers = Math.round(options.workers);
  options.warmup ??= clamp(Math.round(options.duration / 2), 10, 60);
  const faultWindow = options.duration - options.warmup - TAIL_S;
  if (faultWindow < 5) throw new Error(`--duration ${options.duration} leaves no time for faults after the warm-up`);
  options.faultWindow = faultWindow;
  options.faultEvery ??= clamp(faultWindow / 10, 4, 30);
  return options;
}

module.exports = { parseOptions, TAIL_S };
