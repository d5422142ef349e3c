'use strict';
// The Redis servers of one soak topology, started as the tests start theirs (test/support), with the foreign keys
// a shared Redis holds in production; and the server-side faults done to them: kill and restart, freeze and thaw,
// SCRIPT FLUSH, DEL. Each fault resolves with the time Redis was back: answering again, and on a cluster serving
// its slots.

const { setTimeout: sleep } = require('node:timers/promises');
const keySlot = require('cluster-key-slot');
const { RedisCluster, RedisServer, pings, withClient } = require('./test-support');
const { clock } = require('./clock');

/** DEBUG POPULATE needs it; the servers are private. */
const DEBUG = ['--enable-debug-command', 'yes'];
/** A cluster master's foreign keys are spread over this many slots of its own (a restart reloads only those). */
const TAGS_PER_MASTER = 100;
/** How long a restarted server may take to load its foreign keys (about a second per million, idle). */
const RELOAD_MS = 60_000;

/**
 * Writes `count` foreign keys (`DEBUG POPULATE`, small strings, as the frontend's sessions would be) spread over
 * `prefixes`, then SAVEs them: a server killed later restarts with them, as a production one with persistence
 * would, but without any key of the cache, which did not exist yet.
 */
async function populate(port, count, prefixes) {
  if (count === 0) return;
  await withClient(port, async (admin) => {
    const each = Math.ceil(count / prefixes.length);
    for (const prefix of prefixes) await admin.call('DEBUG', 'POPULATE', each, prefix);
    await admin.call('SAVE');
  });
}

/**
 * When the server on `port` answered again: the time the first PING it answered was sent, so that the library's
 * own work queued on the server once it was back (a long script) does not count as the server being away.
 */
async function answering(port) {
  for (;;) {
    const sent = clock();
    if (await pings(port)) return sent;
    await sleep(5);
  }
}

class Topology {
  /** The slot-agnostic faults; `back(target)` says when Redis serves again. */
  async restart(target) {
    await target.server.kill();
    const [back] = await Promise.all([this.back(target), target.server.restart(RELOAD_MS)]);
    return back;
  }

  async freeze(target, ms) {
    target.server.freeze();
    await sleep(ms);
    target.server.thaw();
    return this.back(target);
  }

  async flushScripts() {
    await Promise.all(this.servers().map(({ port }) => withClient(port, (admin) => admin.call('SCRIPT', 'FLUSH'))));
    return clock();
  }
}

/** Two single nodes: `local` for the embeddings, `shared` for the messages, with the foreign keys. */
class SingleTopology extends Topology {
  name = 'single';

  constructor(local, shared) {
    super();
    this.local = local;
    this.shared = shared;
  }

  static async start(foreignKeys) {
    const [local, shared] = await Promise.all([RedisServer.start(), RedisServer.start(DEBUG)]);
    await populate(shared.port, foreignKeys, ['session']);
    return new SingleTopology(local, shared);
  }

  /** What a worker needs to connect. */
  endpoints() {
    return { kind: 'single', local: this.local.url, shared: this.shared.url };
  }

  targets() {
    return [
      { name: 'local', server: this.local, scope: { connection: 'local' } },
      { name: 'shared', server: this.shared, scope: { connection: 'shared' } },
    ];
  }

  servers() {
    return [this.local, this.shared];
  }

  /** The server holding a message bucket's keys. */
  async serverOfBucket() {
    return this.shared;
  }

  back(target) {
    return answering(target.server.port);
  }

  async stop() {
    await Promise.all(this.servers().map((server) => server.stop()));
  }
}

/** A cluster of three masters holding both connections, with the foreign keys spread over them. */
class ClusterTopology extends Topology {
  name = 'cluster';

  constructor(cluster, masters) {
    super();
    this.cluster = cluster;
    this.masters = masters;
  }

  static async start(foreignKeys) {
    const cluster = await RedisCluster.start(3, DEBUG);
    try {
      const ranges = await slotRanges(cluster.masters[0].port);
      const masters = cluster.masters.map((server, index) => ({
        index,
        server,
        ranges: ranges.filter((range) => range.port === server.port).map(({ from, to }) => [from, to]),
      }));
      const tags = tagsPerMaster(masters);
      await Promise.all(
        masters.map(({ server, index }) =>
          populate(
            server.port,
            Math.ceil(foreignKeys / masters.length),
            tags[index].map((tag) => `session:{${tag}}`),
          ),
        ),
      );
      return new ClusterTopology(cluster, masters);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
  }

  endpoints() {
    return {
      kind: 'cluster',
      nodes: this.cluster.nodes,
      masters: this.masters.map(({ index, ranges, server }) => ({ index, ranges, port: server.port })),
    };
  }

  targets() {
    return this.masters.map(({ index, server }) => ({ name: `master ${index}`, server, scope: { master: index } }));
  }

  servers() {
    return this.cluster.masters;
  }

  async serverOfBucket(keys) {
    return this.cluster.masterOf(keys.total);
  }

  /**
   * When the target master answered again and served its slots (cluster_state:ok, after its rejoin delay when it
   * restarted), as the time the CLUSTER INFO that said so was sent. The other masters may flag it as failed for
   * seconds more; they still name it for its slots, so clients reach it.
   */
  async back(target) {
    const { port } = target.server;
    await answering(port);
    for (;;) {
      const sent = clock();
      const info = await withClient(port, (admin) => admin.call('CLUSTER', 'INFO')).catch(() => '');
      if (info.includes('cluster_state:ok')) return sent;
      await sleep(5);
    }
  }

  async stop() {
    await this.cluster.stop();
  }
}

async function slotRanges(port) {
  const slots = await withClient(port, (admin) => admin.call('CLUSTER', 'SLOTS'));
  return slots.map(([from, to, [, nodePort]]) => ({ from, to, port: nodePort }));
}

/** For each master, TAGS_PER_MASTER hash tags whose slots it serves. */
function tagsPerMaster(masters) {
  const tags = masters.map(() => []);
  for (let i = 0; tags.some((list) => list.length < TAGS_PER_MASTER); i++) {
    const tag = `f${i}`;
    const slot = keySlot(`{${tag}}`);
    const owner = masters.findIndex(({ ranges }) => ranges.some(([from, to]) => slot >= from && slot <= to));
    if (tags[owner].length < TAGS_PER_MASTER) tags[owner].push(tag);
  }
  return tags;
}

/** Starts the topology named `name` (single or cluster) with `foreignKeys` keys that are not the cache's. */
function startTopology(name, foreignKeys) {
  return name === 'single' ? SingleTopology.start(foreignKeys) : ClusterTopology.start(foreignKeys);
}

module.exports = { startTopology };
