import { UnsettledConversations, type ClearBatch } from './unsettled-conversations';

/** Pure logic: the clears are recorded and settled by hand, no Redis. */
function setup(max = 100, retryMs = 10_000) {
  const clears: {
    bucket: number;
    ids: readonly string[] | 'all';
    settle: (cleared: number) => void;
    fail: () => void;
  }[] = [];
  const clear: ClearBatch = (bucket, ids) =>
    new Promise((resolve, reject) =>
      clears.push({ bucket, ids, settle: resolve, fail: () => reject(new Error('down')) }),
    );
  let cleared = 0;
  const bucketsFound: string[] = [];
  const watching = new Set<() => void>();
  const unsettled = new UnsettledConversations({
    max,
    batchSize: 2,
    retryMs,
    bucketOf: (id) => {
      bucketsFound.push(id);
      return id.startsWith('x') ? 1 : 0;
    },
    clear,
    isReady: () => true,
    onReady: (listener) => {
      watching.add(listener);
      return () => watching.delete(listener);
    },
    onCleared: (count) => (cleared += count),
    warn: () => undefined,
  });
  return { unsettled, clears, cleared: () => cleared, watching, bucketsFound };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('UnsettledConversations', () => {
  it("answers has() without finding the conversation's bucket while no bucket overflowed, as every read asks it", () => {
    const { unsettled, bucketsFound } = setup(1);
    unsettled.mark('a');
    bucketsFound.length = 0; // the settling's, which batches by bucket
    expect([unsettled.has('a'), unsettled.has('b'), unsettled.has('x1')]).toEqual([true, false, false]);
    expect(bucketsFound).toEqual([]);
    unsettled.mark('x2'); // past max: 'a' is forgotten, and its bucket, 0, is cleared whole
    bucketsFound.length = 0;
    expect([unsettled.has('a'), unsettled.has('b'), unsettled.has('x1'), unsettled.has('x2')]).toEqual([
      true,
      true,
      false,
      true,
    ]);
    expect(bucketsFound).toEqual(['a', 'b', 'x1']);
  });

  it('keeps a mark that a new failure added while the clear of the old one was in flight', async () => {
    const { unsettled, clears } = setup();
    unsettled.mark('a');
    expect(clears.map(({ ids }) => ids)).toEqual([['a']]);
    unsettled.mark('a'); // the same conversation fails again while its clear runs
    clears[0].settle(1);
    await tick();
    expect(unsettled.has('a')).toBe(true);
    // the settling goes on with what is still marked, and only then forgets it
    expect(clears.map(({ ids }) => ids)).toEqual([['a'], ['a']]);
    clears[1].settle(0);
    await tick();
    expect(unsettled.has('a')).toBe(false);
    expect(unsettled.empty).toBe(true);
  });

  it('settles in batches per bucket, all sent at once, not a clear per conversation', async () => {
    const { unsettled, clears, cleared } = setup();
    clears.length = 0;
    unsettled.mark('a'); // starts a run with ['a']
    for (const id of ['b', 'c', 'x1', 'x2', 'x3']) unsettled.mark(id);
    clears[0].settle(1);
    await tick();
    expect(clears.slice(1).map(({ bucket, ids }) => [bucket, ids])).toEqual([
      [0, ['b', 'c']],
      [1, ['x1', 'x2']],
      [1, ['x3']],
    ]);
    clears.slice(1).forEach(({ settle }) => settle(1));
    await tick();
    expect(unsettled.empty).toBe(true);
    expect(cleared()).toBe(4);
  });

  it('past the cap, clears the oldest mark’s bucket whole instead of forgetting it', async () => {
    const { unsettled, clears } = setup(2);
    unsettled.mark('a'); // run 1: ['a'], in flight
    unsettled.mark('b');
    unsettled.mark('x1'); // 3 marks > 2: 'a' is forgotten, its bucket 0 is overflowed
    expect(unsettled.has('a')).toBe(true);
    expect(unsettled.has('c')).toBe(true); // any conversation of bucket 0 may be stale now
    clears[0].settle(1);
    await tick();
    expect(clears.slice(1).map(({ bucket, ids }) => [bucket, ids])).toEqual([
      [0, 'all'],
      [1, ['x1']],
    ]);
    clears.slice(1).forEach(({ settle }) => settle(0));
    await tick();
    expect(unsettled.has('a')).toBe(false);
    expect(unsettled.has('b')).toBe(false);
    expect(unsettled.empty).toBe(true);
  });

  it('once closed, neither retries a failed clear nor watches the connection, and keeps what it marked', async () => {
    const { unsettled, clears, watching } = setup(100, 5);
    unsettled.mark('a');
    expect(watching.size).toBe(1);
    unsettled.close();
    expect(watching.size).toBe(0);
    clears[0].fail(); // the clear on the wire when it closed
    await new Promise((resolve) => setTimeout(resolve, 50));
    unsettled.settle();
    unsettled.mark('b');
    expect(clears).toHaveLength(1);
    expect(watching.size).toBe(0);
    expect([unsettled.has('a'), unsettled.has('b')]).toEqual([true, true]);
  });
});
