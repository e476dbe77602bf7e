import { AggregationTemporalityPreference, OTLPMetricExporterBase } from '@opentelemetry/exporter-metrics-otlp-http';
import { createOtlpHttpExportDelegate, httpAgentFactoryFromOptions } from '@opentelemetry/otlp-exporter-base/node-http';
import { JsonMetricsSerializer, MetricsExporterMetricsHelper, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import type { AggregationTemporality, InstrumentType, MetricData, PushMetricExporter, ResourceMetrics, ScopeMetrics } from '@opentelemetry/sdk-metrics';
import type { Logger } from '../log.js';
import type { OtlpSettings } from './settings.js';

/** The callback an export reports to (its ExportResult type is @opentelemetry/core's). */
type ResultCallback = Parameters<PushMetricExporter['export']>[1];
type ExportResult = Parameters<ResultCallback>[0];

/**
 * Data points per request. A request is encoded in one synchronous step, so a large collection
 * goes out as several requests, each a short block of the event loop; the first ones of an export
 * are smaller, because the encoder runs several times slower until V8 has compiled it (the first
 * 2000-point request of a process held the loop 40-60 ms, 25 times a warm one).
 */
export const BATCH_POINTS = { first: 125, most: 2000 } as const;

const CONTENT_TYPES = { 'http/protobuf': 'application/x-protobuf', 'http/json': 'application/json' } as const;

/** The OTLP exporter's own code for this component (its self-observability metrics, which stay off). */
const COMPONENT_TYPE = 'otlp_http_metric_exporter';

/**
 * OpenTelemetry's OTLP/HTTP metric exporter (the exporter class, its export delegate with the
 * specification's retries, and the protobuf or JSON serializer) configured from our settings
 * only: the stock exporter classes also read the OTEL_EXPORTER_OTLP_* variables themselves, and
 * would send headers from a value our settings refused. Cumulative temporality; at most one
 * request in flight, so a stalled receiver holds one payload, not a queue of them.
 */
export function otlpExporter(settings: OtlpSettings, log: Logger): PushMetricExporter {
  const serializer = settings.protocol === 'http/json' ? JsonMetricsSerializer : ProtobufMetricsSerializer;
  const headers = { ...settings.headers, 'Content-Type': CONTENT_TYPES[settings.protocol] };
  const delegate = createOtlpHttpExportDelegate(
    {
      url: settings.url,
      headers: async () => headers,
      timeoutMillis: settings.timeoutMillis,
      compression: settings.compression,
      concurrencyLimit: 1,
      agentFactory: httpAgentFactoryFromOptions({ keepAlive: true }),
    },
    serializer,
    COMPONENT_TYPE,
    MetricsExporterMetricsHelper,
    undefined,
  );
  const exporter = new OTLPMetricExporterBase(delegate, { temporalityPreference: AggregationTemporalityPreference.CUMULATIVE });
  return new BatchingExporter(exporter, failureReporter(settings, log));
}

/** 0: ExportResultCode.SUCCESS (@opentelemetry/core's, not loaded for a constant). */
const SUCCESS = 0;

/**
 * Sends each export as requests of at most BATCH_POINTS data points, one after the other (the
 * event loop runs between them while each is on the wire); the first failed request fails the
 * export, reported to `report`. Every export carries all cumulative values, so the next one
 * makes up for it.
 */
class BatchingExporter implements PushMetricExporter {
  constructor(
    private readonly exporter: PushMetricExporter,
    private readonly report: (error: unknown) => void,
  ) {}

  export(metrics: ResourceMetrics, resultCallback: ResultCallback): void {
    void this.exportAll(metrics).then(resultCallback);
  }

  private async exportAll(metrics: ResourceMetrics): Promise<ExportResult> {
    for (const batch of batches(metrics)) {
      // A turn first: the delegate frees its one request slot only after it has reported the last result.
      await new Promise((resolve) => setImmediate(resolve));
      const result = await new Promise<ExportResult>((resolve) => this.exporter.export(batch, resolve));
      if (result.code !== SUCCESS) {
        this.report(result.error);
        return result;
      }
    }
    return { code: SUCCESS };
  }

  forceFlush(): Promise<void> {
    return this.exporter.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.exporter.shutdown();
  }

  selectAggregationTemporality(instrumentType: InstrumentType): AggregationTemporality {
    return this.exporter.selectAggregationTemporality!(instrumentType);
  }
}

/** `metrics` cut into requests of at most BATCH_POINTS data points (a metric's points may span several). */
export function* batches(metrics: ResourceMetrics): Generator<ResourceMetrics> {
  let limit: number = BATCH_POINTS.first;
  let scopes: ScopeMetrics[] = [];
  let points = 0;
  const flush = (): ResourceMetrics => {
    const batch = { resource: metrics.resource, scopeMetrics: scopes };
    scopes = [];
    points = 0;
    limit = Math.min(limit * 2, BATCH_POINTS.most);
    return batch;
  };
  for (const { scope, metrics: all } of metrics.scopeMetrics) {
    let current: MetricData[] | undefined;
    for (const metric of all) {
      let offset = 0;
      do {
        const take = Math.min(limit - points, metric.dataPoints.length - offset);
        if (current === undefined) scopes.push({ scope, metrics: (current = []) });
        current.push({ ...metric, dataPoints: metric.dataPoints.slice(offset, offset + take) } as MetricData);
        offset += take;
        points += take;
        if (points === limit) {
          yield flush();
          current = undefined;
        }
      } while (offset < metric.dataPoints.length);
    }
  }
  if (scopes.length > 0) yield flush();
}

/**
 * One line per kind of failure, the first time it happens: an unreachable receiver, a request
 * timeout, an HTTP status, a receiver that kept asking to retry. The exporter retries what the
 * OTLP specification calls retryable (429, 502, 503, 504, network errors) with exponential
 * backoff and Retry-After within the timeout; every export sends all cumulative values again, so
 * a failed one loses nothing that the next successful one does not carry.
 */
export function failureReporter(settings: Pick<OtlpSettings, 'url' | 'timeoutMillis'>, log: Logger): (error: unknown) => void {
  const seen = new Set<string>();
  const target = withoutCredentials(settings.url);
  return (error) => {
    const kind = failureKind(error, settings.timeoutMillis);
    if (seen.has(kind)) return;
    seen.add(kind);
    log(`OTLP export to ${target} failed: ${kind}; the next exports go on, and further failures of this kind are not logged`);
  };
}

function failureKind(error: unknown, timeoutMillis: number): string {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string') return `the receiver is unreachable (${code})`;
  if (typeof code === 'number') return `HTTP ${code}`;
  if (message === 'Request timed out') return `no response within ${timeoutMillis} ms (OTEL_EXPORTER_OTLP_TIMEOUT)`;
  if (message === 'Export failed with retryable status') return `the receiver kept answering 429, 502, 503 or 504 until the timeout`;
  if (message === 'Concurrent export limit reached') return 'the previous export was still in flight';
  return typeof message === 'string' ? message : String(error);
}

function withoutCredentials(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.href;
}
