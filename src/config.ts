import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_LATENCY_BUCKETS } from '../views/index.js';
import { logLine, type Logger } from './log.js';

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
}

type Env = Record<string, string | undefined>;

/** A parser returns the parsed value or throws `Invalid` with the reason shown to the user. */
class Invalid extends Error {}
type Parser<T> = (raw: string) => T;

const BOOLEANS: Record<string, boolean> = { true: true, '1': true, yes: true, on: true, false: false, '0': false, no: false, off: false };

const bool: Parser<boolean> = (raw) => {
  const v = BOOLEANS[raw.trim().toLowerCase()];
  if (v === undefined) throw new Invalid('expected true/false/1/0/yes/no/on/off');
  return v;
};

/**
 * The one number grammar of every numeric setting: plain decimal, as people write numbers.
 * `Number()` alone would also take hex, binary and octal literals, `Infinity` and blanks.
 */
const DECIMAL_INTEGER = /^\d+$/;
const DECIMAL_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

const integer = (min: number, max = Number.MAX_SAFE_INTEGER): Parser<number> => (raw) => {
  const v = raw.trim();
  if (!DECIMAL_INTEGER.test(v)) throw new Invalid('not an integer');
  const n = Number(v);
  if (n < min || n > max) throw new Invalid(`out of range ${min}-${max}`);
  return n;
};

const port = integer(1, 65535);

const portOrOff: Parser<number | undefined> = (raw) => (raw.trim().toLowerCase() === 'off' ? undefined : port(raw));

const namespace: Parser<string> = (raw) => {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(raw)) throw new Invalid('must match [A-Za-z_][A-Za-z0-9_]*');
  return raw;
};

/** `+Inf` is always the last bucket; a list may say so itself, but only at its end. */
const INF = /^\+?inf$/i;

const buckets: Parser<readonly number[]> = (raw) => {
  const parts = raw.split(',').map((s) => s.trim());
  if (parts.length > 0 && INF.test(parts[parts.length - 1]!)) parts.pop();
  if (parts.length === 0 || parts.some((p) => p === '')) throw new Invalid('empty entry');
  const values = parts.map((p) => {
    if (INF.test(p)) throw new Invalid(`${p} only as the last entry`);
    if (!DECIMAL_NUMBER.test(p)) throw new Invalid(`not a decimal number: ${p}`);
    const n = Number(p);
    if (!Number.isFinite(n)) throw new Invalid(`not a finite number: ${p}`);
    return n;
  });
  for (let i = 1; i < values.length; i++) if (values[i]! <= values[i - 1]!) throw new Invalid('not increasing');
  return Object.freeze(values);
};

const range: Parser<readonly [number, number]> = (raw) => {
  const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(raw);
  if (!m) throw new Invalid('expected A-B');
  const a = port(m[1]!);
  const b = port(m[2]!);
  if (b < a) throw new Invalid('end before start');
  return [a, b];
};

const address: Parser<string> = (raw) => {
  const v = raw.trim();
  if (v === '' || /\s/.test(v)) throw new Invalid('not a host or address');
  return v;
};

const oneOf = <T extends string>(...values: T[]): Parser<T> => (raw) => {
  const v = raw.trim().toLowerCase() as T;
  if (!values.includes(v)) throw new Invalid(`expected one of ${values.join(', ')}`);
  return v;
};

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
  function read<T>(names: string | string[], parse: Parser<T>, fallback: T): T {
    for (const name of Array.isArray(names) ? names : [names]) {
      const raw = env[name];
      if (raw === undefined || raw === '') continue;
      try {
        return parse(raw);
      } catch (e) {
        if (!(e instanceof Invalid)) throw e;
        log(`invalid ${name}="${raw}" (${e.message}); using default`);
        return fallback;
      }
    }
    return fallback;
  }

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
  };
}
