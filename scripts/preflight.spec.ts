import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS script of the repo's own
const { unsupportedNode } = require('./prerequisites') as {
  unsupportedNode: (command: string, version: string) => string | undefined;
};

const PREFLIGHT = join(__dirname, 'preflight.js');

/** A folder holding stand-ins for the named executables: the preflight only looks for them. */
function binWith(names: string[]): string {
  const bin = mkdtempSync(join(tmpdir(), 'wbot-preflight-'));
  for (const name of names) {
    writeFileSync(join(bin, name), '#!/bin/sh\nexit 0\n');
    chmodSync(join(bin, name), 0o755);
  }
  return bin;
}

/** Runs the preflight with only `bin` on PATH and no CHROMIUM_PATH. */
function preflight(bin: string, extra: Record<string, string> = {}) {
  const started = performance.now();
  const result = spawnSync(process.execPath, [PREFLIGHT], { env: { PATH: bin, ...extra }, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, ms: performance.now() - started };
}

const bins: string[] = [];
afterAll(() => bins.forEach((bin) => rmSync(bin, { recursive: true, force: true })));
const bin = (names: string[]) => {
  bins.push(binWith(names));
  return bins[bins.length - 1];
};

describe('the preflight of npm test', () => {
  it('stops at once, naming Chromium and how to install it, when PATH lacks it', () => {
    const result = preflight(bin(['redis-server', 'redis-cli', 'openssl']));
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      [
        'npm test needs chromium, which is not on this machine:',
        '  - chromium: the /docs browser check (or set CHROMIUM_PATH)',
        'Install them with one of:',
        '  Debian/Ubuntu: sudo apt-get install -y chromium',
        '  macOS:         brew install --cask chromium',
        '  (on macOS, then: export CHROMIUM_PATH=/Applications/Chromium.app/Contents/MacOS/Chromium)',
        '',
      ].join('\n'),
    );
    expect(result.ms).toBeLessThan(5000);
  });

  it('names every missing prerequisite in one message', () => {
    const result = preflight(bin([]));
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      [
        'npm test needs redis-server, redis-cli, chromium, openssl, which are not on this machine:',
        '  - redis-server: every integration, e2e and fault test starts its own',
        '  - redis-cli: forms the test Redis Clusters',
        '  - chromium: the /docs browser check (or set CHROMIUM_PATH)',
        '  - openssl: makes the certificates of the TLS tests',
        'Install them with one of:',
        '  Debian/Ubuntu: sudo apt-get install -y redis-server redis-tools chromium openssl',
        '  macOS:         brew install redis openssl && brew install --cask chromium',
        '  (on macOS, then: export CHROMIUM_PATH=/Applications/Chromium.app/Contents/MacOS/Chromium)',
        '',
      ].join('\n'),
    );
  });

  it('passes silently when all are there, Chromium on PATH or at CHROMIUM_PATH', () => {
    expect(preflight(bin(['redis-server', 'redis-cli', 'openssl', 'chromium']))).toMatchObject({
      status: 0,
      stdout: '',
      stderr: '',
    });
    const chromium = bin(['chromium']);
    const withPath = preflight(bin(['redis-server', 'redis-cli', 'openssl']), {
      CHROMIUM_PATH: join(chromium, 'chromium'),
    });
    expect(withPath).toMatchObject({ status: 0, stderr: '' });
  });

  it('does not take a CHROMIUM_PATH that is not an executable', () => {
    const result = preflight(bin(['redis-server', 'redis-cli', 'openssl', 'chromium']), {
      CHROMIUM_PATH: '/nonexistent/chromium',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^npm test needs chromium, which is not on this machine:/);
  });
});

describe('the Node.js check of the preflights', () => {
  it('takes 22.12 and later on the 22 line, and 24 and later', () => {
    for (const version of ['22.12.0', '22.23.5', '24.0.0', '24.22.3', '26.12.1']) {
      expect(unsupportedNode('npm test', version)).toBeUndefined();
    }
  });

  it('refuses Node 20, 22 before 22.12, and 23, naming the version and the recommended one', () => {
    for (const version of ['20.20.2', '22.11.0', '23.11.1']) {
      expect(unsupportedNode('npm test', version)).toBe(
        [
          `npm test needs Node.js 22.12 or later on the 22 line, or 24 and later (24 is recommended); this is Node.js ${version}.`,
          'Install Node.js 24 from https://nodejs.org, or with nvm: nvm install 24',
        ].join('\n'),
      );
    }
  });
});

describe('the preflight of npm run test:docs', () => {
  /** A stand-in Python that exits with `status` for `import redis`. */
  const python = (status: number) => {
    const dir = bin([]);
    writeFileSync(join(dir, 'python3'), `#!/bin/sh\nexit ${status}\n`);
    chmodSync(join(dir, 'python3'), 0o755);
    return join(dir, 'python3');
  };

  it('names redis-py and how to install it when DOCS_PYTHON lacks it', () => {
    const result = spawnSync(process.execPath, [PREFLIGHT, 'docs'], {
      env: { PATH: bin([]), DOCS_PYTHON: python(1) },
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /^npm run test:docs needs redis-py in the Python that runs docs\/key-schema\.md's example \(.*python3\), which lacks it\.\nInstall it with one of:\n {2}Debian\/Ubuntu: sudo apt-get install -y python3-redis/,
    );
  });

  it('says when there is no Python at all', () => {
    const result = spawnSync(process.execPath, [PREFLIGHT, 'docs'], {
      env: { PATH: bin([]), DOCS_PYTHON: '/nonexistent/python3' },
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      "npm run test:docs needs a Python to run docs/key-schema.md's example: /nonexistent/python3 was not found (DOCS_PYTHON names another).\n",
    );
  });

  it('passes silently with a Python that has redis-py', () => {
    const result = spawnSync(process.execPath, [PREFLIGHT, 'docs'], {
      env: { PATH: bin([]), DOCS_PYTHON: python(0) },
      encoding: 'utf8',
    });
    expect(result).toMatchObject({ status: 0, stdout: '', stderr: '' });
  });
});
