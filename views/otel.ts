import { AggregationType, type ViewOptions } from '@opentelemetry/sdk-metrics';

/**
 * Views over instruments that OTel instrumentations create. They rename, bucket or drop them so
 * that each django family is exposed by exactly one instrument (E9).
 */
export function otelViews(): ViewOptions[] {
  return [
    // instrumentation-http's server histogram measures what the HTTP families already expose.
    { instrumentName: 'http.server.request.duration', aggregation: { type: AggregationType.DROP } },
    // instrumentation-pg's (and any DB client's) operation histogram, when the app enables it for
    // spans: django_db_query_duration_seconds is recorded by the package's own hooks, which also
    // know the alias set by setDbAlias (this histogram's attributes cannot tell pools apart).
    { instrumentName: 'db.client.operation.duration', aggregation: { type: AggregationType.DROP } },
  ];
}
