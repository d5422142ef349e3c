import { RedisCacheInputError } from '../../src/errors';

/** That `call` throws or rejects with a `RedisCacheInputError` naming `argument`. */
export async function expectInputError(call: () => unknown, argument: string): Promise<void> {
  const error: unknown = await Promise.resolve()
    .then(call)
    .then(
      () => undefined,
      (reason: unknown) => reason,
    );
  expect(error).toBeInstanceOf(RedisCacheInputError);
  expect((error as RedisCacheInputError).argument).toBe(argument);
}
