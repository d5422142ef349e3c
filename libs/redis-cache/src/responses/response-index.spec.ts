import { responseKeys } from '../keys';
import { RECENT_TENANT_KEYS } from '../options/defaults';
import { resolveResponseOptions } from '../options/resolve-options';
import type { SafeRedis } from '../resilience/safe-redis';
import type { ResponseCacheStats } from './response-cache-stats';
import { ResponseIndex } from './response-index';

/** An index whose key names are tested: they never reach Redis, which it is not given. */
function index(): ResponseIndex {
  return new ResponseIndex({} as SafeRedis, resolveResponseOptions({}), {} as ResponseCacheStats);
}

describe('ResponseIndex key names', () => {
  it("makes a tenant's keys once, equal to responseKeys, and a target from them", () => {
    const keys = index();
    const first = keys.keysOf('tenant-a');
    expect(first).toEqual(responseKeys('tenant-a'));
    expect(keys.keysOf('tenant-a')).toBe(first);
    expect(keys.target('tenant-a', 'value', 'k').keys).toBe(first);
    expect(keys.keysOf('tenant-b')).toEqual(responseKeys('tenant-b'));
  });

  it('remembers the last RECENT_TENANT_KEYS tenants only, dropping the oldest first', () => {
    const keys = index();
    const oldest = keys.keysOf('tenant-0');
    const second = keys.keysOf('tenant-1');
    for (let i = 2; i <= RECENT_TENANT_KEYS; i++) keys.keysOf(`tenant-${i}`);
    // tenant-0 made way for the last one; tenant-1 is still remembered
    expect(keys.keysOf('tenant-1')).toBe(second);
    const again = keys.keysOf('tenant-0');
    expect(again).not.toBe(oldest);
    expect(again).toEqual(oldest);
  });
});
