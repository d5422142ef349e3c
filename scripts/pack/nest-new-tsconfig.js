'use strict';
// The tsconfig.json that `nest new` writes today, for the app of a Nest major: read from the template of that major's
// @nestjs/schematics, as the registry has it now, and rendered with the schematic's own defaults. So test:pack's
// fixture apps compile as a new user's app does (skipLibCheck included), whatever the template becomes.
const { execFileSync } = require('node:child_process');
const { existsSync, mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

/**
 * Renders the template language the schematics use in their files (EJS-like): `<%= name %>`, and
 * `<% if (name) { %>...<% } %>` without nesting. A tag it does not know throws, so a template that grew one is noticed.
 */
function render(template, values) {
  const value = (name) => {
    if (!(name in values)) throw new Error(`the template uses "${name}", which the renderer has no value for`);
    return values[name];
  };
  const rendered = template
    .replace(/<% if \((\w+)\) \{ %>([\s\S]*?)<% \} %>/g, (_, name, body) => (value(name) ? body : ''))
    .replace(/<%= (\w+) %>/g, (_, name) => String(value(name)));
  if (rendered.includes('<%')) throw new Error(`the template has a tag the renderer does not know:\n${rendered}`);
  return rendered;
}

/**
 * `nest new`'s tsconfig for `major` (11 or 12), as `{ version, esm, compilerOptions }`: the application schematic's
 * `ts-esm` files where it has them and makes ESM the default (Nest 12), its `ts` files otherwise (Nest 11, whose
 * template compiles as CommonJS under `module: nodenext` in a package without `"type": "module"`). `strict` takes the
 * schematic's default; `spec` is off, since the fixture apps install no test runner.
 */
function nestNewTsconfig(major) {
  const dir = mkdtempSync(join(tmpdir(), `wbot-nest-schematics-${major}-`));
  try {
    const tarball = execFileSync('npm', ['pack', '--silent', `@nestjs/schematics@${major}`], { cwd: dir })
      .toString()
      .trim()
      .split('\n')
      .pop();
    execFileSync('tar', ['xzf', tarball], { cwd: dir });
    const application = join(dir, 'package', 'dist', 'lib', 'application');
    const schema = JSON.parse(readFileSync(join(application, 'schema.json'), 'utf8')).properties;
    const esm = schema.type?.default === 'esm' && existsSync(join(application, 'files', 'ts-esm'));
    const template = readFileSync(join(application, 'files', esm ? 'ts-esm' : 'ts', 'tsconfig.json'), 'utf8');
    const tsconfig = JSON.parse(render(template, { strict: schema.strict.default, spec: false }));
    const { version } = JSON.parse(readFileSync(join(dir, 'package', 'package.json'), 'utf8'));
    return { version, esm, compilerOptions: tsconfig.compilerOptions };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { nestNewTsconfig, render };
