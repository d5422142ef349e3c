// Builds @wbot/redis-cache alone and packs it as a publishable tarball: exactly one .tgz in dist/pack/.
// The package is packed from a staging copy so that its workspace-only `build` script (which reaches
// into ../../scripts) is not published, and so that npm cannot mistake it for a workspace member.
const { execFileSync, spawnSync } = require('node:child_process');
const { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, resolve } = require('node:path');

const ROOT = resolve(__dirname, '..');
const LIBRARY = join(ROOT, 'libs', 'redis-cache');
const DESTINATION = join(ROOT, 'dist', 'pack');

/** Paths the published package cannot work without. */
const REQUIRED_FILES = [
  'package.json',
  'README.md',
  'LICENSE',
  'dist/index.js',
  'dist/index.d.ts',
  'dist/client/index.js',
  'dist/client/index.d.ts',
  'dist/ai-sdk/index.js',
  'dist/ai-sdk/index.d.ts',
  'dist/langchain/index.js',
  'dist/langchain/index.d.ts',
  'dist/scripts/lib/clock.lua',
];
const FORBIDDEN_FILE = /\.spec\.|\.map$|\.tsbuildinfo$|(^|\/)test\//;

/** Runs a command; its output goes to the terminal unless `capture`, then it is returned. */
function run(command, args, cwd, capture = false) {
  const stdio = ['ignore', capture ? 'pipe' : 'inherit', 'inherit'];
  return execFileSync(command, args, { cwd, stdio, encoding: 'utf8' });
}

function publishableManifest() {
  const manifest = JSON.parse(readFileSync(join(LIBRARY, 'package.json'), 'utf8'));
  delete manifest.scripts;
  return manifest;
}

function stage() {
  const staging = mkdtempSync(join(tmpdir(), 'wbot-redis-cache-pack-'));
  writeFileSync(join(staging, 'package.json'), `${JSON.stringify(publishableManifest(), null, 2)}\n`);
  cpSync(join(LIBRARY, 'README.md'), join(staging, 'README.md'));
  cpSync(join(ROOT, 'LICENSE'), join(staging, 'LICENSE'));
  cpSync(join(LIBRARY, 'dist'), join(staging, 'dist'), { recursive: true });
  return staging;
}

function problemsWith(pack) {
  const paths = pack.files.map((file) => file.path);
  const problems = REQUIRED_FILES.filter((path) => !paths.includes(path)).map((path) => `missing ${path}`);
  const lua = paths.filter((path) => /^dist\/scripts\/.+\.lua$/.test(path));
  if (lua.length === 0) problems.push('no Lua scripts under dist/scripts');
  const declarations = paths.filter((path) => path.endsWith('.d.ts'));
  const modules = paths.filter((path) => path.endsWith('.js'));
  if (declarations.length !== modules.length) {
    problems.push(`${modules.length} .js files but ${declarations.length} .d.ts files`);
  }
  problems.push(...paths.filter((path) => FORBIDDEN_FILE.test(path)).map((path) => `must not ship ${path}`));
  return problems;
}

/** Said by a dry run on a machine with no npm login, as in CI: about the machine, not the package. */
const NOT_LOGGED_IN = /^npm warn publish This command requires you to be logged in to .* \(dry-run\)$/;

/**
 * `npm publish --dry-run` must go through without a warning about the package (a manifest field npm would
 * have to correct, a missing file, ...).
 */
function assertPublishable(staging) {
  const result = spawnSync('npm', ['publish', '--dry-run', '--ignore-scripts'], { cwd: staging, encoding: 'utf8' });
  const output = `${result.stdout}${result.stderr}`;
  const warnings = output
    .split('\n')
    .filter((line) => /^npm (warn|WARN|error|ERR)/.test(line) && !NOT_LOGGED_IN.test(line));
  if (result.status !== 0 || warnings.length > 0) {
    rmSync(DESTINATION, { recursive: true, force: true });
    throw new Error(`npm publish --dry-run is not clean:\n${output}`);
  }
  console.log('npm publish --dry-run: clean');
}

function main() {
  rmSync(DESTINATION, { recursive: true, force: true });
  run('npm', ['run', 'build:lib'], ROOT);
  const staging = stage();
  try {
    mkdirSync(DESTINATION, { recursive: true });
    const output = run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', DESTINATION], staging, true);
    const [pack] = JSON.parse(output);
    const problems = problemsWith(pack);
    if (problems.length > 0) {
      // No tarball rather than a wrong one, so that test:pack cannot pass on it.
      rmSync(DESTINATION, { recursive: true, force: true });
      throw new Error(`The packed package is wrong:\n  ${problems.join('\n  ')}`);
    }
    for (const file of pack.files) console.log(`${String(file.size).padStart(8)}  ${file.path}`);
    assertPublishable(staging);
    console.log(
      `${join('dist', 'pack', pack.filename)}: ${pack.entryCount} files, ` +
        `${pack.size} bytes packed, ${pack.unpackedSize} bytes unpacked`,
    );
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

try {
  main();
} catch (error) {
  console.error(`pack:lib failed: ${error.message}`);
  process.exit(1);
}
