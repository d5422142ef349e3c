'use strict';
/* global fetch */
// `npm run bench:http`: load figures for the demo service. Starts a private
// redis-server on a free port and the built app (dist/main.js) as a child process
// on a SQLite file in a temporary directory, then runs autocannon against it, one
// case after another in the same process: a cached conversation read, a cached
// embedding lookup, and GET /health/live as the framework's floor. Writes its
// table into docs/benchmarks.md between the http markers, leaving the rest alone.

const { spawn, spawnSync } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } = require('node:fs');
const { createConnection, createServer } = require('node:net');
const os = require('node:os');
const { join } = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');
const autocannon = require('autocannon');

const ROOT = join(__dirname, '..', '..');
const REPORT = join(ROOT, 'docs', 'benchmarks.md');
const START = '<!-- http:start -->';
const END = '<!-- http:end -->';

const CONNECTIONS = 64;
const DURATION_S = 10;
const WARMUP_S = 2;
const MESSAGES = 50;
const MESSAGE_BYTES = 400;
const DIMENSIONS = 1536;
const TARGET_RATIO = 0.5;
/** RSS may grow this much over the whole run and still count as stable (heap warm-up, buffers). */
const RSS_GROWTH_LIMIT = 0.25;

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function redisAnswers(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitFor(check, what, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`${what} did not come up within ${timeoutMs} ms`);
}

async function api(base, method, path, body) {
  const response = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (response.status >= 400) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/** Samples from the app's own /metrics: RSS, and the cache misses of the two cached reads. */
async function scrape(base) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const value = (name) => {
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
    return line ? Number(line.split(' ')[1]) : 0;
  };
  return {
    rss: value('process_resident_memory_bytes'),
    messageMisses: value(
      'wbot_cache_operations_total{connection="shared",operation="getCachedMessages",outcome="miss"}',
    ),
    embeddingMisses: value(
      'wbot_cache_operations_total{connection="local",operation="getCachedEmbedding",outcome="miss"}',
    ),
  };
}

function cannon(request, duration) {
  return autocannon({ connections: CONNECTIONS, duration, ...request });
}

async function runCase(base, { name, request, missesKey, floor = false }) {
  const before = await scrape(base);
  const result = await cannon(request, DURATION_S);
  const after = await scrape(base);
  return {
    name,
    floor,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    rssBefore: before.rss,
    rssAfter: after.rss,
    // a cached read that missed would measure SQLite, not the cache
    misses: missesKey ? after[missesKey] - before[missesKey] : undefined,
  };
}

const mb = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const int = (n) => Math.round(n).toLocaleString('en-US');
const verdict = (met) => (met ? 'MET' : '**MISSED**');

function render(machine, cases, rss) {
  const floor = cases.find((c) => c.floor);
  const rows = cases.map(
    (c) =>
      `| ${c.name} | ${int(c.rps)} | ${c.p50} ms | ${c.p99} ms | ${int(c.non2xx)} | ${int(c.errors)} | ` +
      `${c.misses === undefined ? 'n/a' : int(c.misses)} | ${mb(c.rssBefore)} / ${mb(c.rssAfter)} | ` +
      `${(c.rps / floor.rps).toFixed(2)}x | ${(c.p99 / floor.p99).toFixed(2)}x |`,
  );
  const targets = cases
    .filter((c) => !c.floor)
    .map((c) => {
      const ratio = c.rps / floor.rps;
      return `| ${c.name}: req/s over the floor | >= ${TARGET_RATIO}x | ${ratio.toFixed(2)}x | ${verdict(ratio >= TARGET_RATIO)} |`;
    });
  const failures = cases.reduce((sum, c) => sum + c.non2xx + c.errors, 0);
  targets.push(`| Non-2xx answers and errors, all cases | 0 | ${int(failures)} | ${verdict(failures === 0)} |`);
  const growth = rss.after / rss.before - 1;
  targets.push(
    `| RSS growth over the timed cases (${mb(rss.before)} to ${mb(rss.after)}) | <= ${RSS_GROWTH_LIMIT * 100}% | ` +
      `${(growth * 100).toFixed(1)}% | ${verdict(growth <= RSS_GROWTH_LIMIT)} |`,
  );
  return [
    START,
    '',
    '## HTTP: the demo service',
    '',
    'Generated by `npm run bench:http` (bench/http/run.js). Do not edit by hand.',
    '',
    'The built demo (`dist/main.js`) runs as a child process on a private redis-server (both connections on it) and a',
    `SQLite file; autocannon runs in the parent with ${CONNECTIONS} connections. Every case is first warmed up for ${WARMUP_S} s,`,
    `then each runs for ${DURATION_S} s, one after another against the same process. \`LOG_LEVEL=warn\`, so the`,
    'one-line-per-request log is off; no API key.',
    '',
    `- **GET cached conversation**: \`GET /conversations/:id/messages\` of a conversation of ${MESSAGES} messages with`,
    `  ${MESSAGE_BYTES} characters of content each, cached before the run (\`X-Cache: HIT\`).`,
    `- **POST lookup cached embedding**: \`POST /users/:userId/embeddings/lookup\` of a text whose ${DIMENSIONS}-d vector was`,
    '  stored with `PUT` before the run; the answer is the vector as JSON.',
    '- **GET /health/live**: the floor: the framework doing no work (routing, the global guard, Terminus).',
    '',
    `${machine.date}; ${machine.nproc} × ${machine.cpu}; Node.js ${machine.node}; Redis ${machine.redis}.`,
    `Load average (1 min): ${machine.loadStart.toFixed(2)} at start, ${machine.loadEnd.toFixed(2)} at end. The app, Redis and`,
    'autocannon share these cores (and anything else running does too): compare the ratios, not the absolute figures.',
    '',
    '| Case | req/s | p50 | p99 | non-2xx | errors | cache misses | RSS before / after | req/s vs floor | p99 vs floor |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    '| Target | Wanted | Measured | Result |',
    '| --- | ---: | ---: | ---: |',
    ...targets,
    '',
    END,
  ].join('\n');
}

async function writeSection(section) {
  const current = existsSync(REPORT) ? readFileSync(REPORT, 'utf8') : '# Benchmarks\n';
  const start = current.indexOf(START);
  const end = current.indexOf(END);
  const next =
    start >= 0 && end > start
      ? current.slice(0, start) + section + current.slice(end + END.length)
      : `${current.trimEnd()}\n\n${section}\n`;
  const prettier = require('prettier');
  const options = (await prettier.resolveConfig(REPORT)) ?? {};
  writeFileSync(REPORT, await prettier.format(next, { ...options, filepath: REPORT }));
}

async function main() {
  const entry = join(ROOT, 'dist', 'main.js');
  if (!existsSync(entry))
    throw new Error('dist/main.js is missing: run `npm run build` first (npm run bench:http does).');
  if (spawnSync('redis-server', ['--version']).status !== 0) throw new Error('redis-server is not installed');

  const children = [];
  const dir = mkdtempSync(join(os.tmpdir(), 'wbot-bench-http-'));
  const stop = () => children.forEach((child) => child.exitCode === null && child.kill('SIGTERM'));
  process.once('exit', stop);
  try {
    const redisPort = await freePort();
    const redis = spawn(
      'redis-server',
      ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' },
    );
    children.push(redis);
    await waitFor(() => redisAnswers(redisPort), 'redis-server');

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const app = spawn(process.execPath, [entry], {
      env: {
        PATH: process.env.PATH,
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        PORT: String(port),
        DATABASE_PATH: join(dir, 'bench.sqlite'),
        EMBEDDING_DIMENSIONS: String(DIMENSIONS),
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    children.push(app);
    await waitFor(async () => (await fetch(`${base}/health/ready`).catch(() => ({ ok: false }))).ok, 'the demo app');

    const { id } = (await api(base, 'POST', '/conversations', { title: 'bench' })).body;
    const content = 'x'.repeat(MESSAGE_BYTES);
    for (let i = 0; i < MESSAGES; i += 10) {
      const batch = Array.from({ length: 10 }, (_, j) => ({ role: (i + j) % 2 ? 'assistant' : 'user', content }));
      await api(base, 'POST', `/conversations/${id}/messages`, { messages: batch });
    }
    const fill = await api(base, 'GET', `/conversations/${id}/messages`);
    const check = await api(base, 'GET', `/conversations/${id}/messages`);
    if (
      fill.headers.get('x-cache') !== 'MISS' ||
      check.headers.get('x-cache') !== 'HIT' ||
      check.body.messages.length !== MESSAGES
    ) {
      throw new Error('the conversation did not go MISS then HIT with all its messages');
    }
    const embedding = Array.from({ length: DIMENSIONS }, (_, i) => Math.fround(Math.sin(i)));
    await api(base, 'PUT', '/users/bench-user/embeddings', { text: 'bench text', embedding });
    const lookup = await api(base, 'POST', '/users/bench-user/embeddings/lookup', { text: 'bench text' });
    if (lookup.body.embedding.length !== DIMENSIONS) throw new Error('the embedding did not read back');

    const machine = {
      date: new Date().toISOString(),
      nproc: os.availableParallelism(),
      cpu: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      redis: /v=(\S+)/.exec(spawnSync('redis-server', ['--version']).stdout.toString())?.[1] ?? 'unknown',
      loadStart: os.loadavg()[0],
    };
    const json = { 'content-type': 'application/json' };
    const cases = [
      { name: 'GET /health/live (floor)', request: { url: `${base}/health/live` }, floor: true },
      {
        name: `GET cached conversation (${MESSAGES} messages)`,
        request: { url: `${base}/conversations/${id}/messages` },
        missesKey: 'messageMisses',
      },
      {
        name: `POST lookup cached embedding (${DIMENSIONS}-d)`,
        request: {
          url: `${base}/users/bench-user/embeddings/lookup`,
          method: 'POST',
          headers: json,
          body: JSON.stringify({ text: 'bench text' }),
        },
        missesKey: 'embeddingMisses',
      },
    ];
    for (const { request } of cases) await cannon(request, WARMUP_S);
    const rssStart = (await scrape(base)).rss;
    const results = [];
    for (const entry of cases) {
      results.push(await runCase(base, entry));
      console.log(results.at(-1));
    }
    const rssEnd = (await scrape(base)).rss;
    machine.loadEnd = os.loadavg()[0];

    await writeSection(render(machine, results, { before: rssStart, after: rssEnd }));
    console.log(`Wrote the HTTP section of ${REPORT}`);
  } finally {
    stop();
    await sleep(200);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
