import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { EMBEDDING_SCRIPTS } from '../../libs/redis-cache/src/embeddings/embedding-scripts';
import { MESSAGE_SCRIPTS } from '../../libs/redis-cache/src/messages/message-scripts';

const SCRIPTS = [...Object.values(EMBEDDING_SCRIPTS), ...Object.values(MESSAGE_SCRIPTS)];
type ScriptName = (typeof SCRIPTS)[number]['name'];
import { until } from './until';

/** One command the server ran, as MONITOR reported it: from a client (its address), or from a script (`lua`). */
export interface MonitoredCommand {
  readonly args: string[];
  readonly source: string;
}

/** A script a client ran: which of the library's, and its arguments after the script (numkeys, keys, ARGV). */
export interface ScriptRun {
  readonly script: ScriptName | 'unknown';
  readonly args: string[];
}

/**
 * An argument as it arrives in a `'monitor'` event: Redis quotes it byte by
 * byte (sdscatrepr), and ioredis unescapes only the double quotes.
 */
function asMonitored(text: string): string {
  const escapes: Record<number, string> = { 0x5c: '\\\\', 0x22: '\\"', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t' };
  escapes[0x07] = '\\a';
  escapes[0x08] = '\\b';
  let quoted = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    quoted +=
      escapes[byte] ??
      (byte >= 0x20 && byte <= 0x7e ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`);
  }
  return quoted.replace(/\\"/g, '"');
}

/** Each library script by its SHA-1 (EVALSHA) and by its body as MONITOR shows it (EVAL). */
const SCRIPT_NAMES = new Map<string, ScriptName>();
for (const { name, lua } of SCRIPTS) {
  SCRIPT_NAMES.set(createHash('sha1').update(lua).digest('hex'), name);
  SCRIPT_NAMES.set(asMonitored(lua), name);
}

/**
 * A MONITOR connection: every command that reaches the server from any client,
 * in the order the server runs them, so a test can count exactly what ran,
 * a command sent twice (a replay) included. Scripts are named; the commands a
 * script calls are reported too, with the source `lua`.
 */
export class ServerMonitor {
  readonly commands: MonitoredCommand[] = [];

  private constructor(private readonly connection: Redis) {}

  /** Starts monitoring through a duplicate of `client`'s connection. */
  static async attach(client: Redis): Promise<ServerMonitor> {
    const connection = await client.monitor();
    const monitor = new ServerMonitor(connection);
    connection.on('monitor', (_time: string, args: string[], source: string) => {
      monitor.commands.push({ args, source });
    });
    return monitor;
  }

  /** The scripts clients ran (EVAL or EVALSHA), in order. */
  scriptRuns(): ScriptRun[] {
    return this.commands
      .filter(({ args, source }) => source !== 'lua' && /^eval(sha)?$/i.test(args[0]))
      .map(({ args }) => ({ script: SCRIPT_NAMES.get(args[1]) ?? 'unknown', args: args.slice(2) }));
  }

  /** The names of the scripts clients ran, in order. */
  scripts(): string[] {
    return this.scriptRuns().map((run) => run.script);
  }

  /** The arguments of each call of `command` made by a script, in order. */
  calledByScripts(command: string): string[][] {
    return this.commands
      .filter(({ args, source }) => source === 'lua' && args[0].toLowerCase() === command.toLowerCase())
      .map(({ args }) => args.slice(1));
  }

  /**
   * Resolves once the server has run, and this monitor has reported, every
   * command `client` sent before the call: a marker sent after them on the same
   * connection runs after them, and MONITOR reports in the order commands run.
   */
  async caughtUp(client: Redis, timeoutMs = 2000): Promise<void> {
    const marker = `monitor-marker-${randomUUID()}`;
    await client.echo(marker);
    await until(
      () => this.commands.some(({ args }) => args[0].toLowerCase() === 'echo' && args[1] === marker),
      timeoutMs,
      1,
    );
  }

  stop(): void {
    this.connection.disconnect();
  }
}
