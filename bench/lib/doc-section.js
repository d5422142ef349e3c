'use strict';
// Writes generated sections of a markdown doc, each between its start and end
// markers, leaving the rest of the file as it is, then formats the file with the
// repo's own prettier so that `npm run lint` passes.

const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..', '..');

/** `doc` with the text from `start` to `end` (markers included) replaced by `section`, or it appended if the markers are missing. */
function replaceSection(doc, start, end, section) {
  const from = doc.indexOf(start);
  const to = doc.indexOf(end, from);
  const text = `${start}\n\n${section.trim()}\n\n${end}`;
  return from >= 0 && to > from
    ? doc.slice(0, from) + text + doc.slice(to + end.length)
    : `${doc.trimEnd()}\n\n${text}\n`;
}

async function writeFormatted(file, markdown) {
  const prettier = require(require.resolve('prettier', { paths: [ROOT] }));
  const options = (await prettier.resolveConfig(file)) ?? {};
  writeFileSync(file, await prettier.format(markdown, { ...options, filepath: file }));
}

/** Replaces one section of `file`, between the markers `start` and `end`. */
async function writeSection(file, start, end, section) {
  await writeFormatted(file, replaceSection(readFileSync(file, 'utf8'), start, end, section));
}

/** Replaces several sections of `file` at once: `sections` maps a name to the text between `<!-- name:start -->` and `<!-- name:end -->`. */
async function writeSections(file, sections) {
  const doc = Object.entries(sections).reduce(
    (text, [name, section]) => replaceSection(text, `<!-- ${name}:start -->`, `<!-- ${name}:end -->`, section),
    readFileSync(file, 'utf8'),
  );
  await writeFormatted(file, doc);
}

module.exports = { writeSection, writeSections };
