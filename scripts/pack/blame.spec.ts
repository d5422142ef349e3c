import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Owner {
  name: string;
  version: string;
  ours: boolean;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS script of the repo's own
const blame = require('./blame') as {
  ownerOf(app: string, path: string): Owner;
  typescriptErrors(app: string, output: string): { file: string; code: string; message: string; owner: Owner }[];
  describeBlame(errors: ReturnType<typeof blame.typescriptErrors>): string[];
  packagesIn(app: string, output: string): string[];
};
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS script of the repo's own
const { render } = require('./nest-new-tsconfig') as { render(template: string, values: object): string };

describe('blaming a fixture app failure on a package', () => {
  let app: string;
  beforeAll(() => {
    app = mkdtempSync(join(tmpdir(), 'wbot-blame-'));
    for (const [name, version] of [
      ['ioredis', '6.1.0'],
      ['@wbot/redis-cache', '0.1.0'],
      ['@nestjs/core', '12.6.3'],
    ]) {
      mkdirSync(join(app, 'node_modules', name), { recursive: true });
      writeFileSync(join(app, 'node_modules', name, 'package.json'), JSON.stringify({ name, version }));
    }
  });
  afterAll(() => rmSync(app, { recursive: true, force: true }));

  const output = [
    "node_modules/ioredis/built/errors/MaxRetriesPerRequestError.d.ts(1,28): error TS7016: Could not find a declaration file for module 'redis-errors'.",
    '  Try `npm i --save-dev @types/redis-errors` if it exists',
    "node_modules/ioredis/built/errors/WatchError.d.ts(1,28): error TS7016: Could not find a declaration file for module 'redis-errors'.",
    "node_modules/@wbot/redis-cache/dist/index.d.ts(3,1): error TS2305: Module '\"ioredis\"' has no exported member 'Cluster'.",
    "src/main.ts(10,5): error TS2345: Argument of type 'number' is not assignable to parameter of type 'string'.",
  ].join('\n');

  it('puts each TypeScript error down to the package that holds its file, at its installed version, or to us', () => {
    expect(blame.typescriptErrors(app, output).map(({ file, code, owner }) => [file, code, owner])).toEqual([
      [
        'node_modules/ioredis/built/errors/MaxRetriesPerRequestError.d.ts',
        'TS7016',
        { name: 'ioredis', version: '6.1.0', ours: false },
      ],
      [
        'node_modules/ioredis/built/errors/WatchError.d.ts',
        'TS7016',
        { name: 'ioredis', version: '6.1.0', ours: false },
      ],
      [
        'node_modules/@wbot/redis-cache/dist/index.d.ts',
        'TS2305',
        { name: '@wbot/redis-cache', version: '0.1.0', ours: true },
      ],
      ['src/main.ts', 'TS2345', { name: 'the fixture app', version: '', ours: true }],
    ]);
  });

  it('says, per owner and ours first, how many errors, of which codes, and the first', () => {
    expect(blame.describeBlame(blame.typescriptErrors(app, output))).toEqual([
      "ours (@wbot/redis-cache@0.1.0): 1 error (TS2305), first: node_modules/@wbot/redis-cache/dist/index.d.ts: Module '\"ioredis\"' has no exported member 'Cluster'.",
      "ours (the fixture app): 1 error (TS2345), first: src/main.ts: Argument of type 'number' is not assignable to parameter of type 'string'.",
      "theirs, not ours (ioredis@6.1.0, its own declarations): 2 errors (TS7016), first: node_modules/ioredis/built/errors/MaxRetriesPerRequestError.d.ts: Could not find a declaration file for module 'redis-errors'.",
    ]);
  });

  it('names the packages a stack trace passes through, with their versions, the innermost package of a path', () => {
    const stack = [
      'TypeError: x is not a function',
      `    at Object.<anonymous> (${app}/node_modules/@nestjs/core/injector/instance-loader.js:10:5)`,
      `    at run (${app}/node_modules/@wbot/redis-cache/node_modules/ioredis/built/Redis.js:1:1)`,
      `    at main (${app}/dist/main.js:3:3)`,
    ].join('\n');
    expect(blame.packagesIn(app, stack)).toEqual(['@nestjs/core@12.6.3', 'ioredis@unknown']);
  });
});

describe("rendering @nestjs/schematics' templates", () => {
  it('fills values and keeps or drops conditional parts', () => {
    const template = '{ "strict": <%= strict %>, "types": ["node"<% if (spec) { %>, "jest"<% } %>] }';
    expect(render(template, { strict: true, spec: false })).toBe('{ "strict": true, "types": ["node"] }');
    expect(render(template, { strict: false, spec: true })).toBe('{ "strict": false, "types": ["node", "jest"] }');
  });

  it('refuses a value it was not given and a tag it does not know, so a changed template is noticed', () => {
    expect(() => render('<%= observe %>', {})).toThrow(
      'the template uses "observe", which the renderer has no value for',
    );
    expect(() => render('<% for (x of y) { %>a<% } %>', {})).toThrow(
      'the template has a tag the renderer does not know',
    );
  });
});
