/** The public API of otel-django-metrics (metrics.md section 10). */
import type { Meter } from '@opentelemetry/api';
import type { CollectionResult, MetricProducer } from '@opentelemetry/sdk-metrics';
import { metrics } from '@opentelemetry/api';
import type { IncomingMessage } from 'node:http';
import { DEFAULT_LATENCY_BUCKETS } from '../views/index.js';
import { contain } from './contain.js';
import { UNNAMED_VIEW } from './http/labels.js';
import { stateOf } from './http/request-state.js';
import { onceLogger } from './log.js';
import { configureWith } from './extension/configure.js';
import type { ConfigureOptions } from './extension/options.js';
import type { FamilyConverter } from './otlp/producer.js';
import { currentDistribution } from './state.js';

export { setCacheBackend, trackCache, type TrackableCache } from './cache/public.js';
export { readConfig, type Config } from './config.js';
export type { ConfigureOptions, LabelContext, LabelMetric, MetricInfo, ViewName, ViewNameContext } from './extension/options.js';
export { executeMany, setDbAlias } from './db/public.js';
export { trackMigrations, type MigrationCount, type TrackMigrationsOptions } from './migrations/public.js';
export type { MigrationHandle } from './migrations/tracker.js';
export { ExportModelOperations, exportModelOperations, withModelOperations } from './models/public.js';
export { fastifyMetricsHandler, koaMetricsHandler, metricsHandler, type MetricsHandlerOptions } from './exposition/handler.js';
export { CONTENT_TYPE } from './exposition/format.js';
export { start, type StartOptions } from './start.js';
export type { Distribution } from './state.js';

/**
 * The app's extensions of the django families: `labelMetric` and `extraLabels` (labels of its own
 * on the routing-level HTTP families), `viewName` (its own view names) and `buckets` (per latency
 * histogram). Call it before serving traffic: a family that already has samples keeps its labels
 * and buckets (one line says so). Each refused option is one line; the rest applies. Later calls
 * replace the hooks they pass and the families they name. It never throws.
 */
export function configure(options: ConfigureOptions): void {
  contain('configure', () => configureWith(options, currentDistribution()));
}

/**
 * Names the request's view from handler code. It counts as a route match; the last name before
 * the response completes wins, in every per-view family. A string is used as given, a RegExp as
 * `String(re)` (as express prints RegExp routes); any other value is ignored with one warning.
 * It never throws.
 */
export function setViewName(req: IncomingMessage, name: string | RegExp): void {
  contain('setViewName', () => {
    const view = viewNameOf(name);
    if (view === undefined) warnOnce(`setViewName ${typeof name}`, `setViewName: a view name must be a string or a RegExp, not ${describeValue(name)}; ignored`);
    else currentDistribution()?.http.nameView(req, view);
  });
}

/**
 * The request's view as the per-view families see it at this moment: the last route match or
 * `setViewName`, else `<unnamed view>` (also for a request the package does not track). For the
 * app's own per-view metrics, read it when the response completes: the view is final then.
 * It never throws.
 */
export function viewOf(req: IncomingMessage): string {
  return contain('viewOf', () => (req ? stateOf(req)?.view : undefined)) ?? UNNAMED_VIEW;
}

const warnOnce = onceLogger();

function viewNameOf(name: unknown): string | undefined {
  if (typeof name === 'string') return name;
  return name instanceof RegExp ? String(name) : undefined;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** A meter whose instruments are served on the same endpoint, un-prefixed. */
export function getMeter(name = 'otel-django-metrics-user', version?: string): Meter {
  return metrics.getMeter(name, version);
}

/** `name` with the configured PROMETHEUS_METRIC_NAMESPACE prefix, as the django families get it. */
export function namespaced(name: string): string {
  const ns = currentDistribution()?.config.namespace ?? '';
  return ns ? `${ns}_${name}` : name;
}

/** The configured latency bucket bounds, for `advice.explicitBucketBoundaries` of user histograms. */
export function latencyBuckets(): number[] {
  return [...(currentDistribution()?.config.latencyBuckets ?? DEFAULT_LATENCY_BUCKETS)];
}

/**
 * The django families (and the runtime families) as a MetricProducer, for an app that runs its
 * own OpenTelemetry SDK: `new PeriodicExportingMetricReader({ exporter, metricProducers:
 * [djangoMetricsProducer()] })` or `new PrometheusExporter({ metricProducers: [...] })`. They are
 * exported under the reader's resource, named as the Prometheus endpoint names them. From then
 * on the preload's own OTLP push leaves them out, so they are exported once. Empty while the
 * distribution is not running.
 */
export function djangoMetricsProducer(): MetricProducer {
  let converter: FamilyConverter | undefined;
  const running = () => {
    const distribution = currentDistribution();
    distribution?.producerAttached();
    return distribution;
  };
  running();
  return {
    async collect(): Promise<CollectionResult> {
      const distribution = running();
      // Loaded on the first collection: the SDK is loaded by then, as the reader is the SDK's.
      const { familyProducer, FamilyConverter } = await import('./otlp/producer.js');
      if (distribution === undefined) return familyProducer(() => undefined, new FamilyConverter(0)).collect();
      converter ??= new FamilyConverter(distribution.startTime);
      return familyProducer(distribution.pushedFamilies, converter).collect();
    },
  };
}