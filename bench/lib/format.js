'use strict';
// How docs/benchmarks.md writes a figure; shared by bench/report.js and bench/missed-notes.js.

const int = (n) => Math.round(n).toLocaleString('en-US');
const x = (n) => `${n.toFixed(2)}x`;
const us = (n) => `${Math.round(n)} µs`;
const ms = (n) => `${n.toFixed(2)} ms`;

module.exports = { int, x, us, ms };
