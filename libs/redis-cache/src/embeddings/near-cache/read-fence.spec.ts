import { NEAR_CACHE_MAX_FENCES } from '../../options/defaults';
import { ReadFence } from './read-fence';

describe('ReadFence', () => {
  it('refuses the fill of a read under way when its user was invalidated, and admits the reads that began after', () => {
    const fence = new ReadFence();
    const before = fence.begin();
    fence.user('u');
    const after = fence.begin();
    expect(fence.admits(before, 'u')).toBe(false);
    expect(fence.admits(before, 'v')).toBe(true);
    expect(fence.admits(after, 'u')).toBe(true);
    fence.end();
    fence.end();
  });

  it('refuses the fill of every read under way when everything was invalidated', () => {
    const fence = new ReadFence();
    const before = fence.begin();
    fence.all();
    expect(fence.admits(before, 'v')).toBe(false);
    expect(fence.admits(fence.begin(), 'v')).toBe(true);
  });

  it('keeps no fence while no read is under way', () => {
    const fence = new ReadFence();
    fence.user('u');
    const ticket = fence.begin();
    expect(fence.admits(ticket, 'u')).toBe(true);
  });

  it('past the most fences it keeps, turns the oldest into a fence of every read that began before it', () => {
    const fence = new ReadFence();
    const first = fence.begin();
    fence.user('u0');
    const second = fence.begin();
    for (let i = 1; i <= NEAR_CACHE_MAX_FENCES; i++) fence.user(`u${i}`);
    expect(fence.admits(first, 'unrelated')).toBe(false);
    expect(fence.admits(second, 'unrelated')).toBe(true);
    expect(fence.admits(second, `u${NEAR_CACHE_MAX_FENCES}`)).toBe(false);
  });
});
