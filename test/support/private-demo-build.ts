import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const LIBRARY = join(ROOT, 'libs', 'redis-cache');

function tsc(project: string, outDir: string, expected: string): void {
  const run = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', project, '--outDir', outDir], {
    encoding: 'utf8',
  });
  // type errors elsewhere in the tree are the typecheck's business; this needs the emitted JavaScript
  if (!existsSync(join(outDir, expected))) throw new Error(`tsc -p ${project} emitted no ${expected}:\n${run.stdout}`);
}

/**
 * The library compiled into `<dir>/node_modules/@wbot/redis-cache`, laid out as
 * an installed dependency (its build, its Lua scripts and its manifest), so that
 * a program in `dir` resolves it through the package's `exports` like any app.
 * A build of its own, so that a build elsewhere in the repo cannot race it.
 */
export function installLibraryPrivately(dir: string): void {
  const installed = join(dir, 'node_modules', '@wbot', 'redis-cache');
  mkdirSync(installed, { recursive: true });
  tsc(join(LIBRARY, 'tsconfig.lib.json'), join(installed, 'dist'), 'index.js');
  spawnSync(process.execPath, [join(ROOT, 'scripts', 'copy-lua.js'), join(LIBRARY, 'src'), join(installed, 'dist')]);
  copyFileSync(join(LIBRARY, 'package.json'), join(installed, 'package.json'));
}

/**
 * The demo and the library compiled into a private folder: `dist/main.js`, and
 * the library as an installed dependency under `node_modules/@wbot/redis-cache`.
 * Run `dist/main.js` with `NODE_PATH` set to `nodePath` for the other packages.
 * A build of its own, so that neither `npm run build` elsewhere nor a stale
 * `dist/` can change what a test runs, and it runs in plain Node, outside
 * Jest's module loader.
 */
export function buildDemoPrivately(): { dir: string; main: string; nodePath: string } {
  const dir = mkdtempSync(join(tmpdir(), 'wbot-demo-build-'));
  installLibraryPrivately(dir);
  tsc(join(ROOT, 'tsconfig.build.json'), join(dir, 'dist'), 'main.js');
  // the demo reads its own manifest (its version, in the API docs)
  copyFileSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  return { dir, main: join(dir, 'dist', 'main.js'), nodePath: join(ROOT, 'node_modules') };
}
