// Run by test/test-harness.e2e-spec.ts in a Jest run of its own, never by npm test: a hook that names no timeout.
import { setTimeout as sleep } from 'node:timers/promises';

let ready = false;

beforeAll(async () => {
  await sleep(5500);
  ready = true;
});

it('runs after a 5.5 s hook that names no timeout', () => {
  expect(ready).toBe(true);
});
