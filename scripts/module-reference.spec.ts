import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import {
  DEFAULT_DEADLINE_MS,
  DEFAULT_READY_TIMEOUT_MS,
  EMBEDDING_DEFAULTS,
  MESSAGE_DEFAULTS,
  NEAR_CACHE_DEFAULTS,
} from '../libs/redis-cache/src/options/defaults';
import { CIRCUIT_BREAKER_DEFAULTS } from '../libs/redis-cache/src/options/defaults';

/**
 * docs/redis-cache-module.md is the reference the READMEs send readers to for every option, default and counter.
 * These tests read the options and stats types from the library's sources, so an option or a counter added there
 * and not here fails.
 */
const ROOT = join(__dirname, '..');
const SOURCES = join(ROOT, 'libs', 'redis-cache', 'src');
const OPTIONS_FILE = join(SOURCES, 'options', 'redis-cache-options.ts');
const REFERENCE = readFileSync(join(ROOT, 'docs', 'redis-cache-module.md'), 'utf8');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

const program = ts.createProgram(
  filesUnder(SOURCES).filter((file) => file.endsWith('.ts') && !file.endsWith('.spec.ts')),
  { strict: true, noEmit: true, skipLibCheck: true },
);
const checker = program.getTypeChecker();

function exportedInterface(file: string, name: string): ts.Type {
  const source = program.getSourceFile(file)!;
  const symbol = checker.getExportsOfModule(checker.getSymbolAtLocation(source)!).find((s) => s.name === name);
  if (!symbol) throw new Error(`${file} exports no ${name}`);
  return checker.getDeclaredTypeOfSymbol(symbol);
}

/**
 * Every option's path under `type`: a property whose type is an interface of the options file is a section, whose
 * own properties are listed under it (`embeddings.ttlSeconds`); a connection is listed as itself (its forms have a
 * section of their own in the reference).
 */
function optionPaths(type: ts.Type, prefix = ''): string[] {
  return checker.getPropertiesOfType(type).flatMap((property) => {
    const path = `${prefix}${property.name}`;
    const propertyType = checker.getNonNullableType(checker.getTypeOfSymbol(property));
    const declaration = propertyType.getSymbol()?.declarations?.[0];
    const isSection =
      propertyType.isClassOrInterface() || (declaration !== undefined && ts.isTypeLiteralNode(declaration));
    const fromOptionsFile = declaration?.getSourceFile().fileName === OPTIONS_FILE;
    return isSection && fromOptionsFile ? optionPaths(propertyType, `${path}.`) : [path];
  });
}

/** The Options table's rows: option path -> its Default cell. */
function optionRows(): Map<string, string> {
  const section = REFERENCE.slice(REFERENCE.indexOf('### Options'));
  const table = section.slice(0, section.indexOf('\n\n', section.indexOf('| ---')));
  return new Map(
    [...table.matchAll(/^\| `([^`]+)` +\| ([^|]*)\|/gm)].map(([, path, cell]) => [path, cell.trim()] as const),
  );
}

const DEFAULTS: Record<string, unknown> = {
  ...Object.fromEntries(Object.entries(EMBEDDING_DEFAULTS).map(([name, value]) => [`embeddings.${name}`, value])),
  ...Object.fromEntries(Object.entries(MESSAGE_DEFAULTS).map(([name, value]) => [`messages.${name}`, value])),
  ...Object.fromEntries(
    Object.entries(CIRCUIT_BREAKER_DEFAULTS).map(([name, value]) => [`circuitBreaker.${name}`, value]),
  ),
  ...Object.fromEntries(
    Object.entries(NEAR_CACHE_DEFAULTS).map(([name, value]) => [`embeddings.nearCache.${name}`, value]),
  ),
  deadlineMs: DEFAULT_DEADLINE_MS,
  readyTimeoutMs: DEFAULT_READY_TIMEOUT_MS,
};

describe('docs/redis-cache-module.md, the module reference', () => {
  const paths = optionPaths(exportedInterface(OPTIONS_FILE, 'RedisCacheModuleOptions'));
  const rows = optionRows();

  it('finds the options it checks in the sources', () => {
    expect(paths).toEqual(expect.arrayContaining(['connections.local', 'embeddings.ttlSeconds', 'deadlineMs']));
  });

  it('lists every module option in its Options table', () => {
    expect(paths.filter((path) => !rows.has(path))).toEqual([]);
  });

  it("gives each option's default as the library has it", () => {
    const wrong = Object.entries(DEFAULTS)
      .filter(([path]) => paths.includes(path))
      .filter(([path, value]) => {
        const cell = rows.get(path) ?? '';
        return !(typeof value === 'string' ? cell.includes(`\`${value}\``) : cell.startsWith(String(value)));
      })
      .map(([path, value]) => `${path}: ${JSON.stringify(value)}, the table says "${rows.get(path)}"`);
    expect(wrong).toEqual([]);
  });

  it("names every counter of each cache's stats() in its service's stats() row", () => {
    const statsFiles = filesUnder(SOURCES).filter((file) => file.endsWith('-stats.ts'));
    expect(statsFiles.length).toBeGreaterThanOrEqual(2);
    const missing = statsFiles.flatMap((file) => {
      const source = program.getSourceFile(file)!;
      return checker
        .getExportsOfModule(checker.getSymbolAtLocation(source)!)
        .filter((symbol) => symbol.name.endsWith('Stats'))
        .flatMap((symbol) => {
          const service = symbol.name.replace(/Stats$/, 'Service');
          const start = REFERENCE.indexOf(`### \`${service}\``);
          if (start < 0) return [`${symbol.name}: the reference has no section ### \`${service}\``];
          const end = REFERENCE.indexOf('\n### ', start + 1);
          const row = /^\| `stats\(\)` .*$/m.exec(REFERENCE.slice(start, end < 0 ? undefined : end))?.[0] ?? '';
          const fields = checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol)).map((p) => p.name);
          return fields.filter((field) => !new RegExp(`\\b${field}\\b`).test(row)).map((f) => `${service}: ${f}`);
        });
    });
    expect(missing).toEqual([]);
  });
});
