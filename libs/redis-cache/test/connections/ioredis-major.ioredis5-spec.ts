import { Redis } from 'ioredis';
import { IOREDIS_MAJOR } from '../../src/connections/ioredis-workarounds';

// The ioredis5 project maps ioredis onto ioredis 5 (jest.config.js); this proves it, for the library and the tests.
it('runs this project on ioredis 5, in the library and in the tests', () => {
  expect(IOREDIS_MAJOR).toBe(5);
  expect(require.resolve('ioredis')).toMatch(/node_modules\/ioredis5\//);
  expect(typeof Redis).toBe('function');
});
