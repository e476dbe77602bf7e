import type { ContextManager, Span } from '@opentelemetry/api';
import { safe } from '../contain.js';
import type { ExemplarTrace } from '../store/snapshot.js';

/**
 * Where every copy of `@opentelemetry/api` 1.x keeps its globals, the context manager an app
 * registers among them. Read directly: loading the API would cost every app startup (~45
 * modules), and most requests of most apps have no context manager to ask.
 */
const API_GLOBALS = Symbol.for('opentelemetry.js.api.1');
/** The key under which every API copy keeps a context's span (`trace.setSpan`). */
const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');
/** The W3C trace-flags bit of a sampled trace (`TraceFlags.SAMPLED`). */
const SAMPLED = 0x01;

type Globals = { context?: ContextManager };
type Holder = { [API_GLOBALS]?: Globals };

/**
 * The globals object, once there: every API copy (and the preload, registering its MeterProvider)
 * creates it only if absent and never replaces it, so it is looked up on the global object until
 * found, then kept.
 */
let globals: Globals | undefined;

/**
 * The trace a request's measurements point to, read when the response completes: the span active
 * then, if it is sampled. That is the span in whose context the app ended the response, because
 * Node emits `finish` and `close` from the write the app's `res.end()` started (and
 * instrumentation-http binds the response's listeners to its server span's context): the server
 * span of instrumentation-http (the otel path, or the app's own), or a span the app's handler made
 * active. Without a context manager nothing is active, and a request costs a property read.
 */
export function sampledTrace(): ExemplarTrace | undefined {
  globals ??= (globalThis as Holder)[API_GLOBALS];
  const manager = globals?.context;
  return manager === undefined ? undefined : activeSampledTrace(manager);
}

/** Contained on its own: a failing context manager (the app's) costs the exemplar, never the measurement. */
const activeSampledTrace = safe('exemplar trace context', (manager: ContextManager): ExemplarTrace | undefined => {
  const span = manager.active().getValue(SPAN_KEY) as Span | undefined;
  if (span === undefined) return undefined;
  const { traceId, spanId, traceFlags } = span.spanContext();
  if ((traceFlags & SAMPLED) === 0) return undefined;
  // 8 + 32 + 7 + 16 = 63 characters: within OpenMetrics' 128 for an exemplar's label set.
  return { labels: { trace_id: traceId, span_id: spanId }, timestamp: Date.now() / 1000 };
});
