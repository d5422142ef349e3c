import type * as OpenTelemetry from '@opentelemetry/api';

/**
 * The OpenTelemetry API, an optional peer dependency, loaded once and only
 * here: a static import would make every app install it, and would crash the
 * library where it is absent. Without it, or with it but no SDK registered,
 * the caches make no spans.
 */
function loadApi(): typeof OpenTelemetry | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@opentelemetry/api') as typeof OpenTelemetry;
  } catch (error) {
    // only its absence is expected; an install that fails to load is a fault to show
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}

/** The API, when the app has it installed. */
export const openTelemetry = loadApi();

/**
 * The library's tracer, named after the package (the instrumentation scope).
 * The API hands out a proxy, so an SDK the app registers after this module
 * loaded still receives the spans.
 */
export const cacheTracer = openTelemetry?.trace.getTracer(
  '@wbot/redis-cache',
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require('../../package.json') as { version: string }).version,
);
