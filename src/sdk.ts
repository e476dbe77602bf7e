import { metrics } from '@opentelemetry/api';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { otelViews } from '../views/otel.js';
import type { Config } from './config.js';
import type { Logger } from './log.js';

export interface MeterSdk {
  meterProvider: MeterProvider;
  /** Pull reader; its `collect()` feeds each scrape. */
  reader: MetricReader;
}

/** A cumulative pull reader: collection happens only when a scrape asks for it. */
class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/**
 * The OTel side: a MeterProvider with the catalog's views, registered globally so instruments from
 * `metrics.getMeter()` and OTel instrumentations are served on the same endpoint. The exporter is
 * read by a pull reader and serialized by the package itself (E6, E8, E11 need exact control of the text).
 */
export function createMeterSdk(config: Pick<Config, 'serviceName' | 'maxSeriesPerMetric'>, log: Logger): MeterSdk {
  const reader = new PullReader({
    aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE,
    // E12: OTel's default of 2000 series per instrument is too low for per-view families.
    cardinalitySelector: () => config.maxSeriesPerMetric,
  });
  const resource = defaultResource().merge(
    resourceFromAttributes(config.serviceName ? { 'service.name': config.serviceName } : {}),
  );
  const meterProvider = new MeterProvider({ resource, readers: [reader], views: otelViews() });
  if (!metrics.setGlobalMeterProvider(meterProvider)) {
    log('another global MeterProvider is already registered; metrics.getMeter() instruments will not be served (use getMeter() from otel-django-metrics)');
  }
  return { meterProvider, reader };
}
