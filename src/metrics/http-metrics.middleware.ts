import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MetricsService } from './metrics.service';

/** Express sets `route` on the request once a route matched. */
type RoutedRequest = IncomingMessage & { route?: { path?: string } };

/**
 * Times every request until its response is sent, including those refused before
 * routing (a body over the limit, malformed JSON). The route label is the matched
 * route pattern (`/conversations/:id/messages`), never the raw path, so ids cannot
 * blow up the label set; requests that matched no controller route count as `unmatched`.
 */
export function httpMetricsMiddleware(metrics: MetricsService) {
  return (request: RoutedRequest, response: ServerResponse, next: () => void): void => {
    const started = performance.now();
    response.once('finish', () => {
      const path = request.route?.path;
      // middleware that Nest mounts on every path is an Express route too: `/{*path}`
      const route = path === undefined || path.includes('{*') ? 'unmatched' : path;
      const seconds = (performance.now() - started) / 1000;
      metrics.httpDuration.observe(
        { method: request.method ?? '', route, status_code: String(response.statusCode) },
        seconds,
      );
    });
    next();
  };
}
