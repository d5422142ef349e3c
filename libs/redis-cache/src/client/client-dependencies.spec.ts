import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, resolve } from 'node:path';

/** The packages a source file loads at run time: type-only imports are erased and not followed. */
function runtimeImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const specifiers: string[] = [];
  for (const match of source.matchAll(/^(import|export)\s+(type\s+)?([^;]*?)\s+from\s+'([^']+)'/gm)) {
    const [, , typeOnly, clause, specifier] = match;
    const allTypes =
      /^\{[^}]*\}$/.test(clause) &&
      clause
        .slice(1, -1)
        .split(',')
        .every((name) => /^\s*type\s/.test(name) || !name.trim());
    if (!typeOnly && !allTypes) specifiers.push(specifier);
  }
  // the guarded loads of optional peers (tracing/tracer.ts), and the package's own manifest, which is no dependency
  for (const [, specifier] of source.matchAll(/\brequire\('([^']+)'\)/g)) {
    if (!specifier.endsWith('.json')) specifiers.push(specifier);
  }
  return specifiers;
}

function externalDependencies(entry: string): Set<string> {
  const seen = new Set<string>();
  const external = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const specifier of runtimeImports(file)) {
      if (specifier.startsWith('.')) {
        const base = resolve(dirname(file), specifier);
        const candidates = [`${base}.ts`, join(base, 'index.ts')];
        visit(
          candidates.find((candidate) => {
            try {
              readFileSync(candidate);
              return true;
            } catch {
              return false;
            }
          })!,
        );
      } else if (!builtinModules.includes(specifier.replace(/^node:/, ''))) {
        // the package a specifier names: `ioredis/package.json` is ioredis
        external.add(
          specifier
            .split('/')
            .slice(0, specifier.startsWith('@') ? 2 : 1)
            .join('/'),
        );
      }
    }
  };
  visit(entry);
  return external;
}

it('the framework-free client entry loads ioredis, its own slot hash and, where installed, the OpenTelemetry API, and nothing else outside Node (no opossum, no Nest)', () => {
  expect([...externalDependencies(join(__dirname, 'index.ts'))].sort()).toEqual([
    '@opentelemetry/api',
    'cluster-key-slot',
    'ioredis',
  ]);
});

it('the Nest entry loads Nest, ioredis and opossum, where installed the OpenTelemetry API, and no other optional package (Terminus, nestjs-redis, ai, LangChain.js)', () => {
  expect([...externalDependencies(join(__dirname, '..', 'index.ts'))].sort()).toEqual([
    '@nestjs/common',
    '@opentelemetry/api',
    'cluster-key-slot',
    'ioredis',
    'opossum',
  ]);
});

it('the AI SDK entry loads nothing outside Node at run time: not ai, whose types alone it uses', () => {
  expect([...externalDependencies(join(__dirname, '..', 'ai-sdk', 'index.ts'))]).toEqual([]);
});
