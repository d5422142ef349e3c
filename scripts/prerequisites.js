'use strict';
// What `npm test` needs besides npm, found once for the preflight and for the specs
// that use it (the /docs browser check finds Chromium here too); and what `npm run test:docs` needs.
const { spawnSync } = require('node:child_process');
const { accessSync, constants } = require('node:fs');
const { delimiter, join } = require('node:path');

/** An executable named `name` on `PATH`, or undefined. */
function onPath(name, path = process.env.PATH ?? '') {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Chromium for the browser check: `CHROMIUM_PATH` when set, else `chromium` (Debian) or `chromium-browser` on `PATH`. */
function findChromium(env = process.env) {
  if (env.CHROMIUM_PATH) return isExecutable(env.CHROMIUM_PATH) ? env.CHROMIUM_PATH : undefined;
  return onPath('chromium', env.PATH) ?? onPath('chromium-browser', env.PATH);
}

/** Every prerequisite of `npm test`: what it is for, how to find it, and the package that provides it. */
const PREREQUISITES = [
  {
    name: 'redis-server',
    purpose: 'every integration, e2e and fault test starts its own',
    find: (env) => onPath('redis-server', env.PATH),
    debian: 'redis-server',
    brew: 'redis',
  },
  {
    name: 'redis-cli',
    purpose: 'forms the test Redis Clusters',
    find: (env) => onPath('redis-cli', env.PATH),
    debian: 'redis-tools',
    brew: 'redis',
  },
  {
    name: 'chromium',
    purpose: 'the /docs browser check (or set CHROMIUM_PATH)',
    find: findChromium,
    debian: 'chromium',
    brew: '--cask chromium',
  },
  {
    name: 'openssl',
    purpose: 'makes the certificates of the TLS tests',
    find: (env) => onPath('openssl', env.PATH),
    debian: 'openssl',
    brew: 'openssl',
  },
];

/** The prerequisites missing from this machine (as `env` sees it). */
function missingPrerequisites(env = process.env) {
  return PREREQUISITES.filter((prerequisite) => !prerequisite.find(env));
}

/** One message naming every missing prerequisite, with the commands that install them. */
function describeMissing(missing) {
  const debian = [...new Set(missing.map((item) => item.debian))].join(' ');
  const brew = missing.map((item) => item.brew);
  const formulae = brew.filter((item) => !item.startsWith('--cask'));
  const casks = brew.filter((item) => item.startsWith('--cask')).map((item) => item.replace('--cask ', ''));
  const brewCommands = [
    formulae.length > 0 ? `brew install ${[...new Set(formulae)].join(' ')}` : '',
    casks.length > 0 ? `brew install --cask ${casks.join(' ')}` : '',
  ].filter(Boolean);
  return [
    `npm test needs ${missing.map((item) => item.name).join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not on this machine:`,
    ...missing.map((item) => `  - ${item.name}: ${item.purpose}`),
    'Install them with one of:',
    `  Debian/Ubuntu: sudo apt-get install -y ${debian}`,
    `  macOS:         ${brewCommands.join(' && ')}`,
    ...(casks.length > 0
      ? ['  (on macOS, then: export CHROMIUM_PATH=/Applications/Chromium.app/Contents/MacOS/Chromium)']
      : []),
  ].join('\n');
}

/** The Node.js lines package.json's engines name, and the one the README recommends. */
const SUPPORTED_NODE = '22.12 or later on the 22 line, or 24 and later';
const RECOMMENDED_NODE = 24;

/** Why Node.js `version` can't run `command`, or undefined when it can. */
function unsupportedNode(command, version = process.versions.node) {
  const [major, minor] = version.split('.').map(Number);
  if ((major === 22 && minor >= 12) || major >= 24) return undefined;
  return [
    `${command} needs Node.js ${SUPPORTED_NODE} (${RECOMMENDED_NODE} is recommended); this is Node.js ${version}.`,
    `Install Node.js ${RECOMMENDED_NODE} from https://nodejs.org, or with nvm: nvm install ${RECOMMENDED_NODE}`,
  ].join('\n');
}

/**
 * The Python that runs docs/key-schema.md's example (`DOCS_PYTHON`, default `python3`), or why it can't: not
 * found, or without redis-py.
 */
function docsPythonProblem(env = process.env) {
  const python = env.DOCS_PYTHON || 'python3';
  const probe = spawnSync(python, ['-c', 'import redis'], { encoding: 'utf8', env });
  if (probe.error) {
    return `npm run test:docs needs a Python to run docs/key-schema.md's example: ${python} was not found (DOCS_PYTHON names another).`;
  }
  if (probe.status === 0) return undefined;
  return [
    `npm run test:docs needs redis-py in the Python that runs docs/key-schema.md's example (${python}), which lacks it.`,
    'Install it with one of:',
    '  Debian/Ubuntu: sudo apt-get install -y python3-redis   (then DOCS_PYTHON=/usr/bin/python3)',
    '  elsewhere:     python3 -m venv .venv && .venv/bin/pip install redis && export DOCS_PYTHON=$PWD/.venv/bin/python',
  ].join('\n');
}

module.exports = {
  PREREQUISITES,
  describeMissing,
  docsPythonProblem,
  findChromium,
  missingPrerequisites,
  onPath,
  unsupportedNode,
};
