/**
 * Whether Redis refused a command because it is at `maxmemory` under the
 * `noeviction` policy. A script that writes (the LRU touch of every read) is
 * refused with it too, while plain reads still work: the caches then read
 * without the touch.
 */
export function isOutOfMemory(error: unknown): boolean {
  return error instanceof Error && /\bOOM command not allowed\b/.test(error.message);
}
