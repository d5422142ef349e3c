import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An attribute value as OTLP/JSON writes it: one of these fields is set. */
interface AnyValue {
  stringValue?: string;
  intValue?: number | string;
  doubleValue?: number;
  boolValue?: boolean;
}

interface KeyValue {
  key: string;
  value: AnyValue;
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: KeyValue[];
  status?: { code?: number; message?: string };
}

interface ExportRequest {
  resourceSpans: {
    resource?: { attributes?: KeyValue[] };
    scopeSpans: { scope?: { name: string }; spans?: OtlpSpan[] }[];
  }[];
}

/** A span as it arrived, its attributes and its resource's as plain objects. */
export interface CollectedSpan {
  readonly name: string;
  readonly kind: number;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly scope?: string;
  readonly attributes: Record<string, string | number | boolean>;
  readonly status?: { code?: number; message?: string };
  readonly resource: Record<string, string | number | boolean>;
}

function plain(attributes: KeyValue[] = []): Record<string, string | number | boolean> {
  return Object.fromEntries(
    attributes.map(({ key, value }) => [
      key,
      value.stringValue ?? value.boolValue ?? value.doubleValue ?? Number(value.intValue),
    ]),
  );
}

async function body(request: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of request) text += chunk;
  return text;
}

/**
 * A tiny OTLP/HTTP trace receiver on 127.0.0.1: it takes what an exporter
 * POSTs to `/v1/traces` as JSON (what `@opentelemetry/exporter-trace-otlp-http`
 * sends) and keeps every span, for a test to read.
 */
export class OtlpCollector {
  private readonly received: CollectedSpan[] = [];
  /** The path of every request, in order. */
  readonly paths: string[] = [];

  private constructor(private readonly server: Server) {}

  static async start(): Promise<OtlpCollector> {
    const server = createServer();
    const collector = new OtlpCollector(server);
    server.on('request', async (request, response) => {
      collector.paths.push(request.url ?? '');
      const payload = JSON.parse(await body(request)) as ExportRequest;
      for (const { resource, scopeSpans } of payload.resourceSpans) {
        for (const { scope, spans = [] } of scopeSpans) {
          for (const span of spans) {
            collector.received.push({
              name: span.name,
              kind: span.kind,
              traceId: span.traceId,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId || undefined,
              scope: scope?.name,
              attributes: plain(span.attributes),
              status: span.status,
              resource: plain(resource?.attributes),
            });
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return collector;
  }

  /** The base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Every span received so far, in the order they came. */
  spans(): CollectedSpan[] {
    return [...this.received];
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
