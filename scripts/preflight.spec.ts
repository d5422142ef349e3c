import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
