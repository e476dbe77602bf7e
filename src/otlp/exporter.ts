import { AggregationTemporalityPreference, OTLPMetricExporterBase } from '@opentelemetry/exporter-metrics-otlp-http';
import { createOtlpHttpExportDelegate, httpAgentFactoryFromOptions } from '@opentelemetry/otlp-exporter-base/node-http';
import { JsonMetricsSerializer, MetricsExporterMetricsHelper, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import type { AggregationTemporality, InstrumentType, PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import type { Logger } from '../log.js';
import type { OtlpSettings } from './settings.js';

/** The callback an export reports to (its ExportResult type is @opentelemetry/core's). */
type ResultCallback = Parameters<PushMetricExporter['export']>[1];

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
  return new ReportingExporter(exporter, failureReporter(settings, log));
}

/** Passes every export through, reporting each failed one to `report`. */
class ReportingExporter implements PushMetricExporter {
  constructor(
    private readonly exporter: PushMetricExporter,
    private readonly report: (error: unknown) => void,
  ) {}

  export(metrics: ResourceMetrics, resultCallback: ResultCallback): void {
    this.exporter.export(metrics, (result) => {
      // 0: ExportResultCode.SUCCESS (@opentelemetry/core, which is not loaded for a constant).
      if (result.code !== 0) this.report(result.error);
      resultCallback(result);
    });
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
