import { context, propagation, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/** The service name spans carry unless OTEL_SERVICE_NAME (or OTEL_RESOURCE_ATTRIBUTES) names another. */
const SERVICE_NAME = 'wbot-demo';

let provider: NodeTracerProvider | undefined;
let disableInstrumentations: (() => void) | undefined;

/**
 * Starts tracing when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: spans go in
 * batches to that OTLP/HTTP endpoint (its `/v1/traces`; the exporter reads the
 * other standard `OTEL_EXPORTER_OTLP_*` variables itself). It must run before
 * ioredis is loaded, for the instrumentation to patch it. Returns whether it
 * started.
 */
export function startTracing(): boolean {
  if (provider || !process.env.OTEL_EXPORTER_OTLP_ENDPOINT) return false;
  provider = new NodeTracerProvider({
    resource: defaultResource()
      .merge(resourceFromAttributes({ 'service.name': SERVICE_NAME }))
      .merge(detectResources({ detectors: [envDetector] })),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  // the global tracer provider, the W3C propagators and the AsyncLocalStorage context manager
  provider.register();
  disableInstrumentations = registerInstrumentations({
    tracerProvider: provider,
    // Redis command spans under the cache's, naming the command only: by default they would carry every argument
    // of a script call, messages and conversation ids included
    instrumentations: [new IORedisInstrumentation({ dbStatementSerializer: (command) => command })],
  });
  return true;
}

/** Exports the spans still buffered and stops tracing; nothing to do if it did not start. */
export async function stopTracing(): Promise<void> {
  const stopping = provider;
  if (!stopping) return;
  provider = undefined;
  disableInstrumentations?.();
  await stopping.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
}
