'use strict';
// Writes one generated section of a markdown doc, between its start and end
// markers, leaving the rest of the file as it is, then formats the file with the
// repo's own prettier so that `npm run lint` passes.

const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..', '..');

/** Replaces the text from `start` to `end` (markers included) with `section`; appends it if the markers are missing. */
async function writeSection(file, start, end, section) {
  const doc = readFileSync(file, 'utf8');
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  const text = `${start}\n\n${section.trim()}\n\n${end}`;
  const updated =
    from >= 0 && to > from ? doc.slice(0, from) + text + doc.slice(to + end.length) : `${doc.trimEnd()}\n\n${text}\n`;
  const prettier = require(require.resolve('prettier', { paths: [ROOT] }));
  const options = (await prettier.resolveConfig(file)) ?? {};
  writeFileSync(file, await prettier.format(updated, { ...options, filepath: file }));
}

module.exports = { writeSection };
