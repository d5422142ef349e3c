// Proves that the tarball made by `npm run pack:lib` installs and works in brand-new apps, in each corner of the
// matrix users are on: Nest 11 or 12, ioredis 5 or 6. Each corner is a fresh folder where the tarball is installed
// with the plain command a user would type (no overrides, no --legacy-peer-deps, the majors npm picks), which
// must print no warning; then the app in scripts/pack-fixture/consumer.ts is compiled with the tsconfig.json that
// `nest new` of that major writes today (CommonJS for Nest 11, an ES module for Nest 12, which is ESM-only) and the
// TypeScript it installs, and run against a private redis-server (never the one on 6379). The library's own
// declarations are then checked strictly (strict, skipLibCheck off) on their own: an error in another package's
// declarations is named, with its version, and does not fail the corner. The adapters corner also compiles every
// TypeScript block of the READMEs and docs/ (scripts/doc-snippets.js), and boots and runs the apps and programs
// among them. The corners share npm's cache and run side by side.
const { spawn } = require('node:child_process');
const {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} = require('node:fs');
const { availableParallelism, tmpdir } = require('node:os');
const { basename, join, resolve } = require('node:path');
const { freePort } = require('./net-probes');
const { compiledSnippets } = require('./doc-snippets');
const { describeBlame, packagesIn, typescriptErrors } = require('./pack/blame');
const { nestNewTsconfig } = require('./pack/nest-new-tsconfig');

const ROOT = resolve(__dirname, '..');
const PACK_DIR = join(ROOT, 'dist', 'pack');
const REDIS_START_TIMEOUT_MS = 5_000;
const CONSUMER_TIMEOUT_MS = 60_000;

/**
 * The TypeScript a new app of each Nest major gets (the one `@nestjs/cli` of that major depends on), installed
 * as a dev dependency as `nest new` does. A Nest 12 app compiles as an ES module, whose imports of this CommonJS
 * package need TypeScript >= 5.8 (`require` of ES modules under `--module nodenext`).
 */
const TYPESCRIPT = { 11: '5.9', 12: '6.0' };

const CORNERS = [
  { nest: 11, ioredis: 5 },
  { nest: 11, ioredis: 6 },
  { nest: 12, ioredis: 5 },
  { nest: 12, ioredis: 6 },
  { nest: 11, ioredis: 6, adapters: true },
].map((corner) => ({
  ...corner,
  name: `Nest ${corner.nest} + ioredis ${corner.ioredis}${corner.adapters ? ' + the AI SDK, LangChain.js and OpenTelemetry' : ''}`,
}));

/**
 * The optional peers, each needed only by a subpath or by tracing: an app installs the ones it uses, as the
 * adapters corner does with the versions npm picks on this Node (ai 7 on every Node this package supports).
 * `@opentelemetry/api` 1.10 is ahead of the SDK 2.x packages' peer ranges, so the app pins 1.9, as OpenTelemetry's
 * compatibility matrix asks. The other corners must install none of them.
 */
const OPTIONAL_PEERS = ['ai', '@langchain/core', '@opentelemetry/api'];
const ADAPTER_PACKAGES = [
  'ai',
  '@langchain/core',
  '@nestjs/config',
  '@opentelemetry/api@1.9',
  '@opentelemetry/sdk-trace-base@2',
  '@opentelemetry/sdk-trace-node@2',
  '@opentelemetry/exporter-trace-otlp-http@0.223',
  '@opentelemetry/instrumentation@0.223',
  '@opentelemetry/instrumentation-ioredis@0.71',
];

/** What an app snippet's boot file does: start its AppModule, serve a call on each connection, close. */
function bootProgram(name) {
  return `// Boots the AppModule of the snippet ${name} (scripts/doc-snippets.js), as printed, against a private Redis.
import 'reflect-metadata';
import { deepStrictEqual, strictEqual } from 'node:assert/strict';
import { NestFactory } from '@nestjs/core';
import { EmbeddingCacheService, MessageCacheService } from '@wbot/redis-cache';
import { runChecks } from './run-checks.js';
import { AppModule } from './snippets/${name}.js';

runChecks(async () => {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
  const embeddings = app.get(EmbeddingCacheService, { strict: false });
  const messages = app.get(MessageCacheService, { strict: false });
  strictEqual(await embeddings.cacheEmbedding('snippet-user', 'hello', [0.5, 0.25]), true);
  deepStrictEqual(await embeddings.getCachedEmbedding('snippet-user', 'hello'), [0.5, 0.25]);
  strictEqual(await messages.cacheMessages('snippet-conversation', [{ id: 1, content: 'hi' }]), true);
  deepStrictEqual(await messages.getCachedMessages('snippet-conversation'), [{ id: 1, content: 'hi' }]);
  await app.close();
  console.log('  ok   its AppModule starts, and serves a call on each connection');
}, 30_000);
`;
}

/**
 * The strict check of the library's declarations, beside the app's own tsconfig: every .d.ts checked, strict on.
 * Only what is ours can fail it (scripts/pack/blame.js).
 */
const DECLARATIONS_TSCONFIG = {
  extends: './tsconfig.json',
  compilerOptions: {
    // each flag of the strict family by name: `nest new` turns some off one by one, which `strict` does not override
    strict: true,
    noImplicitAny: true,
    noImplicitThis: true,
    strictNullChecks: true,
    strictFunctionTypes: true,
    strictBindCallApply: true,
    strictPropertyInitialization: true,
    useUnknownInCatchVariables: true,
    alwaysStrict: true,
    skipLibCheck: false,
    noEmit: true,
    incremental: false,
    declaration: false,
  },
};

/** Runs a command to completion, collecting its output; never throws. */
function run(command, args, cwd, options = {}) {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd, env: options.env ?? process.env });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.once('error', (error) => done({ ok: false, output: `${output}${error.message}\n` }));
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      done({ ok: code === 0, output: signal ? `${output}(killed by ${signal})\n` : output });
    });
  });
}

function seconds(since) {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

function findTarball() {
  const entries = existsSync(PACK_DIR) ? readdirSync(PACK_DIR) : [];
  const tarballs = entries.filter((name) => name.endsWith('.tgz'));
  if (tarballs.length !== 1) {
    throw new Error(`expected exactly one tarball in dist/pack (made by npm run pack:lib), found ${tarballs.length}`);
  }
  return join(PACK_DIR, tarballs[0]);
}

/** Starts a throwaway redis-server and resolves once it accepts connections. */
async function startRedis(dir) {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const server = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise((ready, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`not ready after ${REDIS_START_TIMEOUT_MS} ms:\n${output}`)),
      REDIS_START_TIMEOUT_MS,
    );
    const collect = (chunk) => {
      output += chunk;
      if (/Ready to accept connections/.test(output)) {
        clearTimeout(timer);
        ready();
      }
    };
    server.stdout.on('data', collect);
    server.stderr.on('data', collect);
    server.once('error', fail);
    server.once('exit', (code) => fail(new Error(`redis-server exited with ${code}:\n${output}`)));
  }).catch((error) => {
    server.kill('SIGKILL');
    throw error;
  });
  return { server, url: `redis://127.0.0.1:${port}` };
}

async function stopRedis(server) {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((done) => server.once('exit', done));
  server.kill('SIGTERM');
  const timer = setTimeout(() => server.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(timer);
}

/** One corner's report: its lines, and whether every check passed. */
class Report {
  constructor(corner) {
    this.corner = corner;
    this.lines = [];
    this.ok = true;
  }
  record(check, ok, detail) {
    this.lines.push(`${ok ? 'ok  ' : 'FAIL'} ${check}${detail ? ` (${detail})` : ''}`);
    if (!ok) this.ok = false;
    return ok;
  }
  note(text) {
    this.lines.push(
      ...text
        .trimEnd()
        .split('\n')
        .map((line) => `     ${line}`),
    );
  }
}

/** The warning and error lines of an install's output: there must be none. */
function warningsIn(output) {
  return output.split('\n').filter((line) => /^npm (warn|WARN|error|ERR)/.test(line));
}

function installedVersion(app, name) {
  const manifest = join(app, 'node_modules', ...name.split('/'), 'package.json');
  return existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')).version : 'missing';
}

async function install(corner, tarball) {
  const report = new Report(corner);
  const app = mkdtempSync(join(tmpdir(), `wbot-pack-nest${corner.nest}-ioredis${corner.ioredis}-`));
  corner.app = app;
  corner.esm = corner.nestNew.esm;
  const manifest = { name: 'consumer', version: '0.0.0', private: true, ...(corner.esm ? { type: 'module' } : {}) };
  writeFileSync(join(app, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  copyFileSync(tarball, join(app, basename(tarball)));
  const args = [
    'install',
    `./${basename(tarball)}`,
    `@nestjs/common@${corner.nest}`,
    `@nestjs/core@${corner.nest}`,
    '@nestjs/terminus',
    `ioredis@${corner.ioredis}`,
    'reflect-metadata',
    'rxjs',
    ...(corner.adapters ? ADAPTER_PACKAGES : []),
  ];
  const started = performance.now();
  const installed = await run('npm', args, app);
  report.note(`$ npm ${args.join(' ')}${corner.esm ? '   # in a "type": "module" app' : ''}`);
  report.note(installed.output);
  report.record(`npm install (${seconds(started)})`, installed.ok);
  const warnings = warningsIn(installed.output);
  report.record('no ERESOLVE, no peer or other warning', warnings.length === 0, warnings.join(' | '));
  const versions = ['@nestjs/common', '@nestjs/core', '@nestjs/terminus', 'ioredis'].map(
    (name) => `${name} ${installedVersion(app, name)}`,
  );
  report.record(
    `resolved ${versions.join(', ')}`,
    versions.every((line) => !line.endsWith('missing')),
  );
  const peers = OPTIONAL_PEERS.map((name) => `${name} ${installedVersion(app, name)}`);
  report.record(
    corner.adapters
      ? `the optional peers it asked for: ${peers.join(', ')}`
      : `no optional peer pulled in (${OPTIONAL_PEERS.join(', ')})`,
    peers.every((line) => line.endsWith('missing') !== Boolean(corner.adapters)),
  );
  const devArgs = [
    'install',
    '-D',
    `typescript@${TYPESCRIPT[corner.nest]}`,
    `@types/node@${process.versions.node.split('.')[0]}`,
  ];
  const dev = await run('npm', devArgs, app);
  const devWarnings = warningsIn(dev.output);
  report.note(`$ npm ${devArgs.join(' ')}`);
  report.record('its dev tools install without a warning', dev.ok && devWarnings.length === 0, devWarnings.join(' | '));
  const majors = [installedVersion(app, '@nestjs/core').split('.')[0], installedVersion(app, 'ioredis').split('.')[0]];
  report.record(`the corner's majors`, majors.join() === `${corner.nest},${corner.ioredis}`, majors.join(', '));
  return report;
}

async function verify(corner, report) {
  const { app } = corner;
  const ls = await run('npm', ['ls', '--all'], app);
  report.record('npm ls --all: nothing missing, invalid or extraneous', ls.ok, ls.ok ? '' : ls.output.trim());
  for (const name of ['@nestjs/common', '@nestjs/core', 'ioredis']) {
    const copies = await run('npm', ['ls', name, '--all', '--parseable'], app);
    const paths = copies.output.split('\n').filter((line) => line.startsWith('/'));
    report.record(`one copy of ${name}`, copies.ok && paths.length === 1, paths.join(', '));
  }

  const clientOnly = await run(
    process.execPath,
    [
      '-e',
      "require('@wbot/redis-cache/client');" +
        "const nest = Object.keys(require.cache).filter((path) => path.includes('@nestjs'));" +
        'if (nest.length > 0) { console.error(nest.join("\\n")); process.exit(1); }',
    ],
    app,
  );
  report.record('@wbot/redis-cache/client loads without loading Nest', clientOnly.ok, clientOnly.output.trim());
  if (!corner.adapters) {
    // the middleware needs only the AI SDK's types, so an app that does not call it need not install ai
    const middleware = await run(process.execPath, ['-e', "require('@wbot/redis-cache/ai-sdk')"], app);
    report.record('@wbot/redis-cache/ai-sdk loads without ai installed', middleware.ok, middleware.output.trim());
  }

  const { compilerOptions, version: schematics } = corner.nestNew;
  writeFileSync(join(app, 'tsconfig.json'), `${JSON.stringify({ compilerOptions }, null, 2)}\n`);
  writeFileSync(join(app, 'tsconfig.declarations.json'), `${JSON.stringify(DECLARATIONS_TSCONFIG, null, 2)}\n`);
  mkdirSync(join(app, 'src'));
  copyFileSync(join(__dirname, 'pack-fixture', 'consumer.ts'), join(app, 'src', 'main.ts'));
  copyFileSync(join(__dirname, 'pack-fixture', 'run-checks.ts'), join(app, 'src', 'run-checks.ts'));
  // each program, and the REDIS_* variables it gets beside REDIS_URL: apps and programs from the docs get their own
  // databases of the private server, so that their keys never meet the fixture's
  const programs = [{ file: 'main.js', label: 'the fixture app' }];
  if (corner.adapters) {
    copyFileSync(join(__dirname, 'pack-fixture', 'adapters.ts'), join(app, 'src', 'adapters.ts'));
    programs.push({ file: 'adapters.js', label: 'the adapters app' });
    mkdirSync(join(app, 'src', 'snippets'));
    const snippets = compiledSnippets();
    for (const { name, code, kind, file, line } of snippets) {
      writeFileSync(join(app, 'src', 'snippets', `${name}.ts`), `// ${file}:${line}\n${code}\n`);
      const databases = { REDIS_URL: 2, REDIS_SHARED_URL: 3 };
      if (kind === 'app') {
        writeFileSync(join(app, 'src', `boot-${name}.ts`), bootProgram(name));
        programs.push({ file: `boot-${name}.js`, label: `the app of ${file}:${line}`, databases });
      }
      if (kind === 'program')
        programs.push({ file: `snippets/${name}.js`, label: `the program of ${file}:${line}`, databases });
    }
    const kinds = snippets.map(({ name, kind }) => `${name} (${kind})`);
    report.record(`the docs' snippets to compile: ${kinds.join(', ')}`, snippets.length > 0);
  }
  let started = performance.now();
  const tsc = join(app, 'node_modules', '.bin', 'tsc');
  const compiled = await run(tsc, ['-p', 'tsconfig.json'], app);
  report.record(
    `the app compiles with the tsconfig.json of \`nest new\` (@nestjs/schematics@${schematics}: ` +
      `skipLibCheck ${compilerOptions.skipLibCheck}, strict ${Boolean(compilerOptions.strict)}) and TypeScript ` +
      `${installedVersion(app, 'typescript')}, as ${corner.esm ? 'an ES module' : 'CommonJS'} (${seconds(started)})`,
    compiled.ok,
    compiled.ok ? '' : [...describeBlame(typescriptErrors(app, compiled.output)), compiled.output.trim()].join('\n'),
  );
  if (!compiled.ok) return;

  started = performance.now();
  const declarations = await run(tsc, ['-p', 'tsconfig.declarations.json'], app);
  const errors = typescriptErrors(app, declarations.output);
  const blame = describeBlame(errors);
  const ours = errors.filter(({ owner }) => owner.ours);
  report.record(
    `the library's declarations check strictly (strict, skipLibCheck false) with the app (${seconds(started)})`,
    ours.length === 0 && (declarations.ok || errors.length > 0),
    ours.length > 0 || (!declarations.ok && errors.length === 0)
      ? [...blame, declarations.output.trim()].join('\n')
      : '',
  );
  for (const line of blame.filter((text) => !text.startsWith('ours'))) report.note(`(${line})`);

  const out = existsSync(join(app, 'dist', 'src', 'main.js')) ? join('dist', 'src') : 'dist';
  const redis = await startRedis(app);
  try {
    for (const { file, label, databases = {} } of programs) {
      started = performance.now();
      const urls = Object.fromEntries(Object.entries(databases).map(([name, db]) => [name, `${redis.url}/${db}`]));
      const program = await run(process.execPath, [join(out, file)], app, {
        env: { ...process.env, REDIS_URL: redis.url, ...urls },
        timeoutMs: CONSUMER_TIMEOUT_MS,
      });
      report.note(program.output);
      const packages = program.ok ? [] : packagesIn(app, program.output);
      report.record(
        `${label} (${join(out, file)}) boots, serves its first calls, and exits by itself (${seconds(started)})`,
        program.ok,
        packages.length > 0 ? `the failure passes through ${packages.join(', ')}` : '',
      );
    }
  } finally {
    await stopRedis(redis.server);
  }
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function inParallel(items, limit, work) {
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item; item = queue.shift()) await work(item);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

async function main() {
  const started = performance.now();
  const tarball = findTarball();
  console.log(`verify-pack: ${basename(tarball)} on Node ${process.versions.node}, ${CORNERS.length} corners`);
  const templates = new Map([...new Set(CORNERS.map(({ nest }) => nest))].map((nest) => [nest, nestNewTsconfig(nest)]));
  for (const corner of CORNERS) corner.nestNew = templates.get(corner.nest);
  // installs wait on the network, so all at once; compiling and running want the cores
  const reports = await Promise.all(CORNERS.map((corner) => install(corner, tarball)));
  await inParallel(reports, Math.max(2, availableParallelism()), async (report) => {
    if (report.ok) await verify(report.corner, report);
  });
  for (const report of reports) {
    console.log(`\n== ${report.corner.name}`);
    for (const line of report.lines) console.log(line);
    rmSync(report.corner.app, { recursive: true, force: true });
  }
  const failed = reports.filter((report) => !report.ok).map((report) => report.corner.name);
  console.log(
    `\nverify-pack: ${failed.length === 0 ? 'passed' : `FAILED (${failed.join('; ')})`} in ${seconds(started)}`,
  );
  process.exitCode = failed.length === 0 ? 0 : 1;
}

main().catch((error) => {
  console.error(`verify-pack: FAILED: ${error.stack ?? error.message}`);
  process.exitCode = 1;
});
