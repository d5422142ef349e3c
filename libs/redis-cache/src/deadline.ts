export class DeadlineExceededError extends Error {
  override readonly name = 'DeadlineExceededError';
}

/** Settles like `work`, or rejects with DeadlineExceededError once `ms` have passed. */
export async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineExceededError(`no reply within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
