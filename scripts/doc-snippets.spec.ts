import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

interface Block {
  file: string;
  line: number;
  lang: string;
  code: string;
  marker?: { tool: string; kind: string; name?: string };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS script of the repo's own
const snippets = require('./doc-snippets') as {
  blocksOf(file: string, root: string): Block[];
  docBlocks(): Block[];
  snippetProblems(blocks: Block[]): string[];
};

describe("the pages' code blocks", () => {
  it('mark every TypeScript block a reader copies as a fragment, a module, an app or a program', () => {
    expect(snippets.snippetProblems(snippets.docBlocks())).toEqual([]);
  });

  describe('their markers', () => {
    let dir: string;
    const page = (text: string) => {
      writeFileSync(join(dir, 'page.md'), text);
      return snippets.blocksOf(join(dir, 'page.md'), dir);
    };
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'wbot-snippets-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    it('read the marker on the closest non-blank line before a block, and none from further up', () => {
      const blocks = page(
        [
          '<!-- snippet: module one -->',
          '',
          '```ts',
          'export const a = 1;',
          '```',
          '<!-- snippet: fragment -->',
          'Some words.',
          '```ts',
          'a = 2',
          '```',
          '<!-- doc-test: python -->',
          '```python',
          'print(1)',
          '```',
          '```sh',
          'npm test',
          '```',
        ].join('\n'),
      );
      expect(blocks).toEqual([
        {
          file: 'page.md',
          line: 3,
          lang: 'ts',
          code: 'export const a = 1;',
          marker: { tool: 'snippet', kind: 'module', name: 'one' },
        },
        { file: 'page.md', line: 8, lang: 'ts', code: 'a = 2', marker: undefined },
        {
          file: 'page.md',
          line: 12,
          lang: 'python',
          code: 'print(1)',
          marker: { tool: 'doc-test', kind: 'doc-test', name: 'python' },
        },
        { file: 'page.md', line: 15, lang: 'sh', code: 'npm test', marker: undefined },
      ]);
    });

    it('name each block that is unmarked, of an unknown kind, unnamed, named twice, or an app without AppModule', () => {
      const blocks = page(
        [
          '```ts',
          'x',
          '```',
          '<!-- snippet: script a -->',
          '```ts',
          'x',
          '```',
          '<!-- snippet: module -->',
          '```ts',
          'x',
          '```',
          '<!-- snippet: module a -->',
          '```ts',
          'x',
          '```',
          '<!-- snippet: program a -->',
          '```ts',
          'x',
          '```',
          '<!-- snippet: app b -->',
          '```ts',
          'export class Other {}',
          '```',
          '<!-- snippet: fragment c -->',
          '```ts',
          'x',
          '```',
          '```js',
          'x',
          '```',
        ].join('\n'),
      );
      expect(snippets.snippetProblems(blocks)).toEqual([
        'page.md:1: a TypeScript block without a <!-- snippet: ... --> marker (fragment, module, app, program)',
        'page.md:5: unknown snippet kind "script" (fragment, module, app, program)',
        'page.md:9: a module snippet needs a name of a-z, 0-9 and -',
        'page.md:17: the snippet name "a" is taken by page.md:13',
        'page.md:21: an app snippet must export class AppModule',
        'page.md:25: a fragment takes no name',
      ]);
    });
  });
});
