// Proves that the tarball made by `npm run pack:lib` works in a brand-new Nest 11 app: installs it in a temp
// directory with the peers an outside user would add, typechecks and compiles scripts/pack-fixture/consumer.ts
// against it with this repo's TypeScript, and runs it against a private redis-server (never the one on 6379).
const { spawn, spawnSync } = require('node:child_process');
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
const { freePort } = require('./net-probes');
const { tmpdir } = require('node:os');
const { basename, join, resolve } = require('node:path');

const ROOT = resolve(__dirname, '..');
const PACK_DIR = join(ROOT, 'dist', 'pack');
const TSC = join(ROOT, 'node_modules', '.bin', 'tsc');
const REDIS_START_TIMEOUT_MS = 5_000;
const CONSUMER_TIMEOUT_MS = 60_000;

const CONSUMER_DEPENDENCIES = {
  '@liaoliaots/nestjs-redis': '^10.0.0',
  '@nestjs/common': '^11.0.0',
  '@nestjs/core': '^11.0.0',
  '@nestjs/platform-express': '^11.0.0',
  '@nestjs/terminus': '^11.0.0',
  ioredis: '^5.4.2',
  'reflect-metadata': '^0.2.2',
  rxjs: '^7.8.1',
};

const CONSUMER_TSCONFIG = {
  compilerOptions: {
    module: 'commonjs',
    moduleResolution: 'node',
    target: 'ES2022',
    outDir: 'out',
    rootDir: 'src',
    strict: true,
    experimentalDecorators: true,
    emitDecoratorMetadata: true,
    skipLibCheck: false,
    noEmitOnError: true,
    types: ['node'],
  },
  include: ['src'],
};

/** A failed check, already reported. */
class CheckFailed extends Error {}

function record(check, ok, detail) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${check}${detail ? ` (${detail})` : ''}`);
  if (!ok) throw new CheckFailed(check);
}

function seconds(since) {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

/** Runs a command to completion; on failure prints its output, which is where the reason is. */
function run(command, args, cwd, options = {}) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', ...options });
  const ok = result.status === 0;
  if (!ok) process.stderr.write(`${result.error?.message ?? ''}${result.stdout ?? ''}${result.stderr ?? ''}`);
  return { ok, stdout: result.stdout ?? '' };
}

function findTarball() {
  const entries = existsSync(PACK_DIR) ? readdirSync(PACK_DIR, { withFileTypes: true }) : [];
  const tarballs = entries.flatMap((entry) =>
    entry.isFile() && entry.name.endsWith('.tgz') ? [join(PACK_DIR, entry.name)] : [],
  );
  const names = tarballs.map((tarball) => basename(tarball)).join(', ');
  record('exactly one tarball in dist/pack (made by npm run pack:lib)', tarballs.length === 1, names || 'none');
  return tarballs[0];
}

function writeConsumerApp(app, tarball) {
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const manifest = {
    name: 'wbot-redis-cache-pack-consumer',
    version: '0.0.0',
    private: true,
    dependencies: { '@wbot/redis-cache': `file:./${basename(tarball)}`, ...CONSUMER_DEPENDENCIES },
    devDependencies: { '@types/node': root.devDependencies['@types/node'] },
    overrides: root.overrides,
  };
  copyFileSync(tarball, join(app, basename(tarball)));
  writeFileSync(join(app, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(app, 'tsconfig.json'), `${JSON.stringify(CONSUMER_TSCONFIG, null, 2)}\n`);
  mkdirSync(join(app, 'src'));
  copyFileSync(join(__dirname, 'pack-fixture', 'consumer.ts'), join(app, 'src', 'main.ts'));
}

/** Starts a throwaway redis-server and resolves once it accepts connections. */
async function startRedis(dir) {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const server = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const started = new Promise((ready, fail) => {
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
  });
  try {
    await started;
  } catch (error) {
    server.kill('SIGKILL');
    throw error;
  }
  server.stdout.resume();
  server.stderr.resume();
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

/** The paths npm installed a package at; more than one means two copies. */
function installedCopies(app, name) {
  const { ok, stdout } = run('npm', ['ls', name, '--all', '--parseable'], app);
  return { ok, paths: stdout.split('\n').filter(Boolean) };
}

async function verify(app) {
  const tarball = findTarball();
  writeConsumerApp(app, tarball);

  let started = performance.now();
  const install = run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], app);
  record('npm install of the tarball with Nest 11 peers and the overrides', install.ok, seconds(started));

  for (const name of ['@nestjs/core', '@nestjs/common']) {
    const { ok, paths } = installedCopies(app, name);
    record(`npm ls ${name} shows a single copy`, ok && paths.length === 1, paths.join(', '));
  }

  const loaded = run(
    'node',
    [
      '-e',
      "require('@wbot/redis-cache/client');" +
        "const nest = Object.keys(require.cache).filter((path) => path.includes('@nestjs'));" +
        'if (nest.length > 0) { console.error(nest.join("\\n")); process.exit(1); }',
    ],
    app,
  );
  record('@wbot/redis-cache/client loads without loading Nest', loaded.ok);

  started = performance.now();
  const compiled = run(TSC, ['-p', 'tsconfig.json'], app);
  record(
    'the consumer typechecks (strict, skipLibCheck false) and compiles with the repo TypeScript',
    compiled.ok,
    seconds(started),
  );

  const redis = await startRedis(app);
  try {
    started = performance.now();
    const consumer = run('node', [join('out', 'main.js')], app, {
      env: { ...process.env, REDIS_URL: redis.url },
      stdio: ['ignore', 'inherit', 'inherit'],
      timeout: CONSUMER_TIMEOUT_MS,
    });
    record(
      'the consumer app boots, caches and reads back through the package, and exits',
      consumer.ok,
      seconds(started),
    );
  } finally {
    await stopRedis(redis.server);
  }
}

async function main() {
  const started = performance.now();
  const app = mkdtempSync(join(tmpdir(), 'wbot-verify-pack-'));
  let ok = true;
  try {
    await verify(app);
  } catch (error) {
    ok = false;
    if (!(error instanceof CheckFailed)) console.log(`FAIL ${error.stack ?? error.message}`);
  } finally {
    rmSync(app, { recursive: true, force: true });
  }
  console.log(`verify-pack: ${ok ? 'passed' : 'FAILED'} in ${seconds(started)}`);
  process.exitCode = ok ? 0 : 1;
}

main();
