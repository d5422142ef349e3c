'use strict';
// The tests' own server handling (test/support/*.ts), loaded into this plain Node.js process, so that the soak
// starts, kills, freezes and restarts redis-server exactly as the fault specs do, and forms its cluster the same
// way, instead of keeping a copy. Those files are TypeScript: each is transpiled alone as it is required
// (typescript's transpileModule, no type check), as ts-jest does under Jest. '@wbot/redis-cache', which they
// import, resolves through the workspace link to the built library (npm run build:lib).

const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const SUPPORT = join(__dirname, '..', 'test', 'support');

function registerTypeScript() {
  if (require.extensions['.ts']) return;
  const ts = require('typescript');
  const compilerOptions = {
    module: ts.ModuleKind.CommonJS,
    target: ts.ScriptTarget.ES2022,
    esModuleInterop: true,
  };
  require.extensions['.ts'] = (module, filename) => {
    const { outputText } = ts.transpileModule(readFileSync(filename, 'utf8'), { compilerOptions, fileName: filename });
    module._compile(outputText, filename);
  };
}

registerTypeScript();

module.exports = {
  ...require(join(SUPPORT, 'redis-server.ts')),
  ...require(join(SUPPORT, 'redis-cluster.ts')),
  ...require(join(SUPPORT, 'redis-client.ts')),
  ...require(join(SUPPORT, 'server-registry.ts')),
};
