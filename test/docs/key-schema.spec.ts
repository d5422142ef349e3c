import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { MessageCacheClient, closeCacheClient, createCacheRedis } from '@wbot/redis-cache';
import { RedisServer } from '../support/redis-server';

/**
 * The examples of docs/key-schema.md, extracted from the page as printed and run as a reader in another
 * language would run them: from a folder whose node_modules holds the package's scripts, against a shared
 * Redis that the library filled, with several buckets. They must read exactly what the library wrote.
 * Python needs redis-py: DOCS_PYTHON names the interpreter (.ci/run makes a venv with Debian's python3-redis).
 */
const ROOT = join(__dirname, '..', '..');
const PYTHON = process.env.DOCS_PYTHON ?? 'python3';
const OPTIONS = { maxCachedMessages: 50, buckets: 4 };

/** The code block that follows `<!-- doc-test: name -->` on the page. */
function snippet(name: string): string {
  const page = readFileSync(join(ROOT, 'docs', 'key-schema.md'), 'utf8');
  const match = new RegExp(`<!-- doc-test: ${name} -->\\s*\`\`\`\\w+\\n([\\s\\S]*?)\\n\`\`\``).exec(page);
  if (!match) throw new Error(`docs/key-schema.md has no code block marked doc-test: ${name}`);
  return match[1];
}

const CONVERSATIONS: Record<string, Record<string, unknown>[]> = {
  'conv-a': [
    { id: 'm1', role: 'user', content: 'Ünïcödé, emoji 👩‍💻, and "quotes"' },
    { id: 2, role: 'assistant', content: 'answer', tokens: 12, meta: { nested: [1, 2.5, null, true] } },
  ],
  'conv-empty': [],
  'conv-{tag}:x': [{ role: 'user', content: 'an id with braces and a colon' }],
  'conv-long': Array.from({ length: 9 }, (_, i) => ({ id: `l${i}`, content: `message ${i}` })),
};
const IDS = [...Object.keys(CONVERSATIONS), 'never-cached'];

describe('the examples in docs/key-schema.md', () => {
  let server: RedisServer;
  let client: Redis;
  let dir: string;
  let expected: unknown[];

  beforeAll(async () => {
    server = await RedisServer.start();
    client = createCacheRedis(server.url);
    const cache = new MessageCacheClient(client, OPTIONS);
    for (const [id, messages] of Object.entries(CONVERSATIONS))
      expect(await cache.cacheMessages(id, messages)).toBe(true);
    const extra = { id: 'm3', role: 'user', content: 'appended' };
    expect(await cache.appendMessages('conv-a', [extra])).toBe(true);
    expected = [...IDS.map((id) => (id === 'conv-a' ? [...CONVERSATIONS[id], extra] : (CONVERSATIONS[id] ?? null)))];
    expected.push(CONVERSATIONS['conv-long'].slice(-2));

    // a reader's folder: the package's scripts (dist/scripts is a copy of src/scripts) and node-redis
    dir = mkdtempSync(join(tmpdir(), 'wbot-doc-snippets-'));
    mkdirSync(join(dir, 'node_modules', '@wbot', 'redis-cache', 'dist'), { recursive: true });
    symlinkSync(
      join(ROOT, 'libs', 'redis-cache', 'src', 'scripts'),
      join(dir, 'node_modules', '@wbot', 'redis-cache', 'dist', 'scripts'),
    );
    symlinkSync(join(ROOT, 'node_modules', 'redis'), join(dir, 'node_modules', 'redis'));
  });
  afterAll(async () => {
    await closeCacheClient(client);
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function run(command: string, args: string[]): unknown {
    const result = spawnSync(command, args, {
      cwd: dir,
      env: { ...process.env, REDIS_SHARED_URL: server.url },
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (result.status !== 0) throw new Error(`${command} failed (${result.status}):\n${result.stderr}`);
    return JSON.parse(result.stdout);
  }

  it('Python with redis-py reads every conversation the library cached, in each bucket, and misses the others', () => {
    writeFileSync(
      join(dir, 'read.py'),
      `${snippet('python')}\n\n` +
        'import sys\n' +
        'options = dict(max_cached_messages=50, buckets=4)\n' +
        'ids = json.loads(sys.argv[1])\n' +
        'print(json.dumps([cached_messages(i, **options) for i in ids] + ' +
        '[cached_messages("conv-long", last=2, **options)]))\n',
    );
    expect(run(PYTHON, ['read.py', JSON.stringify(IDS)])).toEqual(expected);
  });

  it('Node.js with node-redis reads every conversation the library cached, in each bucket, and misses the others', () => {
    writeFileSync(join(dir, 'read.mjs'), `${snippet('node')}\n`);
    writeFileSync(
      join(dir, 'main.mjs'),
      "import { cachedMessages, redis } from './read.mjs';\n" +
        'const options = { maxCachedMessages: 50, buckets: 4 };\n' +
        'const results = [];\n' +
        'for (const id of JSON.parse(process.argv[2])) results.push(await cachedMessages(id, options));\n' +
        "results.push(await cachedMessages('conv-long', { ...options, last: 2 }));\n" +
        'console.log(JSON.stringify(results));\n' +
        'await redis.quit();\n',
    );
    expect(run(process.execPath, ['main.mjs', JSON.stringify(IDS)])).toEqual(expected);
  });

  it('spreads the conversations it reads over more than one bucket, so the bucket arithmetic is exercised', async () => {
    const buckets = new Set((await client.keys('wbot:msg:{b*}:c:*')).map((key) => /\{b(\d+)\}/.exec(key)![1]));
    expect(buckets.size).toBeGreaterThan(1);
  });
});
