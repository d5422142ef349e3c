import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const links = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]);

describe('the docs index, docs/README.md', () => {
  it('links every page of docs/', () => {
    const linked = new Set(links(join(ROOT, 'docs', 'README.md')));
    const pages = readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md') && name !== 'README.md');
    expect(pages.filter((page) => !linked.has(page))).toEqual([]);
  });

  it('is linked from the README', () => {
    expect(links(join(ROOT, 'README.md'))).toContain('docs/README.md');
  });
});
