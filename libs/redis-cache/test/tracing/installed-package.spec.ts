import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installLibraryPrivately } from '../../../../test/support/private-demo-build';
import { RedisServer } from '../../../../test/support/redis-server';

/**
 * The built package in a plain Node process, as an app runs it: the
 * OpenTelemetry API is an optional peer, so the library must load and serve
 * without it; and where an app registers the ioredis instrumentation before
 * ioredis loads, its require hook patches ioredis 6, and the command spans nest
 * under the cache's.
 */
const ROOT = join(__dirname, '..', '..', '..', '..');
const FIXTURE = join(__dirname, 'fixtures', 'traced-app.js');

let dir: string;
let server: RedisServer;

/** Builds the package into a private folder laid out as an installed dependency, next to the fixture. */
function installBuiltPackage(): string {
  const folder = mkdtempSync(join(tmpdir(), 'wbot-traced-app-'));
  installLibraryPrivately(folder);
  copyFileSync(FIXTURE, join(folder, 'traced-app.js'));
  return folder;
}

interface Run {
  results: unknown[];
  spans?: { name: string; id: string; parent?: string }[];
  apiLoaded: boolean;
}

function runApp(mode: 'absent' | 'instrumented'): Run {
  const child = spawnSync(process.execPath, [join(dir, 'traced-app.js'), mode, server.url], {
    cwd: dir,
    env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
    encoding: 'utf8',
    timeout: 20_000,
  });
  if (child.status !== 0) throw new Error(`the app failed (${child.status}):\n${child.stderr}`);
  return JSON.parse(child.stdout) as Run;
}

const RESULTS = [true, [1, 2], true, [{ id: 1 }]];

beforeAll(async () => {
  dir = installBuiltPackage();
  server = await RedisServer.start();
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => spawnSync('redis-cli', ['-p', String(server.port), 'FLUSHALL']));

it('loads and serves without @opentelemetry/api installed', () => {
  expect(runApp('absent')).toEqual({ results: RESULTS, apiLoaded: false });
});

it("nests the ioredis instrumentation's command spans, patched at require time, under the cache's spans", () => {
  const { results, spans } = runApp('instrumented');
  expect(results).toEqual(RESULTS);
  const byId = new Map(spans!.map((span) => [span.id, span]));
  const parentName = (span: { parent?: string }) => (span.parent ? byId.get(span.parent)?.name : undefined);
  expect(spans!.map((span) => [span.name, parentName(span)])).toEqual([
    ['evalsha', 'wbot.cache cacheEmbedding'],
    ['wbot.cache cacheEmbedding', 'app request'],
    ['evalsha', 'wbot.cache getCachedEmbedding'],
    ['wbot.cache getCachedEmbedding', 'app request'],
    ['evalsha', 'wbot.cache cacheMessages'],
    ['wbot.cache cacheMessages', 'app request'],
    // a read's script goes with its LRANGE, not through defineCommand: sent whole, as EVAL, the first time on a socket
    ['eval', 'wbot.cache getCachedMessages'],
    ['lrange', 'wbot.cache getCachedMessages'],
    ['wbot.cache getCachedMessages', 'app request'],
    ['app request', undefined],
  ]);
});
