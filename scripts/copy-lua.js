// Copies the library's Lua scripts next to its compiled JavaScript: `tsc` copies only .ts.
const { cpSync } = require('node:fs');
const { join, resolve } = require('node:path');

const [from, to] = process.argv.slice(2).map((dir) => resolve(dir));
cpSync(join(from, 'scripts'), join(to, 'scripts'), { recursive: true, filter: (src) => !/\.ts$/.test(src) });
