import { randomUUID } from 'node:crypto';
import type { ExportSettings } from './settings.js';

/**
 * This process's `service.instance.id`: one per process start. Pushes from several processes of
 * one service would otherwise be one series each, overwriting each other (a Collector turns it
 * into the `instance` label).
 */
const PROCESS_INSTANCE_ID = randomUUID();

/**
 * The resource attributes the SDK's resource adds to its defaults: a per-process
 * `service.instance.id` unless OTEL_RESOURCE_ATTRIBUTES names one, OTEL_RESOURCE_ATTRIBUTES, and
 * OTEL_SERVICE_NAME over a `service.name` given there (OpenTelemetry's order of precedence).
 */
export function resourceAttributesOf(serviceName: string | undefined, settings: Pick<ExportSettings, 'resourceAttributes'>): Record<string, string> {
  return {
    'service.instance.id': PROCESS_INSTANCE_ID,
    ...settings.resourceAttributes,
    ...(serviceName ? { 'service.name': serviceName } : {}),
  };
}
