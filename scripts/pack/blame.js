'use strict';
// Who is at fault when a fixture app fails: each TypeScript diagnostic, or each file of a stack trace, is put down
// to the package that holds it, at the version installed, or to this repository's own code (the packed library
// and the fixture's sources). So a corner broken by a new upstream release names that release.
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const OURS = '@wbot/redis-cache';

/**
 * The package a path of the app belongs to (the innermost `node_modules/<name>` in it), with its installed version,
 * or this repository's (`ours: true`) for the packed library and for a path outside node_modules.
 */
function ownerOf(app, path) {
  const matches = [...path.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)];
  if (matches.length === 0) return { name: 'the fixture app', version: '', ours: true };
  const last = matches[matches.length - 1];
  const name = last[1];
  const root = path.slice(0, last.index) + `node_modules/${name}`;
  const manifest = join(root.startsWith('/') ? '' : app, root, 'package.json');
  const version = existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')).version : 'unknown';
  return { name, version, ours: name === OURS };
}

/** tsc's errors (`file(line,col): error TSnnnn: message`), each with its owner; continuation lines are dropped. */
function typescriptErrors(app, output) {
  return [...output.matchAll(/^(.+?)\(\d+,\d+\): error (TS\d+): (.*)$/gm)].map(([, file, code, message]) => ({
    file,
    code,
    message,
    owner: ownerOf(app, file),
  }));
}

function label({ name, version }) {
  return version ? `${name}@${version}` : name;
}

/**
 * One line per owner of `errors`, ours first: `ours (@wbot/redis-cache@0.1.0): 2 errors, first: ...` or
 * `theirs, not ours (ioredis@6.1.0, its own declarations): 2 errors (TS7016), first: ...`.
 */
function describeBlame(errors) {
  const byOwner = new Map();
  for (const error of errors) {
    const key = label(error.owner);
    if (!byOwner.has(key)) byOwner.set(key, { owner: error.owner, errors: [] });
    byOwner.get(key).errors.push(error);
  }
  return [...byOwner.values()]
    .sort((a, b) => Number(b.owner.ours) - Number(a.owner.ours))
    .map(({ owner, errors: list }) => {
      const codes = [...new Set(list.map((error) => error.code))].join(', ');
      const first = list[0];
      const what = list.every(({ file }) => file.endsWith('.d.ts')) ? 'declarations' : 'code';
      const whose = owner.ours ? `ours (${label(owner)})` : `theirs, not ours (${label(owner)}, its own ${what})`;
      return `${whose}: ${list.length} error${list.length === 1 ? '' : 's'} (${codes}), first: ${first.file}: ${first.message}`;
    });
}

/** The packages a stack trace or any output names by path, with their versions: `ioredis@6.1.0, ...`. */
function packagesIn(app, output) {
  const paths = output.match(/[^\s()'"]*node_modules\/[^\s():'"]+/g) ?? [];
  return [...new Set(paths.map((path) => label(ownerOf(app, path))))];
}

module.exports = { describeBlame, ownerOf, packagesIn, typescriptErrors };
