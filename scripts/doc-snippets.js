'use strict';
// The code blocks a reader copies from the READMEs and docs/. Every TypeScript block carries a marker on the line
// before it (blank lines allowed) that says what CI does with it; `npm run test:pack` compiles every block that is
// not a fragment against the packed package, in a fresh app, and runs the apps and programs on a real Redis:
//
//   <!-- snippet: fragment -->        deliberately partial (an options object, one method): not compiled
//   <!-- snippet: module <name> -->   a whole module: compiled
//   <!-- snippet: app <name> -->      a module exporting a Nest `AppModule`: compiled, booted, and a call served on
//                                     each connection (REDIS_URL and REDIS_SHARED_URL point at a private Redis)
//   <!-- snippet: program <name> -->  a whole program: compiled and run with those variables; it must exit by itself
//
// A block marked `<!-- doc-test: <name> -->` is run by `npm run test:docs` instead (test/docs/).
const { readFileSync, readdirSync } = require('node:fs');
const { join, relative } = require('node:path');

const ROOT = join(__dirname, '..');
const KINDS = ['fragment', 'module', 'app', 'program'];
const TYPESCRIPT = new Set(['ts', 'typescript', 'tsx']);
const NAME = /^[a-z0-9][a-z0-9-]*$/;

/** The pages whose blocks a reader copies: both READMEs and every page of docs/. */
function pages(root = ROOT) {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => join(root, 'docs', name));
  return [join(root, 'README.md'), join(root, 'libs', 'redis-cache', 'README.md'), ...docs];
}

/**
 * Every fenced code block of `file`: its language, the line its fence opens on, its code, and the marker on the
 * closest non-blank line before it, if that line is a marker (`{ tool: 'snippet' | 'doc-test', kind, name }`).
 */
function blocksOf(file, root = ROOT) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open || open[1] === '') continue;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    let before = i - 1;
    while (before >= 0 && lines[before].trim() === '') before--;
    blocks.push({
      file: relative(root, file),
      line: i + 1,
      lang: open[1],
      code: lines.slice(i + 1, end).join('\n'),
      marker: before >= 0 ? markerOf(lines[before]) : undefined,
    });
    i = end;
  }
  return blocks;
}

function markerOf(line) {
  const snippet = /^<!-- snippet: (\S+)(?: (\S+))? -->$/.exec(line.trim());
  if (snippet) return { tool: 'snippet', kind: snippet[1], name: snippet[2] };
  const docTest = /^<!-- doc-test: (\S+) -->$/.exec(line.trim());
  if (docTest) return { tool: 'doc-test', kind: 'doc-test', name: docTest[1] };
  return undefined;
}

/** Every block of every page. */
function docBlocks(root = ROOT) {
  return pages(root).flatMap((file) => blocksOf(file, root));
}

/** What is wrong with the pages' markers: each a line naming the block. Empty when all is well. */
function snippetProblems(blocks) {
  const problems = [];
  const names = new Map();
  for (const block of blocks) {
    const where = `${block.file}:${block.line}`;
    const { marker } = block;
    if (!marker) {
      if (TYPESCRIPT.has(block.lang)) {
        problems.push(`${where}: a TypeScript block without a <!-- snippet: ... --> marker (${KINDS.join(', ')})`);
      }
      continue;
    }
    if (marker.tool !== 'snippet') continue;
    if (!KINDS.includes(marker.kind)) {
      problems.push(`${where}: unknown snippet kind "${marker.kind}" (${KINDS.join(', ')})`);
    } else if (marker.kind === 'fragment') {
      if (marker.name) problems.push(`${where}: a fragment takes no name`);
    } else if (!marker.name || !NAME.test(marker.name)) {
      problems.push(`${where}: a ${marker.kind} snippet needs a name of a-z, 0-9 and -`);
    } else if (names.has(marker.name)) {
      problems.push(`${where}: the snippet name "${marker.name}" is taken by ${names.get(marker.name)}`);
    } else {
      names.set(marker.name, where);
    }
    if (marker.kind === 'app' && !/export class AppModule\b/.test(block.code)) {
      problems.push(`${where}: an app snippet must export class AppModule`);
    }
  }
  return problems;
}

/** The blocks test:pack compiles: every snippet that is not a fragment. */
function compiledSnippets(root = ROOT) {
  return docBlocks(root)
    .filter(({ marker }) => marker?.tool === 'snippet' && marker.kind !== 'fragment')
    .map(({ file, line, code, marker }) => ({ file, line, code, kind: marker.kind, name: marker.name }));
}

module.exports = { KINDS, blocksOf, compiledSnippets, docBlocks, pages, snippetProblems };
