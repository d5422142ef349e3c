// Runs API Extractor for every entry point of @wbot/redis-cache (libs/redis-cache/api-extractor*.json): with
// `--local` it accepts the reports as they are now (npm run api:update), without it it fails on any change
// to a report under libs/redis-cache/etc/ (npm run api:check).
const { execFileSync } = require('node:child_process');
const { readdirSync } = require('node:fs');
const { join, resolve } = require('node:path');

const LIBRARY = resolve(__dirname, '..', 'libs', 'redis-cache');
const local = process.argv.includes('--local');
const configs = readdirSync(LIBRARY)
  .filter((name) => /^api-extractor(\.[\w-]+)?\.json$/.test(name))
  .sort();
for (const config of configs) {
  const args = ['run', ...(local ? ['--local'] : []), '-c', join(LIBRARY, config)];
  execFileSync(join(resolve(__dirname, '..'), 'node_modules', '.bin', 'api-extractor'), args, { stdio: 'inherit' });
}
