'use strict';
// The soak's targets, each measured from what the run collected and judged pass or fail.

/** RSS may grow at most this much from the warm-up to the end. */
const RSS_GROWTH = 0.1;
const sum = (values) => values.reduce((total, value) => total + value, 0);
const total = (counts) => sum(Object.values(counts));

/** Each count of `after` above `before`, as `name +n`. */
function grown(before, after, allowed = () => 0) {
  return Object.entries(after)
    .filter(([name, count]) => count > (before[name] ?? 0) + allowed(name))
    .map(([name, count]) => `${name} +${count - (before[name] ?? 0)}`);
}

/**
 * The library follows a cluster's node connection (one `ready`, `close` and `end` listener, once per node) only
 * when a call first waits for that node, which a fault may make happen after the baseline: not a leak.
 */
const followedLater = (name) => (/ node (ready|close|end)$/.test(name) ? 1 : 0);

/**
 * RSS at the baseline and at the end, each with the calls drained and after full collections, and the growth; and
 * the V8 heap in use then (the live set), which says whether a growth is the program's objects or not.
 */
function rssOf({ baseline, summary }) {
  const start = baseline.rssMb;
  const end = summary.final.rssMb;
  return { start, end, growth: end / start - 1, heapStart: baseline.heapUsedMb, heapEnd: summary.final.heapUsedMb };
}

/** Every recovery of every fault: one row per fault, worker and kind. */
function recoveries(run) {
  return run.events.flatMap((event) =>
    event.recoveries.flatMap(({ worker, kinds }) =>
      Object.entries(kinds).map(([kind, ms]) => ({ event, worker, kind, ms })),
    ),
  );
}

/** A target that counts must not grow: the totals when none did, else what grew in which worker. */
function flatRow(target, perWorker) {
  const grew = perWorker.filter(({ grown: g }) => g.length > 0);
  const unconnected = perWorker.filter(({ connected }) => !connected).map(({ worker }) => worker);
  return {
    target,
    measured:
      grew.length === 0
        ? perWorker.map(({ before, after }) => `${before} → ${after}`).join(', ')
        : grew.map(({ worker, grown: g }) => `${worker}: ${g.join(', ')}`).join('; ') +
          (unconnected.length > 0 ? `; not every connection up when counted in ${unconnected.join(', ')}` : ''),
    pass: grew.length === 0,
  };
}

/** The targets table: `{ target, measured, pass }` rows, and the figures behind them. */
function evaluate(run) {
  const workers = run.workers;
  const wrong = sum(workers.map(({ summary }) => summary.wrong.count));
  const judged = sum(workers.map(({ summary }) => summary.judged));
  const rejected = sum(workers.map(({ summary }) => summary.rejected.count));
  const buckets = Object.entries(run.budgets).flatMap(([topology, list]) => list.map((b) => ({ topology, ...b })));
  const inexact = buckets.filter(({ problems }) => problems.length > 0);
  const rss = workers.map((worker) => ({ worker: worker.name, ...rssOf(worker) }));
  const worstRss = rss.reduce((worst, row) => (row.growth > worst.growth ? row : worst), rss[0]);
  const flat = (field, allowed) =>
    workers.map(({ name, baseline, summary }) => ({
      worker: name,
      connected: baseline.connected && summary.final.connected,
      before: total(baseline[field]),
      after: total(summary.final[field]),
      grown: grown(baseline[field], summary.final[field], allowed),
    }));
  const handles = flat('resources');
  const listeners = flat('listeners', followedLater);
  const boundMs = 2 * run.deadlineMs;
  const recovered = recoveries(run);
  const late = recovered.filter(({ ms }) => ms === null || ms > boundMs);
  const undone = run.events.filter(({ error }) => error);
  const worst = recovered.reduce(
    (w, row) => (w === undefined || (row.ms ?? Infinity) > (w.ms ?? Infinity) ? row : w),
    undefined,
  );
  const describe = (row) =>
    `${row.event.kind} #${row.event.id} (${row.event.topology}, ${row.event.target}), ${row.kind} in ${row.worker}`;
  const rows = [
    {
      target: 'Zero wrong reads',
      measured: `${wrong} wrong of ${judged.toLocaleString('en-US')} values served`,
      pass: wrong === 0,
    },
    {
      target: 'No call rejects',
      measured: `${rejected} rejected`,
      pass: rejected === 0,
    },
    {
      target: 'Budget exact at the end',
      measured:
        inexact.length === 0
          ? `${buckets.length} buckets: lists = total ≤ budget in each`
          : `${inexact.length} of ${buckets.length} buckets not: ${inexact.map(({ topology, bucket, problems }) => `${topology} ${bucket}: ${problems[0]}`).join('; ')}`,
      pass: buckets.length > 0 && inexact.length === 0,
    },
    {
      target: `RSS growth after warm-up ≤ ${RSS_GROWTH * 100}%`,
      measured: worstRss
        ? `worst ${worstRss.worker}: ${worstRss.start.toFixed(1)} → ${worstRss.end.toFixed(1)} MB (${(worstRss.growth * 100).toFixed(1)}%), ` +
          `live heap ${worstRss.heapStart.toFixed(1)} → ${worstRss.heapEnd.toFixed(1)} MB`
        : 'no worker',
      pass: rss.length > 0 && rss.every(({ growth }) => growth <= RSS_GROWTH),
    },
    flatRow('Active handles flat', handles),
    flatRow('Client listeners flat', listeners),
    {
      target: `Every fault recovered within 2 × deadline (${boundMs} ms)`,
      measured:
        (recovered.length === 0
          ? 'no fault'
          : `${late.length} of ${recovered.length} late; worst ${worst.ms === null ? 'not recovered' : `${Math.round(worst.ms)} ms`}: ${describe(worst)}`) +
        (undone.length > 0 ? `; ${undone.length} faults could not be done` : ''),
      pass: recovered.length > 0 && late.length === 0 && undone.length === 0,
    },
  ];
  return { rows, pass: rows.every(({ pass }) => pass), rss, handles, listeners, recovered, boundMs, buckets };
}

module.exports = { evaluate };
