// The bench's express app (apps/app.mjs) in an app that traces: a context manager
// (AsyncLocalStorage) and a TracerProvider sampling every span, as an app with tracing set up has.
// A request whose query has `trace=sampled` is answered inside a span of its own, so the preload
// gives its measurements that span as their exemplar; any other request runs under no span.
// Spawned by openmetrics-scrape.mjs with the preload, as apps/bare.mjs is.
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { AlwaysOnSampler, BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { createApp, serve } from '../apps/app.mjs';

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(new BasicTracerProvider({ sampler: new AlwaysOnSampler() }));
const tracer = trace.getTracer('bench-traced-app');

serve(createApp({
  install(app) {
    app.use((req, res, next) => {
      if (req.query.trace !== 'sampled') return next();
      tracer.startActiveSpan('bench request', (span) => {
        res.once('close', () => span.end());
        next();
      });
    });
  },
}));
