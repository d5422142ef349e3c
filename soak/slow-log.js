'use strict';
// What the servers themselves saw take long: every command over 10 ms, from each server's SLOWLOG, read and
// reset every few seconds (a restarted server starts a new one), with the library's scripts named. A script that
// blocks a shared Redis blocks every client of it, the frontend's included: this is where a SCAN inside a script
// shows, with the SCANs it ran (commands a script runs are logged too, from the client `?:0`).

const { createHash } = require('node:crypto');
const { clearInterval, setInterval } = require('node:timers');
const { MESSAGE_SCRIPTS } = require('../libs/redis-cache/dist/messages/message-scripts');
const { EMBEDDING_SCRIPTS } = require('../libs/redis-cache/dist/embeddings/embedding-scripts');
const { withClient } = require('./test-support');

const SLOWER_THAN_US = 10_000;
const READ_EVERY_MS = 2000;

const SCRIPT_NAMES = new Map(
  [...Object.values(MESSAGE_SCRIPTS), ...Object.values(EMBEDDING_SCRIPTS)].map(({ name, lua }) => [
    createHash('sha1').update(lua).digest('hex'),
    name,
  ]),
);

/** What a slow log entry ran: a library script by name, or the command with its first argument. */
function describe(args) {
  const [command = '', first = ''] = args.map(String);
  const upper = command.toUpperCase();
  if (upper === 'EVALSHA') return SCRIPT_NAMES.get(first) ?? 'EVALSHA (another script)';
  if (upper === 'EVAL') return 'EVAL';
  return upper;
}

class SlowLog {
  entries = [];

  /** `servers`: `{ name, topology, port }` of every server to watch. */
  constructor(servers) {
    this.servers = servers;
  }

  async start() {
    await Promise.all(this.servers.map((server) => this.read(server)));
    this.entries = [];
    this.timer = setInterval(() => this.readAll(), READ_EVERY_MS);
  }

  /** Reads every server's log, unless a read is still under way (a frozen server holds one up). */
  readAll() {
    for (const server of this.servers) {
      if (server.reading) continue;
      server.reading = this.read(server).finally(() => (server.reading = undefined));
    }
  }

  async read(server) {
    try {
      const raw = await withClient(server.port, async (admin) => {
        // again each time: a restarted server is back to the defaults (128 entries)
        await admin.call('CONFIG', 'SET', 'slowlog-log-slower-than', SLOWER_THAN_US, 'slowlog-max-len', 10_000);
        const log = await admin.call('SLOWLOG', 'GET', '-1');
        await admin.call('SLOWLOG', 'RESET');
        return log;
      });
      for (const [, at, us, args, client] of raw) {
        this.entries.push({
          server: `${server.topology} ${server.name}`,
          at: Number(at) * 1000,
          ms: Number(us) / 1000,
          command: describe(args),
          inScript: client === '?:0',
        });
      }
    } catch {
      // down or restarting: its log is read next time, or went with it
    }
  }

  /** Stops reading, after a last read of every server. */
  async stop() {
    clearInterval(this.timer);
    await Promise.all(this.servers.map((server) => server.reading));
    await Promise.all(this.servers.map((server) => this.read(server)));
  }
}

module.exports = { SlowLog };
