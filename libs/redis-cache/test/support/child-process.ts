import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { installLibraryPrivately } from '../../../../test/support/private-demo-build';

const ROOT = join(__dirname, '..', '..', '..', '..');

/**
 * Builds the package into a private directory laid out as an installed
 * dependency, next to a copy of each fixture, so that a child resolves
 * `@wbot/redis-cache` through the package's `exports` like any consumer (and a
 * build elsewhere in the repo can't race this one).
 */
export function installBuiltPackage(fixtures: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'wbot-child-process-'));
  installLibraryPrivately(dir);
  for (const fixture of fixtures) copyFileSync(fixture, join(dir, basename(fixture)));
  return dir;
}

/** A child's answer to one command. */
export interface Reply {
  result?: unknown;
  error?: { name: string; argument?: string; message: string };
}

/** A line a child writes that answers no command: `{ ready }`, or one about a command under way (`{ id, ... }`). */
export type Notice = Record<string, unknown> & { id?: number; ready?: boolean };

/**
 * Drives a fixture in a separate Node process: one JSON command per line on its
 * stdin, `{ id, method, args }`, one JSON reply per line on its stdout,
 * `{ id, result }` or `{ id, error }`. It is ready once it writes `{ ready: true }`;
 * any other line without a result or an error goes to `onNotice`.
 */
export class ChildDriver {
  private readonly replies = new Map<number, (reply: Reply) => void>();
  private nextId = 0;
  private readonly exited: Promise<unknown>;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', resolve));
  }

  /** Starts `fixture` (in `dir`, from `installBuiltPackage`) with `args`, and resolves once it is ready. */
  static async start(dir: string, fixture: string, args: string[], onNotice?: (notice: Notice) => void) {
    const child = spawn(process.execPath, [join(dir, fixture), ...args], {
      cwd: dir,
      env: { ...process.env, NODE_PATH: join(ROOT, 'node_modules') },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const driver = new ChildDriver(child);
    await new Promise<void>((ready) => {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const message = JSON.parse(line) as Reply & Notice;
        if (message.ready) ready();
        else if ('result' in message || 'error' in message) driver.replies.get(message.id!)?.(message);
        else onNotice?.(message);
      });
    });
    return driver;
  }

  send(method: string, ...args: unknown[]): Promise<Reply> {
    return this.sendTracked(method, args).reply;
  }

  async call<T>(method: string, ...args: unknown[]): Promise<T> {
    const reply = await this.send(method, ...args);
    if (reply.error) throw new Error(`child ${method} failed: ${reply.error.message}`);
    return reply.result as T;
  }

  /** Sends a command; its id, to match the notices about it, and its reply. */
  sendTracked(method: string, args: unknown[]): { id: number; reply: Promise<Reply> } {
    const id = this.nextId++;
    const reply = new Promise<Reply>((resolve) => this.replies.set(id, resolve));
    this.child.stdin!.write(`${JSON.stringify({ id, method, args })}\n`);
    return { id, reply };
  }

  /** Closes its stdin, on which it closes its connections and exits. */
  async stop(): Promise<void> {
    this.child.stdin!.end();
    await this.exited;
  }
}
