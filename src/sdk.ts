import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { otelViews } from '../views/otel.js';
import type { Config } from './config.js';

export interface MeterSdk {
  meterProvider: MeterProvider;
  /** Collects what the SDK holds (a pull), for a scrape to write. */
  collect(): Promise<ResourceMetrics>;
}

/** A cumulative pull reader: collection happens only when a scrape asks for it. */
class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/**
 * The OTel SDK side: a MeterProvider with the catalog's views, serving user metrics and OTel
 * instrumentations' instruments on the same endpoint. It is loaded off the startup path and fed
 * through the global stand-in (src/otel/lazy-sdk.ts). The pull reader's output is serialized by
 * the package's own writers (E6, E8, E11 need exact control of the text).
 */
export function createMeterSdk(config: Pick<Config, 'serviceName' | 'maxSeriesPerMetric'>): MeterSdk {
  const reader = new PullReader({
    aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE,
    // E12: OTel's default of 2000 series per instrument is too low for per-view families.
    cardinalitySelector: () => config.maxSeriesPerMetric,
  });
  const resource = defaultResource().merge(
    resourceFromAttributes(config.serviceName ? { 'service.name': config.serviceName } : {}),
  );
  const meterProvider = new MeterProvider({ resource, readers: [reader], views: otelViews() });
  return {
    meterProvider,
    collect: async () => (await reader.collect()).resourceMetrics,
  };
}
