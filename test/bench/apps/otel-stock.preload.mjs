// The stock OTel setup, metrics only: MeterProvider + PrometheusExporter + HttpInstrumentation +
// ExpressInstrumentation. The AsyncLocalStorage context manager is what lets the express
// instrumentation hand `http.route` to the http instrumentation's duration histogram.
// Used as `node --import otel-stock.preload.mjs bare.mjs`, like our own preload.
import { register } from 'node:module';
import { context, metrics } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

// ESM apps: without this loader hook the ESM-imported express is never patched.
register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

const exporter = new PrometheusExporter({ host: '127.0.0.1', port: Number(process.env.BENCH_METRICS_PORT) });
const meterProvider = new MeterProvider({ readers: [exporter] });
metrics.setGlobalMeterProvider(meterProvider);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
registerInstrumentations({
  meterProvider,
  instrumentations: [new HttpInstrumentation(), new ExpressInstrumentation()],
});
