import { AggregationType, type ViewOptions } from '@opentelemetry/sdk-metrics';

/**
 * Views over instruments that OTel instrumentations create. They rename, bucket or drop them so
 * that each django family is exposed by exactly one instrument (E9).
 */
export function otelViews(): ViewOptions[] {
  return [
    // instrumentation-http's server histogram measures what the HTTP families already expose.
    { instrumentName: 'http.server.request.duration', aggregation: { type: AggregationType.DROP } },
  ];
}
