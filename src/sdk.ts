import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
  PeriodicExportingMetricReader,
  type MetricProducer,
  type PushMetricExporter,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { otelViews } from '../views/otel.js';
import type { Config } from './config.js';
import { resourceAttributesOf } from './otlp/resource.js';
import { EXPORT_DEFAULTS } from './otlp/settings.js';

export interface MeterSdk {
  meterProvider: MeterProvider;
  /** Collects what the SDK holds (a pull), for a scrape to write. */
  collect(): Promise<ResourceMetrics>;
}

/** The OTLP push: what exports, and the families it adds to the SDK's own metrics. */
export interface Push {
  readonly exporter: PushMetricExporter;
  readonly families: MetricProducer;
}

/** A cumulative pull reader: collection happens only when a scrape asks for it. */
class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** Without export settings: their defaults (no push, no OTEL_RESOURCE_ATTRIBUTES). */
type SdkConfig = Pick<Config, 'serviceName' | 'maxSeriesPerMetric'> & Partial<Pick<Config, 'export'>>;

/**
 * The OTel SDK side: a MeterProvider with the catalog's views, serving user metrics and OTel
 * instrumentations' instruments on the same endpoint. It is loaded off the startup path and fed
 * through the global stand-in (src/otel/lazy-sdk.ts). The pull reader's output is serialized by
 * the package's own writers (E6, E8, E11 need exact control of the text). With `push`, one
 * periodic reader exports the SDK's metrics and the families together.
 */
export function createMeterSdk(config: SdkConfig, push?: Push): MeterSdk {
  const reader = new PullReader({
    aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE,
    // E12: OTel's default of 2000 series per instrument is too low for per-view families.
    cardinalitySelector: () => config.maxSeriesPerMetric,
  });
  const readers: MetricReader[] = [reader];
  if (push !== undefined) {
    const { intervalMillis, exportTimeoutMillis } = config.export ?? EXPORT_DEFAULTS;
    readers.push(
      new PeriodicExportingMetricReader({
        exporter: push.exporter,
        metricProducers: [push.families],
        exportIntervalMillis: intervalMillis,
        exportTimeoutMillis: exportTimeoutMillis,
        cardinalityLimits: { default: config.maxSeriesPerMetric },
      }),
    );
  }
  const resource = defaultResource().merge(resourceFromAttributes(resourceAttributesOf(config.serviceName, config.export ?? EXPORT_DEFAULTS)));
  const meterProvider = new MeterProvider({ resource, readers, views: otelViews() });
  return {
    meterProvider,
    collect: async () => (await reader.collect()).resourceMetrics,
  };
}
