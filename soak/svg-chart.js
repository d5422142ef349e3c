'use strict';
// A line chart as a standalone SVG, with no plotting dependency: axes with round ticks (linear, or decades on a
// log scale), one polyline per series (broken where a point has no value), a legend, and labelled vertical
// markers (the faults).

const WIDTH = 960;
const HEIGHT = 354;
const MARGIN = { top: 58, right: 24, bottom: 44, left: 64 };
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

const escapeXml = (text) =>
  String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
const fixed = (value) => Math.round(value * 10) / 10;

/** Round tick values covering [low, high], about `count` of them. */
function linearTicks(low, high, count = 6) {
  const raw = (high - low) / count || 1;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((candidate) => candidate >= raw);
  const ticks = [];
  for (let tick = Math.ceil(low / step) * step; tick <= high + step / 1e6; tick += step)
    ticks.push(fixed(tick * 1e6) / 1e6);
  return { ticks, high: Math.max(high, ticks[ticks.length - 1] ?? high) };
}

function label(value) {
  if (value >= 1000) return `${value / 1000}k`;
  return String(Number(value.toPrecision(3)));
}

/**
 * The chart's SVG. `series`: `{ name, points: [[x, y | null], ...], dashed? }`; `markers`: `{ x, label, color }`;
 * `log`: a logarithmic y axis (values <= 0 are left out).
 */
function lineChart({ title, xLabel, yLabel, series, markers = [], log = false, yMin }) {
  const plot = { width: WIDTH - MARGIN.left - MARGIN.right, height: HEIGHT - MARGIN.top - MARGIN.bottom };
  const values = series.flatMap(({ points }) => points.map(([, y]) => y)).filter((y) => y !== null && (!log || y > 0));
  const xs = series.flatMap(({ points }) => points.map(([x]) => x));
  const xMax = Math.max(1, ...xs, ...markers.map(({ x }) => x));
  const xTicks = linearTicks(0, xMax);
  let y;
  let yTicks;
  if (log) {
    const low = 10 ** Math.floor(Math.log10(Math.min(...values, 1)));
    const high = 10 ** Math.ceil(Math.log10(Math.max(...values, low * 10)));
    yTicks = [];
    for (let tick = low; tick <= high * 1.0001; tick *= 10) yTicks.push(tick);
    y = (value) => plot.height * (1 - Math.log10(value / low) / Math.log10(high / low));
  } else {
    const low = yMin ?? 0;
    const scale = linearTicks(low, Math.max(...values, low + 1) * 1.05);
    yTicks = scale.ticks;
    y = (value) => plot.height * (1 - (value - low) / (scale.high - low));
  }
  const x = (value) => (plot.width * value) / xTicks.high;
  const parts = [];
  for (const tick of yTicks) {
    parts.push(`<line x1="0" x2="${plot.width}" y1="${fixed(y(tick))}" y2="${fixed(y(tick))}" class="grid"/>`);
    parts.push(`<text x="-8" y="${fixed(y(tick)) + 4}" text-anchor="end">${label(tick)}</text>`);
  }
  for (const tick of xTicks.ticks) {
    parts.push(
      `<line x1="${fixed(x(tick))}" x2="${fixed(x(tick))}" y1="${plot.height}" y2="${plot.height + 5}" class="axis"/>`,
    );
    parts.push(`<text x="${fixed(x(tick))}" y="${plot.height + 18}" text-anchor="middle">${label(tick)}</text>`);
  }
  markers.forEach((marker, i) => {
    const at = fixed(x(marker.x));
    parts.push(`<line x1="${at}" x2="${at}" y1="0" y2="${plot.height}" stroke="${marker.color}" class="marker"/>`);
    parts.push(
      `<text x="${at + 2}" y="${10 + (i % 2) * 11}" fill="${marker.color}" class="small">${escapeXml(marker.label)}</text>`,
    );
  });
  series.forEach((line, i) => {
    const color = line.color ?? PALETTE[i % PALETTE.length];
    for (const run of runsOf(line.points, log)) {
      const path = run.map(([px, py]) => `${fixed(x(px))},${fixed(y(py))}`).join(' ');
      const dash = line.dashed ? ' stroke-dasharray="5 3"' : '';
      parts.push(`<polyline points="${path}" stroke="${color}"${dash} class="line"/>`);
    }
    const legendY = -30 + Math.floor(i / 4) * 13;
    const legendX = (i % 4) * 200;
    parts.push(
      `<line x1="${legendX}" x2="${legendX + 18}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="${color}" class="line"${line.dashed ? ' stroke-dasharray="5 3"' : ''}/>`,
    );
    parts.push(`<text x="${legendX + 22}" y="${legendY}">${escapeXml(line.name)}</text>`);
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="11">`,
    '<style>.grid{stroke:#e4e4e4}.axis{stroke:#555}.line{fill:none;stroke-width:1.4}.marker{stroke-width:1;stroke-dasharray:2 3}.small{font-size:9px}</style>',
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${WIDTH / 2}" y="16" text-anchor="middle" font-size="14">${escapeXml(title)}</text>`,
    `<g transform="translate(${MARGIN.left},${MARGIN.top})">`,
    `<rect width="${plot.width}" height="${plot.height}" fill="none" class="axis"/>`,
    ...parts,
    `<text x="${plot.width / 2}" y="${plot.height + 36}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text transform="translate(-48,${plot.height / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`,
    '</g>',
    '</svg>',
    '',
  ].join('\n');
}

/** The runs of consecutive points that have a (plottable) value. */
function runsOf(points, log) {
  const runs = [];
  let run = [];
  for (const point of points) {
    if (point[1] === null || (log && point[1] <= 0)) {
      if (run.length > 0) runs.push(run);
      run = [];
    } else run.push(point);
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

module.exports = { lineChart };
