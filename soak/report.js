'use strict';
// The soak's report: the targets table, the faults and their recoveries, the reads, the processes, the traffic,
// the buckets at the end and the warnings, as markdown, with four SVG pictures over time (latency, calls per
// second, RSS, event-loop delay). Into docs/soak.md (between its markers) and docs/soak/, or into another folder.

const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { writeSection } = require('../bench/lib/doc-section');
const { merge, quantile } = require('./histogram');
const { lineChart } = require('./svg-chart');

const START = '<!-- soak:start -->';
const END = '<!-- soak:end -->';
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const KIND_COLORS = { kill: '#d62728', freeze: '#1f77b4', drop: '#9467bd', flush: '#ff7f0e', restart: '#2ca02c' };
/** The slow commands shown: those that took longest in all. */
const SLOW_ROWS = 12;
/** The warnings shown: those logged most often within 10 s. */
const WARNING_ROWS = 10;
/** The wrong reads listed, of each reason: the first ones. */
const EXAMPLES_PER_REASON = 3;
const CALL_KINDS = ['embedding read', 'embedding write', 'message read', 'message write'];

const seconds = (run, t) => Math.round(((t - run.trafficStart) / 1000) * 10) / 10;
const ms = (value) => (value === null || value === undefined ? '–' : Math.round(value).toLocaleString('en-US'));
const cell = (text) => String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Per second of the run, for each topology: latency percentiles and calls, over all its workers. */
function perSecond(run, topology) {
  const bySecond = new Map();
  for (const worker of run.workers.filter((w) => w.topology === topology)) {
    for (const sample of worker.samples) {
      const second = Math.round((sample.t - run.trafficStart) / 1000);
      if (second < 0) continue;
      const slot = bySecond.get(second) ?? { latency: [], calls: 0, fallbacks: 0 };
      slot.latency.push(sample.latency);
      slot.calls += sample.calls;
      slot.fallbacks += sample.fallbacks;
      bySecond.set(second, slot);
    }
  }
  return [...bySecond]
    .sort(([a], [b]) => a - b)
    .map(([second, { latency, calls, fallbacks }]) => {
      const merged = merge(latency);
      return { second, p50: quantile(merged, 0.5), p99: quantile(merged, 0.99), calls, fallbacks };
    });
}

function charts(run) {
  const topologies = [...new Set(run.workers.map(({ topology }) => topology))];
  const markers = run.events.map((event) => ({
    x: seconds(run, event.at),
    label: `${event.kind} ${event.topology[0]}`,
    color: KIND_COLORS[event.kind],
  }));
  const warmup = { x: seconds(run, run.baselineAt), label: 'warm-up ends', color: '#777' };
  const series = Object.fromEntries(topologies.map((topology) => [topology, perSecond(run, topology)]));
  const latency = topologies.flatMap((topology, i) => [
    {
      name: `${topology} p50`,
      points: series[topology].map((s) => [s.second, s.p50]),
      color: i ? '#2ca02c' : '#1f77b4',
    },
    {
      name: `${topology} p99`,
      points: series[topology].map((s) => [s.second, s.p99]),
      color: i ? '#d62728' : '#ff7f0e',
    },
  ]);
  const rate = topologies.flatMap((topology, i) => [
    {
      name: `${topology}: calls/s`,
      points: series[topology].map((s) => [s.second, s.calls]),
      color: i ? '#2ca02c' : '#1f77b4',
    },
    {
      name: `${topology}: fallbacks/s`,
      points: series[topology].map((s) => [s.second, s.fallbacks]),
      color: i ? '#d62728' : '#ff7f0e',
      dashed: true,
    },
  ]);
  const perWorker = (field, suffix = '', dashed = false) =>
    run.workers.map((worker, i) => ({
      name: `${worker.name}${suffix}`,
      points: worker.samples.map((sample) => [seconds(run, sample.t), sample[field]]).filter(([x]) => x >= 0),
      color: PALETTE[i % PALETTE.length],
      dashed,
    }));
  const xLabel = 'seconds since the traffic started';
  return {
    'latency.svg': lineChart({
      title: 'Latency of the traffic calls, per second (log scale)',
      xLabel,
      yLabel: 'ms',
      series: latency,
      markers,
      log: true,
    }),
    'calls.svg': lineChart({ title: 'Calls per second', xLabel, yLabel: 'calls/s', series: rate, markers }),
    'rss.svg': lineChart({
      title: 'RSS of each worker process, and its V8 heap in use (dashed)',
      xLabel,
      yLabel: 'MB',
      series: [...perWorker('rssMb', ': RSS'), ...perWorker('heapMb', ': heap', true)],
      markers: [warmup],
    }),
    'event-loop.svg': lineChart({
      title: "Event-loop delay of each worker, each second's p99 (log scale)",
      xLabel,
      yLabel: 'ms',
      series: perWorker('delayP99Ms'),
      markers,
      log: true,
    }),
  };
}

function table(header, rows) {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ].join('\n');
}

function faultsTable(run, evaluation) {
  return table(
    ['#', 'At (s)', 'Fault', 'Topology', 'Target', 'Back after (ms)', ...CALL_KINDS.map((k) => `${k} (ms)`), 'In time'],
    run.events.map((event) => {
      const rows = evaluation.recovered.filter((row) => row.event === event);
      const worstOf = (kind) => {
        const values = rows.filter((row) => row.kind === kind).map((row) => row.ms);
        if (values.length === 0) return '';
        return values.includes(null) ? 'not recovered' : ms(Math.max(...values));
      };
      const late = rows.some((row) => row.ms === null || row.ms > evaluation.boundMs);
      return [
        event.id,
        seconds(run, event.at),
        event.kind,
        event.topology,
        event.target,
        ms(event.backAt - event.at),
        ...CALL_KINDS.map(worstOf),
        event.error ? `**not done**: ${event.error}` : rows.length === 0 ? 'no probe' : late ? '**no**' : 'yes',
      ];
    }),
  );
}

function readsSection(run) {
  const byReason = {};
  const examples = [];
  for (const { name, summary } of run.workers) {
    for (const [reason, count] of Object.entries(summary.wrong.byReason))
      byReason[reason] = (byReason[reason] ?? 0) + count;
    for (const example of summary.wrong.examples) examples.push({ worker: name, ...example });
  }
  const sum = (field) => run.workers.reduce((total, { summary }) => total + summary[field], 0);
  const lines = [
    `Every value a read served was judged against its worker's model: ${sum('judged').toLocaleString('en-US')} in all.`,
    `Stale copies served after a module restart, as the documented limit allows: ${sum('staleServed')}; reads of a ` +
      `conversation with too many possible states to judge: ${sum('unjudged')}.`,
  ];
  if (Object.keys(byReason).length > 0) {
    lines.push('', table(['Wrong read', 'Count'], Object.entries(byReason)), '', 'The first of each:', '');
    const first = Object.keys(byReason).flatMap((reason) =>
      examples
        .filter((example) => example.reason === reason)
        .sort((a, b) => (a.at ?? 0) - (b.at ?? 0))
        .slice(0, EXAMPLES_PER_REASON),
    );
    for (const example of first) {
      const at = example.at ? ` at ${seconds(run, example.at)} s` : '';
      const { worker, reason, op, ...rest } = example;
      delete rest.at;
      lines.push(`- ${worker}, ${op}${at}: ${reason} (${cell(JSON.stringify(rest))})`);
    }
  }
  const rejections = run.workers.flatMap(({ name, summary }) => summary.rejected.examples.map((e) => ({ name, ...e })));
  if (rejections.length > 0) {
    lines.push(
      '',
      'Calls that rejected:',
      '',
      ...rejections.slice(0, 10).map((r) => `- ${r.name}, ${r.op}: ${cell(r.error)}`),
    );
  }
  return lines.join('\n');
}

function processesTable(run, evaluation) {
  return table(
    [
      'Worker',
      'CPU (cores)',
      'RSS, baseline (MB)',
      'RSS, end (MB)',
      'Growth',
      'Active handles',
      'Client listeners',
      'Worst event-loop p99 (ms)',
    ],
    run.workers.map((worker, i) => {
      const rss = evaluation.rss[i];
      const flat = ({ before, after, grown }) => `${before} → ${after}${grown.length ? ` (${grown.join(', ')})` : ''}`;
      const measured = worker.samples.filter(({ t }) => t >= run.baselineAt && t <= run.trafficEnd);
      const delay = Math.max(...measured.map((s) => s.delayP99Ms));
      const cores = measured.reduce((sum, s) => sum + s.cores, 0) / measured.length;
      return [
        worker.name,
        cores.toFixed(2),
        rss.start.toFixed(1),
        rss.end.toFixed(1),
        `${(rss.growth * 100).toFixed(1)}%`,
        flat(evaluation.handles[i]),
        flat(evaluation.listeners[i]),
        delay.toFixed(1),
      ];
    }),
  );
}

function trafficTable(run) {
  const operations = {};
  for (const { summary } of run.workers) {
    for (const [name, outcomes] of Object.entries(summary.operations)) {
      operations[name] ??= {};
      for (const [outcome, count] of Object.entries(outcomes))
        operations[name][outcome] = (operations[name][outcome] ?? 0) + count;
    }
  }
  const outcomes = ['hit', 'partial', 'miss', 'ok', 'skipped', 'fallback', 'untraced'];
  const used = outcomes.filter((outcome) => Object.values(operations).some((counts) => counts[outcome]));
  return table(
    ['Operation', 'Calls', ...used],
    Object.entries(operations)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, counts]) => [
        name,
        Object.values(counts)
          .reduce((a, b) => a + b, 0)
          .toLocaleString('en-US'),
        ...used.map((outcome) => (counts[outcome] ?? 0).toLocaleString('en-US')),
      ]),
  );
}

function bucketsTable(evaluation) {
  return table(
    ['Topology', 'Bucket', 'Budget', 'Total', 'Lists', 'Messages in lists', 'Expired, not yet purged', 'Exact'],
    evaluation.buckets.map((b) => [
      b.topology,
      b.bucket,
      b.budget,
      b.total ?? 'none',
      b.lists,
      b.messages,
      b.phantoms,
      b.problems.length === 0 ? 'yes' : `**no**: ${b.problems.join('; ')}`,
    ]),
  );
}

function slowLogTable(run) {
  const groups = new Map();
  for (const entry of run.slowLog) {
    const key = `${entry.server}\n${entry.command}\n${entry.inScript}`;
    const group = groups.get(key) ?? { ...entry, count: 0, worst: 0, totalMs: 0 };
    group.count++;
    group.worst = Math.max(group.worst, entry.ms);
    group.totalMs += entry.ms;
    groups.set(key, group);
  }
  if (groups.size === 0) return 'None: no command took over 10 ms.';
  const sorted = [...groups.values()].sort((a, b) => b.totalMs - a.totalMs);
  const rest = sorted.slice(SLOW_ROWS);
  const restMs = rest.reduce((sum, g) => sum + g.totalMs, 0);
  return [
    table(
      ['Server', 'Command', 'Over 10 ms', 'Worst (ms)', 'In all (ms)'],
      sorted
        .slice(0, SLOW_ROWS)
        .map((g) => [
          g.server,
          g.inScript ? `${g.command}, inside a script` : g.command,
          g.count,
          ms(g.worst),
          ms(g.totalMs),
        ]),
    ),
    ...(rest.length > 0 ? ['', `And ${rest.length} more, ${ms(restMs)} ms in all.`] : []),
  ].join('\n');
}

function warningsTable(run) {
  const kinds = {};
  for (const { summary } of run.workers) {
    for (const { kind, lines, most } of summary.warnings) {
      const entry = (kinds[kind] ??= { lines: 0, most: 0 });
      entry.lines += lines;
      entry.most = Math.max(entry.most, most);
    }
  }
  if (Object.keys(kinds).length === 0) return 'None.';
  const sorted = Object.entries(kinds).sort(([, a], [, b]) => b.most - a.most || b.lines - a.lines);
  const rest = sorted.slice(WARNING_ROWS);
  return [
    table(
      ['Warning (numbers blanked)', 'Lines, all workers', 'Most from one worker within 10 s'],
      sorted.slice(0, WARNING_ROWS).map(([kind, { lines, most }]) => [`\`${kind}\``, lines, most]),
    ),
    ...(rest.length > 0
      ? ['', `And ${rest.length} more kinds, ${rest.reduce((sum, [, { lines }]) => sum + lines, 0)} lines in all.`]
      : []),
  ].join('\n');
}

function markdown(run, evaluation) {
  const { options } = run;
  const trafficS = Math.round((run.trafficEnd - run.trafficStart) / 1000);
  const perTopology = options.topologies.map(
    (t) => `${options.workers} on ${t === 'single' ? 'single nodes' : 'a 3-master cluster'}`,
  );
  return [
    `Generated by \`${run.command}\` on ${new Date(run.trafficStart).toISOString()}: ${trafficS} s of traffic ` +
      `(${options.warmup} s of it warm-up) from ${run.workers.length} worker processes (${perTopology.join(', ')}), ` +
      `each at ${options.rate} calls/s, with ${options.foreignKeys.toLocaleString('en-US')} foreign keys on each ` +
      `shared Redis; a fault every ${options.faultEvery} s. ${run.machine}; the whole run took ` +
      `${Math.round(run.wallMs / 1000)} s.`,
    '',
    `**${evaluation.pass ? 'Every target met' : 'Targets missed'}.**`,
    '',
    table(
      ['Target', 'Measured', 'Result'],
      evaluation.rows.map((row) => [row.target, row.measured, row.pass ? 'pass' : '**FAIL**']),
    ),
    '',
    '### Faults',
    '',
    'Back after: from the fault to Redis serving again. Then, per kind of call, the worst time any worker took ' +
      'from Redis back to its first call of that kind on the keys the fault touched that did not fall back.',
    '',
    faultsTable(run, evaluation),
    '',
    '### Reads',
    '',
    readsSection(run),
    '',
    '### Processes',
    '',
    processesTable(run, evaluation),
    '',
    '### Traffic',
    '',
    'Every call by its result, as its span says (hit, partial or miss for a read; ok or skipped for a write; ' +
      'fallback when Redis failed), probes included.',
    '',
    trafficTable(run),
    '',
    '### Buckets at the end',
    '',
    bucketsTable(evaluation),
    '',
    '### Slow commands on the servers',
    '',
    "Every command a server logged as taking over 10 ms (its SLOWLOG, read every 2 s), the library's scripts by " +
      'name; a script blocks every other client of that server, the frontend included, while it runs.',
    '',
    slowLogTable(run),
    '',
    '### Warnings',
    '',
    warningsTable(run),
    '',
    '### Over time',
    '',
    'Markers: the faults, by kind and topology (s: single nodes, c: cluster).',
    '',
    '![Latency p50 and p99 per second](soak/latency.svg)',
    '',
    '![Calls and fallbacks per second](soak/calls.svg)',
    '',
    '![RSS of each worker](soak/rss.svg)',
    '',
    '![Event-loop delay of each worker](soak/event-loop.svg)',
  ].join('\n');
}

/** Writes the report into `dir`: `soak.md` (in docs/, its generated section) and the SVGs under `soak/`. */
async function writeReport(run, evaluation, dir, intoDocs) {
  mkdirSync(join(dir, 'soak'), { recursive: true });
  for (const [name, svg] of Object.entries(charts(run))) writeFileSync(join(dir, 'soak', name), svg);
  const file = join(dir, 'soak.md');
  if (!intoDocs) {
    writeFileSync(file, `# Soak report\n\n${START}\n${END}\n`);
    // every sample and fault, for a closer look at a run that missed a target (too large to commit to docs/)
    writeFileSync(join(dir, 'soak-run.json'), JSON.stringify(run));
  }
  await writeSection(file, START, END, `## The last run\n\n${markdown(run, evaluation)}`);
  return file;
}

module.exports = { writeReport };
