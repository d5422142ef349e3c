import { Redis } from 'ioredis';
import { clientSecrets, maskSecrets } from './mask-secrets';

describe('maskSecrets', () => {
  it('replaces every occurrence of every secret', () => {
    expect(maskSecrets('auth hunter2 failed; hunter2 again; pw2', ['hunter2', 'pw2'])).toBe(
      'auth *** failed; *** again; ***',
    );
  });

  it('masks the password of any Redis URL in the message, secret known or not', () => {
    expect(maskSecrets('cannot reach redis://wbot:p%40ss@host:6379/0 or rediss://:x@h:1', [])).toBe(
      'cannot reach redis://wbot:***@host:6379/0 or rediss://:***@h:1',
    );
  });

  it('leaves a message without secrets as it is', () => {
    expect(maskSecrets('connect ECONNREFUSED 127.0.0.1:6379', ['hunter2'])).toBe('connect ECONNREFUSED 127.0.0.1:6379');
  });
});

describe('clientSecrets', () => {
  it('finds the password given in the URL or in the options', () => {
    const fromUrl = new Redis('redis://user:from-url@127.0.0.1:1', { lazyConnect: true });
    const fromOptions = new Redis({ lazyConnect: true, password: 'from-options', sentinelPassword: 'sentinel' });
    expect(clientSecrets(fromUrl)).toEqual(['from-url']);
    expect(clientSecrets(fromOptions)).toEqual(['from-options', 'sentinel']);
    expect(clientSecrets(new Redis({ lazyConnect: true }))).toEqual([]);
  });
});
