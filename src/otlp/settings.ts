import type { Logger } from '../log.js';
import type { Env, SettingReader } from '../settings.js';

/** Which outputs carry the families (OTEL_METRICS_EXPORTER) and how OTLP pushes them. */
export interface ExportSettings {}

/** With none of its variables set. */
export const EXPORT_DEFAULTS: ExportSettings = Object.freeze({});

export function readExportSettings(_read: SettingReader, _env: Env, _log: Logger): ExportSettings {
  return EXPORT_DEFAULTS;
}
