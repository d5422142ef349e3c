import { Command, type Cluster } from 'ioredis';
import { bucketPrefix } from '../keys';
import type { ClientListeners } from '../connections/client-listeners';

/** Where one message bucket lives on a cluster. */
export interface BucketPlacement {
  readonly bucket: number;
  readonly slot: number;
  /** `host:port` of the master serving the slot, or null while no master does. */
  readonly master: string | null;
}

/** The slot of a bucket's keys: its prefix holds their common hash tag. ioredis computes it exactly as Redis does. */
function bucketSlot(bucket: number): number {
  return new Command('exists', [bucketPrefix(bucket)]).getSlot() as number;
}

/** Each bucket's slot and master, from the cluster client's current slot map. */
export function bucketPlacements(cluster: Cluster, buckets: number): BucketPlacement[] {
  return Array.from({ length: buckets }, (_, bucket) => {
    const slot = bucketSlot(bucket);
    return { bucket, slot, master: cluster.slots[slot]?.[0] ?? null };
  });
}

/**
 * One line saying which master holds which buckets (`b<bucket>@<slot>`), and
 * which masters hold none: a master with more buckets than the others carries
 * more of the message load, and one with none carries none of it.
 */
export function describeBucketSpread(cluster: Cluster, buckets: number): string {
  const byMaster = new Map<string, string[]>();
  for (const { master, bucket, slot } of bucketPlacements(cluster, buckets)) {
    const name = master ?? 'no master';
    byMaster.set(name, [...(byMaster.get(name) ?? []), `b${bucket}@${slot}`]);
  }
  const masters = cluster.nodes('master').map(({ options }) => `${options.host}:${options.port}`);
  const idle = masters.filter((master) => !byMaster.has(master)).sort();
  const held = [...byMaster]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([master, placed]) => `${master} holds ${placed.length} (${placed.join(' ')})`);
  const none = idle.length > 0 ? `; ${idle.join(', ')} hold${idle.length === 1 ? 's' : ''} none` : '';
  return `message buckets over ${masters.length} masters: ${held.join('; ')}${none}`;
}

/** Logs the bucket spread once the cluster client has its slot map (at once if it has), unless `listeners` are taken off first. */
export function logBucketSpreadWhenReady(
  cluster: Cluster,
  buckets: number,
  log: (line: string) => void,
  listeners: ClientListeners,
): void {
  const report = () => log(describeBucketSpread(cluster, buckets));
  if (cluster.status === 'ready') report();
  else listeners.once(cluster, 'ready', report);
}
