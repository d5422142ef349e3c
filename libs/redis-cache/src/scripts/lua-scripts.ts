import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster, Redis } from 'ioredis';
import { sendUntimed } from '../connections/untimed-commands';

/**
 * How the library runs its Lua scripts. Each script is assembled once from
 * its `.lua` file under this folder and the preludes under `lib/`, and is
 * registered on a client with ioredis `defineCommand`, which sends EVALSHA and
 * falls back to EVAL on NOSCRIPT (after a restart or a failover); a script
 * sent with a plain command (`runScriptThen`) does the same itself. The scripts
 * themselves are listed by their caches: `embeddings/embedding-scripts.ts` and
 * `messages/message-scripts.ts`.
 */

/** A key or argument of a script call, as ioredis takes it. */
export type ScriptArgument = string | Buffer | number;

/** One assembled script: its command name (`wbotCache_<name>`), its number of keys, its Lua source and its SHA-1. */
export interface LuaScript<Name extends string = string> {
  readonly name: Name;
  readonly numberOfKeys: number;
  readonly lua: string;
  /** What EVALSHA names the script by: the SHA-1 of `lua`, in hex. */
  readonly sha: string;
}

/**
 * Every script declares itself (Redis 7 function flags): with no flags, Redis
 * refuses a script that may write as a whole, at its start, when it is over
 * `maxmemory` under `noeviction`, instead of letting it write until its first
 * refused command. A script that only frees memory may run anyway
 * (`allow-oom`): the clears, so that the settling after an outage can remove
 * stale copies.
 */
export type ScriptFlags = 'none' | 'allow-oom';

/** The script made of `files` (relative to this folder, joined with `\n`), under a shebang that declares `flags`. */
export function luaScript<Name extends string>(
  name: Name,
  numberOfKeys: number,
  files: readonly string[],
  flags: ScriptFlags = 'none',
): LuaScript<Name> {
  const shebang = flags === 'none' ? '#!lua' : `#!lua flags=${flags}`;
  const body = files.map((file) => readFileSync(join(__dirname, file), 'utf8')).join('\n');
  const lua = `${shebang}\n${body}`;
  return { name, numberOfKeys, lua, sha: createHash('sha1').update(lua).digest('hex') };
}

const COMMAND_PREFIX = 'wbotCache_';

type ScriptCommand = (...args: ScriptArgument[]) => Promise<unknown>;
type RedisClient = Redis | Cluster;

/** Registers scripts on a client once; later calls are no-ops. */
export function defineScripts(redis: RedisClient, scripts: Readonly<Record<string, LuaScript>>): void {
  for (const { name, numberOfKeys, lua } of Object.values(scripts)) {
    const command = COMMAND_PREFIX + name;
    if (!(command in redis)) redis.defineCommand(command, { numberOfKeys, lua });
  }
}

/** Runs a registered script; `buffers` asks for bulk replies as Buffers instead of strings. */
export function runScript(
  redis: RedisClient,
  { name }: LuaScript,
  keys: readonly string[],
  args: readonly ScriptArgument[],
  buffers = false,
): Promise<unknown> {
  const command = (redis as unknown as Record<string, ScriptCommand>)[
    COMMAND_PREFIX + name + (buffers ? 'Buffer' : '')
  ];
  return command.call(redis, ...keys, ...args);
}

/** The scripts sent whole (EVAL) on each socket, by `runScriptThen`; a cluster client counts as one socket. */
const sentWhole = new WeakMap<object, Set<string>>();

/** The scripts sent whole on the client's current socket: a reconnect makes a new one, to a server that may have none. */
function scriptsSentOn(redis: RedisClient): Set<string> {
  const socket: object = ('stream' in redis && redis.stream) || redis;
  let sent = sentWhole.get(socket);
  if (!sent) {
    sent = new Set();
    sentWhole.set(socket, sent);
  }
  return sent;
}

/**
 * Runs a script, then a plain command on a key of the same slot, in one round
 * trip: both are written to the connection in the same tick, so Redis runs them
 * in that order, but not as a transaction (another client's command may run
 * between the two). Both replies, or the first error either gave. A native
 * command returns a large reply (a vector, a list) without the two copies a
 * reply passed through Lua costs. Not an ioredis pipeline: making one costs
 * Node more than the copy through Lua saves.
 *
 * The script does not go through its `defineCommand`: on NOSCRIPT (after a
 * restart, a failover or SCRIPT FLUSH) ioredis would resend it as EVAL once the
 * plain command had already run, whose reply would then predate what the script
 * did (an expired entry it purged). Here a NOSCRIPT sends the pair again, EVAL
 * first, and the first plain reply is not used. As ioredis does, the first call
 * of a script on a socket sends it whole (EVAL), which a new server needs, and
 * later calls EVALSHA; so a NOSCRIPT costs a round trip only after SCRIPT FLUSH,
 * or on a cluster node the script has not been sent to yet.
 *
 * Only within a call's deadline (`SafeRedis`): both commands go without a
 * `commandTimeout` timer of ioredis's (`sendUntimed`), since that deadline is
 * the one timer that bounds them.
 */
export function runScriptThen(
  redis: RedisClient,
  { lua, sha, numberOfKeys }: LuaScript,
  keys: readonly string[],
  args: readonly ScriptArgument[],
  [command, ...commandArgs]: [string, ...ScriptArgument[]],
): Promise<[script: unknown, command: unknown]> {
  const pair = (evalCommand: 'evalsha' | 'eval', script: string) =>
    Promise.all([
      sendUntimed(redis, evalCommand, [script, numberOfKeys, ...keys, ...args]),
      sendUntimed(redis, command, commandArgs),
    ]);
  const sent = scriptsSentOn(redis);
  if (!sent.has(sha)) {
    sent.add(sha);
    return pair('eval', lua);
  }
  return pair('evalsha', sha).catch((error: unknown) => {
    if (!(error instanceof Error && error.message.startsWith('NOSCRIPT'))) throw error;
    return pair('eval', lua);
  });
}
