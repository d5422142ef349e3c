import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster, Redis } from 'ioredis';

/**
 * The Lua scripts, each assembled once from its `.lua` file and the shared
 * preludes under `scripts/lib/`, and registered on a client with ioredis
 * `defineCommand`, which sends EVALSHA and falls back to EVAL on NOSCRIPT
 * (after a restart or a failover).
 */
const EMBEDDING = ['lib/clock.lua', 'lib/embedding-index.lua'];
const MESSAGE = ['lib/clock.lua', 'lib/message-budget.lua'];

const DEFINITIONS = {
  embeddingGet: { keys: 2, files: [...EMBEDDING, 'embedding-get.lua'] },
  embeddingTouch: { keys: 2, files: [...EMBEDDING, 'embedding-touch.lua'] },
  embeddingSet: { keys: 2, files: [...EMBEDDING, 'embedding-set.lua'] },
  embeddingClear: { keys: 2, files: [...EMBEDDING, 'embedding-clear.lua'] },
  messageRead: { keys: 6, files: [...MESSAGE, 'message-read.lua'] },
  messageFill: { keys: 6, files: [...MESSAGE, 'message-fill.lua'] },
  messageAppend: { keys: 6, files: [...MESSAGE, 'message-append.lua'] },
  messageClear: { keys: 6, files: [...MESSAGE, 'message-clear.lua'] },
} as const;

export type ScriptName = keyof typeof DEFINITIONS;
export type ScriptArgument = string | Buffer | number;

export interface ScriptSource {
  readonly numberOfKeys: number;
  readonly lua: string;
}

/**
 * Every script declares itself (Redis 7 function flags): with no flags, Redis
 * refuses a script that may write as a whole, at its start, when it is over
 * `maxmemory` under `noeviction`, instead of letting it write until its first
 * refused command. The clears may run anyway (`allow-oom`): they only free
 * memory, and the settling after an outage must be able to remove stale copies.
 */
function shebang(name: ScriptName): string {
  return name.endsWith('Clear') ? '#!lua flags=allow-oom' : '#!lua';
}

function assemble(files: readonly string[]): string {
  return files.map((file) => readFileSync(join(__dirname, 'scripts', file), 'utf8')).join('\n');
}

export const SCRIPTS: Readonly<Record<ScriptName, ScriptSource>> = Object.fromEntries(
  Object.entries(DEFINITIONS).map(([name, { keys, files }]) => [
    name,
    { numberOfKeys: keys, lua: `${shebang(name as ScriptName)}\n${assemble(files)}` },
  ]),
) as Record<ScriptName, ScriptSource>;

const COMMAND_PREFIX = 'wbotCache_';

type ScriptCommand = (...args: ScriptArgument[]) => Promise<unknown>;
type RedisClient = Redis | Cluster;

/** Registers every script on a client once; later calls are no-ops. */
export function defineScripts(redis: RedisClient): void {
  for (const [name, { numberOfKeys, lua }] of Object.entries(SCRIPTS)) {
    const command = COMMAND_PREFIX + name;
    if (!(command in redis)) redis.defineCommand(command, { numberOfKeys, lua });
  }
}

/** Runs a registered script; `buffers` asks for bulk replies as Buffers instead of strings. */
export function runScript(
  redis: RedisClient,
  name: ScriptName,
  keys: readonly string[],
  args: readonly ScriptArgument[],
  buffers = false,
): Promise<unknown> {
  const command = (redis as unknown as Record<string, ScriptCommand>)[
    COMMAND_PREFIX + name + (buffers ? 'Buffer' : '')
  ];
  return command.call(redis, ...keys, ...args);
}

/**
 * Runs a registered script, then a plain command, in one round trip: a
 * pipeline, not a transaction, so another client's command may run between
 * the two. The command's reply, or the first error either gave.
 */
export async function runScriptThen(
  redis: RedisClient,
  name: ScriptName,
  keys: readonly string[],
  args: readonly ScriptArgument[],
  [command, ...commandArgs]: [string, ...ScriptArgument[]],
): Promise<unknown> {
  const pipeline = redis.pipeline() as unknown as Record<string, (...all: ScriptArgument[]) => unknown> & {
    exec(): Promise<[Error | null, unknown][] | null>;
  };
  pipeline[COMMAND_PREFIX + name](...keys, ...args);
  pipeline[command](...commandArgs);
  const replies = await pipeline.exec();
  if (!replies) throw new Error('the pipeline was discarded');
  for (const [error] of replies) if (error) throw error;
  return replies[1][1];
}
