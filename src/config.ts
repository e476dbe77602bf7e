import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_LATENCY_BUCKETS } from '../views/index.js';
import { readEndpointSettings, type EndpointSettings } from './exposition/endpoint-settings.js';
import { logLine, type Logger } from './log.js';
import { readExportSettings, type ExportSettings } from './otlp/settings.js';
import { address, bool, buckets, integer, Invalid, namespace, oneOf, port, portOrOff, range, settingReader, type Env, type Parser } from './settings.js';

/** Which hook feeds the HTTP recorder (both give identical metrics). */
export type HttpPath = 'fast' | 'otel';

export interface DbAliasRule {
  alias: string;
  host?: string;
  port?: number;
  database?: string;
}

export interface Config {
  sdkDisabled: boolean;
  namespace: string;
  latencyBuckets: readonly number[];
  /** Dedicated metrics server port; `undefined` = no dedicated server. */
  port: number | undefined;
  portRange: readonly [number, number] | undefined;
  /** Bind address; `undefined` = all interfaces. */
  address: string | undefined;
  trustProxy: boolean;
  dbAliases: readonly DbAliasRule[];
  dbErrorType: 'pep249' | 'detailed';
  maxSeriesPerMetric: number;
  otelInfo: boolean;
  serviceName: string | undefined;
  httpPath: HttpPath;
  /** Register import-in-the-middle's ESM loader and start every instrumentation at once (src/otel/esm-hook.ts). */
  esmHook: boolean;
  /** Expose the Node.js runtime families (prom-client's default metrics). */
  runtimeMetrics: boolean;
  /** Count bulk writes of registered models by affected rows (metrics.md section 6). */
  exportModelBulk: boolean;
  /** Read migration sources into the two migration gauges (metrics.md section 7). */
  exportMigrations: boolean;
  /** Re-read every migration source this often; 0 = only after runs through an instrumented tool. */
  migrationsRefreshSeconds: number;
  /** Multi-process mode's state directory (absolute); `undefined` = this process alone. */
  multiprocDir: string | undefined;
  /** Protection of the metrics endpoints. */
  endpoint: EndpointSettings;
  /** The outputs (OTEL_METRICS_EXPORTER) and the OTLP push. */
  export: ExportSettings;
}

/** A directory that exists and this process may create files in, made absolute (the app may change its working directory). */
const writableDirectory: Parser<string> = (raw) => {
  const dir = resolve(raw.trim());
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch {
    throw new Invalid('no such directory');
  }
  if (!isDirectory) throw new Invalid('not a directory');
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    throw new Invalid('not writable');
  }
  return dir;
};

/** One `alias=host[:port][/database]` entry; any part of the target may be omitted (`replica=db2`, `audit=/audit`). */
const dbAlias: Parser<DbAliasRule> = (entry) => {
  const m = /^([A-Za-z0-9_.-]+)=([^:/\s]*)(?::(\d+))?(?:\/([^\s/]+))?$/.exec(entry);
  if (!m || (!m[2] && !m[3] && !m[4])) throw new Invalid('expected alias=host[:port][/database]');
  const rule: DbAliasRule = { alias: m[1]! };
  if (m[2]) rule.host = m[2];
  if (m[3]) rule.port = port(m[3]);
  if (m[4]) rule.database = m[4];
  return rule;
};

/** Comma-separated entries. An invalid entry is reported and skipped, not the whole list. */
function dbAliases(raw: string, log: Logger): DbAliasRule[] {
  const rules: DbAliasRule[] = [];
  for (const entry of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    try {
      rules.push(dbAlias(entry));
    } catch (e) {
      if (!(e instanceof Invalid)) throw e;
      log(`invalid PROMETHEUS_DB_ALIASES entry "${entry}" (${e.message}); skipped`);
    }
  }
  return rules;
}

/** Reads the environment once. Never throws: each bad value is one line, then its default. */
export function readConfig(env: Env = process.env, log: Logger = logLine): Config {
  const read = settingReader(env, log);

  const tracing = (env.OTEL_TRACES_EXPORTER ?? 'none').trim().toLowerCase();
  const httpMode = read('PROMETHEUS_HTTP_INSTRUMENTATION', oneOf('auto', 'fast', 'otel'), 'auto');

  return {
    sdkDisabled: read('OTEL_SDK_DISABLED', bool, false),
    namespace: read('PROMETHEUS_METRIC_NAMESPACE', namespace, ''),
    latencyBuckets: read('PROMETHEUS_LATENCY_BUCKETS', buckets, DEFAULT_LATENCY_BUCKETS),
    port: read(['PROMETHEUS_METRICS_EXPORT_PORT', 'OTEL_EXPORTER_PROMETHEUS_PORT'], portOrOff, 9464),
    portRange: read('PROMETHEUS_METRICS_EXPORT_PORT_RANGE', range, undefined),
    address: read(['PROMETHEUS_METRICS_EXPORT_ADDRESS', 'OTEL_EXPORTER_PROMETHEUS_HOST'], address, undefined),
    trustProxy: read('PROMETHEUS_TRUST_PROXY', bool, false),
    dbAliases: dbAliases(env.PROMETHEUS_DB_ALIASES ?? '', log),
    dbErrorType: read('PROMETHEUS_DB_ERROR_TYPE', oneOf('pep249', 'detailed'), 'pep249'),
    maxSeriesPerMetric: read('PROMETHEUS_MAX_SERIES_PER_METRIC', integer(1), 10000),
    otelInfo: read('PROMETHEUS_OTEL_INFO', bool, false),
    serviceName: env.OTEL_SERVICE_NAME?.trim() || undefined,
    // The instrumentation-http path makes spans (through a TracerProvider the app registers); pick it when the user asked for traces.
    httpPath: httpMode === 'auto' ? (tracing !== 'none' && tracing !== '' ? 'otel' : 'fast') : httpMode,
    esmHook: read('PROMETHEUS_ESM_HOOK', bool, false),
    runtimeMetrics: read('PROMETHEUS_RUNTIME_METRICS', bool, true),
    exportModelBulk: read('PROMETHEUS_EXPORT_MODEL_BULK', bool, false),
    exportMigrations: read('PROMETHEUS_EXPORT_MIGRATIONS', bool, false),
    // A day at most: a longer period is a mistake, and the timer must fit setInterval's 32-bit delay.
    migrationsRefreshSeconds: read('PROMETHEUS_MIGRATIONS_REFRESH_SECONDS', integer(0, 86_400), 0),
    multiprocDir: read('PROMETHEUS_MULTIPROC_DIR', writableDirectory, undefined),
    endpoint: readEndpointSettings(env, log),
    export: readExportSettings(read, env, log),
  };
}
