/** Polls `probe` every `everyMs` until it is true; resolves to the ms it took, or rejects after `timeoutMs`. */
export async function until(probe: () => Promise<boolean> | boolean, timeoutMs = 5000, everyMs = 5): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (await probe()) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`not true within ${timeoutMs} ms`);
}
