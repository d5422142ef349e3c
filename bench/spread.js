'use strict';
// node bench/spread.js <report 1> <report 2>: how well the targets' figures hold
// still over two full runs. Each report is a docs/benchmarks.md written by
// `npm run bench` and `npm run bench:http`, for example an earlier commit's:
//
//   node bench/spread.js <(git show HEAD~1:docs/benchmarks.md) docs/benchmarks.md
//
// For every target in both reports, prints each run's median (and its rounds'
// min–max), the range of the rounds of both runs, and two spreads: the rounds'
// (half their range over its middle) and the medians' (half the two medians'
// difference over their mean). The issue asks for a ratio to stay within ±15%.
// Prints a Markdown table; writes nothing.

const { readFileSync } = require('node:fs');

const LIMIT = 0.15;

/** `0.76x (0.70–0.81)`, `32 µs (30–40)`, `0.92x (0.92x–0.92x)` or `1.02x`: the median and the rounds' min and max. */
function figure(text) {
  const numbers = [...text.matchAll(/-?\d+(?:\.\d+)?/g)].map(([n]) => Number(n));
  if (numbers.length === 0) return undefined;
  const [value, min = value, max = value] = numbers;
  return { value, min, max, rounds: numbers.length === 3 };
}

/** The targets of one report: name, wanted, figure and result, by name. */
function targets(path) {
  const found = new Map();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    // | area | ratio | wanted | measured | result | (the library's), or | target | wanted | measured | least work | result | (HTTP)
    const result = cells.at(-2);
    if (!/^(\*\*)?(MET|MISSED)/.test(result ?? '')) continue;
    const library = /^[<>]=/.test(cells[3]);
    const name = library ? `${cells[1]}: ${cells[2]}` : cells[1];
    const wanted = library ? cells[3] : cells[2];
    const measured = figure(library ? cells[4] : cells[3]);
    // ratios and times only: a growth in % (the app's RSS) is no figure to hold still
    if (!measured || !/^[<>]=/.test(wanted) || wanted.endsWith('%')) continue;
    found.set(name, { name, wanted, measured, result: result.includes('MISSED') ? 'MISSED' : 'MET' });
  }
  return found;
}

const fixed = (n) => (n >= 10 ? n.toFixed(1) : n.toFixed(2));
const percent = (n) => `±${Math.round(n * 100)}%`;
const flag = (n) => (n > LIMIT ? `**${percent(n)}**` : percent(n));

function main() {
  const [first, second] = process.argv.slice(2);
  if (!first || !second) {
    console.error('usage: node bench/spread.js <report 1> <report 2>');
    process.exit(2);
  }
  const one = targets(first);
  const two = targets(second);
  const rows = [];
  let roundsOver = 0;
  let mediansOver = 0;
  let withRounds = 0;
  for (const [name, a] of one) {
    const b = two.get(name);
    if (!b) continue;
    const run = ({ measured: m }) =>
      m.rounds ? `${fixed(m.value)} (${fixed(m.min)}–${fixed(m.max)})` : fixed(m.value);
    const medians = Math.abs(a.measured.value - b.measured.value) / (a.measured.value + b.measured.value);
    let all = '';
    let rounds = '(measured once per run)';
    if (a.measured.rounds && b.measured.rounds) {
      const min = Math.min(a.measured.min, b.measured.min);
      const max = Math.max(a.measured.max, b.measured.max);
      const half = (max - min) / (max + min);
      all = `${fixed(min)}–${fixed(max)}`;
      rounds = flag(half);
      withRounds++;
      if (half > LIMIT) roundsOver++;
      if (medians > LIMIT) mediansOver++;
    }
    rows.push(
      `| ${name} | ${a.wanted} | ${run(a)} | ${run(b)} | ${all} | ${rounds} | ${flag(medians)} | ${a.result} / ${b.result} |`,
    );
  }
  console.log('| Target | Wanted | Run 1 | Run 2 | All rounds | Rounds’ spread | Medians’ spread | Results |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const row of rows) console.log(row);
  console.log('');
  console.log(
    `Of the ${withRounds} figures measured in rounds, ${roundsOver} have rounds spread over ±${LIMIT * 100}% ` +
      `and ${mediansOver} have medians that differ by more than ±${LIMIT * 100}% between the two runs.`,
  );
}

main();
