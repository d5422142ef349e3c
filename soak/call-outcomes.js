'use strict';
// How each call ended, as the library itself says it (docs/tracing.md): every cache call is a span whose
// `wbot.cache.result` is hit, partial, miss, ok, skipped or fallback. A read that gave null is a miss or a
// fallback, and a write that gave false was skipped or fell back: only the span tells them apart, and the models
// and the recovery times need to know. The worker registers an SDK whose one processor hands each span to the
// call it belongs to, through the context the call runs in, and exports nothing.

const { context, createContextKey, trace } = require('@opentelemetry/api');
const { AsyncLocalStorageContextManager } = require('@opentelemetry/context-async-hooks');
const { BasicTracerProvider } = require('@opentelemetry/sdk-trace-base');

const CALL_SPANS = createContextKey('wbot soak call spans');
const RESULT = 'wbot.cache.result';

class CallSpans {
  onStart(span, parentContext) {
    parentContext.getValue(CALL_SPANS)?.push(span);
  }

  onEnd() {}

  forceFlush() {
    return Promise.resolve();
  }

  shutdown() {
    return Promise.resolve();
  }
}

let provider;

/** Registers the SDK, once per process. */
function traceCalls() {
  if (provider) return;
  provider = new BasicTracerProvider({ spanProcessors: [new CallSpans()] });
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}

/**
 * Runs `call` and resolves with its value and results: the result of its own span first, then those of the
 * spans nested in it (the write of `getOrComputeEmbeddings`' computed vectors). Rejects as `call` does.
 */
async function withOutcome(call) {
  const spans = [];
  const value = await context.with(context.active().setValue(CALL_SPANS, spans), call);
  return { value, results: spans.map((span) => span.attributes[RESULT]) };
}

module.exports = { traceCalls, withOutcome };
