import { RedisCacheInputError } from '../../src/errors';

/** That `call` throws or rejects with a `RedisCacheInputError` naming `argument`; the error, for more checks. */
export async function expectInputError(call: () => unknown, argument: string): Promise<RedisCacheInputError> {
  const error: unknown = await Promise.resolve()
    .then(call)
    .then(
      () => undefined,
      (reason: unknown) => reason,
    );
  expect(error).toBeInstanceOf(RedisCacheInputError);
  expect((error as RedisCacheInputError).argument).toBe(argument);
  return error as RedisCacheInputError;
}
