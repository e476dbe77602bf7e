import type { Logger } from '../log.js';
import { integer, Invalid, oneOf, type Env, type Parser, type SettingReader } from '../settings.js';

export type OtlpProtocol = 'http/protobuf' | 'http/json';

/** Where and how the OTLP push goes (the OTEL_EXPORTER_OTLP_* settings, metrics signal). */
export interface OtlpSettings {
  /** The full URL the metrics are POSTed to. */
  readonly url: string;
  readonly protocol: OtlpProtocol;
  /** Sent with every export request (values are secrets: never printed). */
  readonly headers: Readonly<Record<string, string>>;
  /** One request's timeout, retries included (ms). */
  readonly timeoutMillis: number;
  readonly compression: 'gzip' | 'none';
}

/** Which outputs carry the families (OTEL_METRICS_EXPORTER) and how OTLP pushes them. */
export interface ExportSettings {
  /** The Prometheus endpoint (the dedicated server, where a port is configured). */
  readonly prometheus: boolean;
  /** The periodic OTLP push; `undefined` = none. */
  readonly otlp: OtlpSettings | undefined;
  /** OTEL_METRIC_EXPORT_INTERVAL (ms). */
  readonly intervalMillis: number;
  /** OTEL_METRIC_EXPORT_TIMEOUT (ms), at most the interval. */
  readonly exportTimeoutMillis: number;
  /** OTEL_RESOURCE_ATTRIBUTES, decoded. */
  readonly resourceAttributes: Readonly<Record<string, string>>;
}

const DEFAULT_INTERVAL = 60_000;
const DEFAULT_EXPORT_TIMEOUT = 30_000;
const DEFAULT_OTLP_TIMEOUT = 10_000;
const DEFAULT_BASE = 'http://localhost:4318';
const METRICS_PATH = 'v1/metrics';

/** With none of its variables set. */
export const EXPORT_DEFAULTS: ExportSettings = Object.freeze({
  prometheus: true,
  otlp: undefined,
  intervalMillis: DEFAULT_INTERVAL,
  exportTimeoutMillis: DEFAULT_EXPORT_TIMEOUT,
  resourceAttributes: Object.freeze({}),
});

type Output = 'prometheus' | 'otlp';

/**
 * OTEL_METRICS_EXPORTER: a comma-separated list of `prometheus` and `otlp`, or `none` alone.
 * `console` is a value OpenTelemetry defines that this package does not offer.
 */
export const outputs: Parser<ReadonlySet<Output>> = (raw) => {
  const names = [...new Set(raw.split(',').map((s) => s.trim().toLowerCase()))];
  if (names.includes('none')) {
    if (names.length > 1) throw new Invalid('none cannot be combined with another exporter');
    return new Set();
  }
  for (const name of names) {
    if (name !== 'prometheus' && name !== 'otlp') throw new Invalid(`${name === '' ? 'empty entry' : `unsupported exporter ${name}`}; expected prometheus, otlp, both, or none`);
  }
  return new Set(names as Output[]);
};

/** Milliseconds: setInterval and setTimeout take at most a signed 32-bit delay. */
const millis = integer(1, 2 ** 31 - 1);

const protocol: Parser<OtlpProtocol> = (raw) => {
  if (raw.trim().toLowerCase() === 'grpc') throw new Invalid('grpc is not supported (it would need @grpc/grpc-js); an OTLP/HTTP receiver listens on port 4318');
  return oneOf<OtlpProtocol>('http/protobuf', 'http/json')(raw);
};

const httpUrl: Parser<URL> = (raw) => {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new Invalid('not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Invalid('expected an http:// or https:// URL');
  return url;
};

/** The signal-specific endpoint: used as it is. */
const metricsEndpoint: Parser<string> = (raw) => httpUrl(raw).href;

/** The base endpoint: `v1/metrics` is appended to its path, as OpenTelemetry's exporter configuration says. */
const baseEndpoint: Parser<string> = (raw) => {
  const url = httpUrl(raw);
  url.pathname = `${url.pathname.replace(/\/$/, '')}/${METRICS_PATH}`;
  return url.href;
};

/**
 * `key=value` pairs, comma-separated, keys and values percent-decoded (the W3C Baggage form that
 * OTEL_EXPORTER_OTLP_HEADERS and OTEL_RESOURCE_ATTRIBUTES use; `;` properties are not part of
 * either). The whole value is refused on the first bad entry, as OpenTelemetry's resource
 * specification asks: half a list is easy to miss.
 */
export const keyValues: Parser<Readonly<Record<string, string>>> = (raw) => {
  const pairs: Record<string, string> = {};
  // Empty entries (a trailing comma) are no entries.
  const entries = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
  entries.forEach((entry, i) => {
    const at = entry.indexOf('=');
    const where = `entry ${i + 1} of ${entries.length}`;
    if (at <= 0) throw new Invalid(`${where}: expected key=value`);
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(entry.slice(0, at).trim());
      value = decodeURIComponent(entry.slice(at + 1).trim());
    } catch {
      throw new Invalid(`${where}: bad percent-encoding`);
    }
    if (key === '') throw new Invalid(`${where}: empty key`);
    pairs[key] = value;
  });
  return Object.freeze(pairs);
};

/** An HTTP header name (RFC 9110 token) and a value without control characters, as Node sends them. */
const headers: Parser<Readonly<Record<string, string>>> = (raw) => {
  const pairs = keyValues(raw);
  for (const [name, value] of Object.entries(pairs)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new Invalid('a header name is not an HTTP token');
    if (/[\0-\x08\x0a-\x1f\x7f]/.test(value)) throw new Invalid('a header value has a control character');
  }
  return pairs;
};

/**
 * OTLP settings exist for every signal and for each alone (`..._METRICS_...`); the metrics one
 * wins, then the general one.
 */
const both = (name: string) => [`OTEL_EXPORTER_OTLP_METRICS_${name}`, `OTEL_EXPORTER_OTLP_${name}`];

export function readExportSettings(read: SettingReader, env: Env, log: Logger): ExportSettings {
  const enabled = read('OTEL_METRICS_EXPORTER', outputs, new Set<Output>(['prometheus']));
  const prometheus = enabled.has('prometheus');
  if (!prometheus && (env.PROMETHEUS_METRICS_EXPORT_PORT || env.PROMETHEUS_METRICS_EXPORT_PORT_RANGE)) {
    log(`OTEL_METRICS_EXPORTER=${env.OTEL_METRICS_EXPORTER?.trim()} serves no Prometheus endpoint: the metrics port settings are not used (prometheus,otlp serves both)`);
  }
  const intervalMillis = read('OTEL_METRIC_EXPORT_INTERVAL', millis, DEFAULT_INTERVAL);
  const timeout = read('OTEL_METRIC_EXPORT_TIMEOUT', millis, DEFAULT_EXPORT_TIMEOUT);
  // An export that may last longer than the interval would overlap the next one: the SDK's reader refuses that.
  if (timeout > intervalMillis && env.OTEL_METRIC_EXPORT_TIMEOUT) {
    log(`OTEL_METRIC_EXPORT_TIMEOUT=${timeout} is longer than the export interval (${intervalMillis} ms); using ${intervalMillis}`);
  }
  return {
    prometheus,
    otlp: enabled.has('otlp') ? readOtlp(read, env, log) : undefined,
    intervalMillis,
    exportTimeoutMillis: Math.min(timeout, intervalMillis),
    resourceAttributes: read('OTEL_RESOURCE_ATTRIBUTES', keyValues, EXPORT_DEFAULTS.resourceAttributes),
  };
}

function readOtlp(read: SettingReader, env: Env, log: Logger): OtlpSettings {
  const url = read('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', metricsEndpoint, undefined) ?? read('OTEL_EXPORTER_OTLP_ENDPOINT', baseEndpoint, `${DEFAULT_BASE}/${METRICS_PATH}`);
  return {
    url,
    protocol: read(both('PROTOCOL'), protocol, 'http/protobuf'),
    // Both lists apply, the metrics one winning per header.
    headers: Object.freeze({ ...readHeaders(env, 'OTEL_EXPORTER_OTLP_HEADERS', log), ...readHeaders(env, 'OTEL_EXPORTER_OTLP_METRICS_HEADERS', log) }),
    timeoutMillis: read(both('TIMEOUT'), millis, DEFAULT_OTLP_TIMEOUT),
    compression: read(both('COMPRESSION'), oneOf('gzip', 'none'), 'none'),
  };
}

/** Header values are credentials more often than not: the line names the variable and the problem, never the value. */
function readHeaders(env: Env, name: string, log: Logger): Readonly<Record<string, string>> {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return {};
  try {
    return headers(raw);
  } catch (e) {
    if (!(e instanceof Invalid)) throw e;
    log(`invalid ${name} (${e.message}); sending none of its headers`);
    return {};
  }
}
