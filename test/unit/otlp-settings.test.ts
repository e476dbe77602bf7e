import { describe, expect, test } from 'vitest';
import { EXPORT_DEFAULTS, readExportSettings, type ExportSettings, type OtlpSettings } from '../../src/otlp/settings.js';
import { settingReader } from '../../src/settings.js';

/** readExportSettings with a captured logger: the settings and every line they printed. */
function read(env: Record<string, string>): { settings: ExportSettings; lines: string[] } {
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);
  return { settings: readExportSettings(settingReader(env, log), env, log), lines };
}

const OTLP_DEFAULTS: OtlpSettings = { url: 'http://localhost:4318/v1/metrics', protocol: 'http/protobuf', headers: {}, timeoutMillis: 10_000, compression: 'none' };
/** The OTLP settings with OTEL_METRICS_EXPORTER=otlp and `env`. */
const otlpOf = (env: Record<string, string>) => {
  const { settings, lines } = read({ OTEL_METRICS_EXPORTER: 'otlp', ...env });
  return { otlp: settings.otlp, lines };
};

test('with none of the variables set: the Prometheus endpoint only, the SDK defaults, nothing printed', () => {
  expect(read({})).toStrictEqual({ settings: EXPORT_DEFAULTS, lines: [] });
  expect(EXPORT_DEFAULTS).toStrictEqual({ prometheus: true, otlp: undefined, intervalMillis: 60_000, exportTimeoutMillis: 30_000, resourceAttributes: {} });
});

describe('OTEL_METRICS_EXPORTER', () => {
  test.each<[string, boolean, boolean]>([
    ['prometheus', true, false],
    ['otlp', false, true],
    ['prometheus,otlp', true, true],
    [' OTLP , Prometheus ', true, true],
    ['otlp,otlp', false, true],
    ['none', false, false],
  ])('%j: endpoint %s, push %s', (value, prometheus, otlp) => {
    const { settings, lines } = read({ OTEL_METRICS_EXPORTER: value });
    expect({ prometheus: settings.prometheus, otlp: settings.otlp }).toStrictEqual({ prometheus, otlp: otlp ? OTLP_DEFAULTS : undefined });
    expect(lines).toEqual([]);
  });

  test.each<[string, string]>([
    ['console', 'unsupported exporter console; expected prometheus, otlp, both, or none'],
    ['prometheus,zipkin', 'unsupported exporter zipkin; expected prometheus, otlp, both, or none'],
    ['otlp,', 'empty entry; expected prometheus, otlp, both, or none'],
    ['none,otlp', 'none cannot be combined with another exporter'],
  ])('%j: one line, then the default (the endpoint only)', (value, reason) => {
    const { settings, lines } = read({ OTEL_METRICS_EXPORTER: value });
    expect({ prometheus: settings.prometheus, otlp: settings.otlp }).toStrictEqual({ prometheus: true, otlp: undefined });
    expect(lines).toEqual([`invalid OTEL_METRICS_EXPORTER="${value}" (${reason}); using default`]);
  });

  test.each(['otlp', 'none'])('=%s with a metrics port set: one line saying the port is not used', (value) => {
    expect(read({ OTEL_METRICS_EXPORTER: value, PROMETHEUS_METRICS_EXPORT_PORT: '9000' }).lines).toEqual([
      `OTEL_METRICS_EXPORTER=${value} serves no Prometheus endpoint: the metrics port settings are not used (prometheus,otlp serves both)`,
    ]);
    expect(read({ OTEL_METRICS_EXPORTER: 'prometheus,otlp', PROMETHEUS_METRICS_EXPORT_PORT: '9000' }).lines).toEqual([]);
  });
});

describe('the OTLP endpoint', () => {
  test.each<[Record<string, string>, string]>([
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, 'http://collector:4318/v1/metrics'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector.example/otlp/' }, 'https://collector.example/otlp/v1/metrics'],
    [{ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://collector:4318/custom/path' }, 'http://collector:4318/custom/path'],
    [{ OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://m:1/x', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://g:2' }, 'http://m:1/x'],
  ])('%j: %s (the general one gets /v1/metrics, the metrics one is used as it is)', (env, url) => {
    expect(otlpOf(env)).toStrictEqual({ otlp: { ...OTLP_DEFAULTS, url }, lines: [] });
  });

  test.each<[Record<string, string>, string, string]>([
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, 'http://localhost:4318/v1/metrics', 'invalid OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318" (expected an http:// or https:// URL); using default'],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }, 'http://localhost:4318/v1/metrics', 'invalid OTEL_EXPORTER_OTLP_ENDPOINT="not a url" (not a URL); using default'],
    [
      { OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'ftp://m/x', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://g:2' },
      'http://g:2/v1/metrics',
      'invalid OTEL_EXPORTER_OTLP_METRICS_ENDPOINT="ftp://m/x" (expected an http:// or https:// URL); using default',
    ],
  ])('%j: one line, then %s', (env, url, line) => {
    expect(otlpOf(env)).toStrictEqual({ otlp: { ...OTLP_DEFAULTS, url }, lines: [line] });
  });
});

describe('protocol, timeout, compression: the metrics variable wins over the general one', () => {
  test.each<[Record<string, string>, Partial<OtlpSettings>]>([
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, { protocol: 'http/json' }],
    [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf' }, { protocol: 'http/protobuf' }],
    [{ OTEL_EXPORTER_OTLP_TIMEOUT: '2500' }, { timeoutMillis: 2500 }],
    [{ OTEL_EXPORTER_OTLP_TIMEOUT: '2500', OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '700' }, { timeoutMillis: 700 }],
    [{ OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip' }, { compression: 'gzip' }],
    [{ OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip', OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'none' }, { compression: 'none' }],
  ])('%j', (env, changed) => {
    expect(otlpOf(env)).toStrictEqual({ otlp: { ...OTLP_DEFAULTS, ...changed }, lines: [] });
  });

  test.each<[string, string, string]>([
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc', 'grpc is not supported (it would need @grpc/grpc-js); an OTLP/HTTP receiver listens on port 4318'],
    ['OTEL_EXPORTER_OTLP_METRICS_PROTOCOL', 'http/xml', 'expected one of http/protobuf, http/json'],
    ['OTEL_EXPORTER_OTLP_TIMEOUT', '10s', 'not an integer'],
    ['OTEL_EXPORTER_OTLP_METRICS_TIMEOUT', '0', 'out of range 1-2147483647'],
    ['OTEL_EXPORTER_OTLP_COMPRESSION', 'zstd', 'expected one of gzip, none'],
  ])('%s=%j: one line, then the default', (name, value, reason) => {
    expect(otlpOf({ [name]: value })).toStrictEqual({ otlp: OTLP_DEFAULTS, lines: [`invalid ${name}="${value}" (${reason}); using default`] });
  });
});

describe('headers', () => {
  test('both lists apply, percent-decoded, the metrics one winning per header', () => {
    const { otlp, lines } = otlpOf({
      OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20abc%3D%3D, x-tenant=general,',
      OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-tenant=metrics',
    });
    expect(otlp?.headers).toStrictEqual({ Authorization: 'Bearer abc==', 'x-tenant': 'metrics' });
    expect(lines).toEqual([]);
  });

  test.each<[string, string]>([
    ['api-key', 'entry 1 of 1: expected key=value'],
    ['a=1,=2', 'entry 2 of 2: expected key=value'],
    ['k=%E0%A4%A', 'entry 1 of 1: bad percent-encoding'],
    ['bad name=x', 'a header name is not an HTTP token'],
    ['k=line%0Abreak', 'a header value has a control character'],
  ])('%j: one line naming the variable and the problem, never the value; none of its headers sent', (value, reason) => {
    const secret = { OTEL_EXPORTER_OTLP_HEADERS: `${value},Authorization=Bearer%20s3cr3t`, OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-kept=1' };
    const { otlp, lines } = otlpOf(secret);
    expect(otlp?.headers).toStrictEqual({ 'x-kept': '1' });
    const where = value.startsWith('a=1') ? reason.replace('of 2', 'of 3') : reason.replace('of 1', 'of 2');
    expect(lines).toEqual([`invalid OTEL_EXPORTER_OTLP_HEADERS (${where}); sending none of its headers`]);
    expect(lines.join('')).not.toContain('s3cr3t');
  });
});

describe('OTEL_METRIC_EXPORT_INTERVAL and OTEL_METRIC_EXPORT_TIMEOUT', () => {
  test.each<[Record<string, string>, number, number, string[]]>([
    [{ OTEL_METRIC_EXPORT_INTERVAL: '5000', OTEL_METRIC_EXPORT_TIMEOUT: '2000' }, 5000, 2000, []],
    // The default timeout shortened to a short interval, silently: the SDK's reader does so too.
    [{ OTEL_METRIC_EXPORT_INTERVAL: '1000' }, 1000, 1000, []],
    [{ OTEL_METRIC_EXPORT_INTERVAL: '1000', OTEL_METRIC_EXPORT_TIMEOUT: '4000' }, 1000, 1000, ['OTEL_METRIC_EXPORT_TIMEOUT=4000 is longer than the export interval (1000 ms); using 1000']],
    [{ OTEL_METRIC_EXPORT_INTERVAL: '1m' }, 60_000, 30_000, ['invalid OTEL_METRIC_EXPORT_INTERVAL="1m" (not an integer); using default']],
    [{ OTEL_METRIC_EXPORT_TIMEOUT: '-5' }, 60_000, 30_000, ['invalid OTEL_METRIC_EXPORT_TIMEOUT="-5" (not an integer); using default']],
  ])('%j: interval %d, timeout %d', (env, intervalMillis, exportTimeoutMillis, lines) => {
    const read_ = read(env);
    expect({ intervalMillis: read_.settings.intervalMillis, exportTimeoutMillis: read_.settings.exportTimeoutMillis, lines: read_.lines }).toStrictEqual({
      intervalMillis,
      exportTimeoutMillis,
      lines,
    });
  });
});

describe('OTEL_RESOURCE_ATTRIBUTES', () => {
  test('key=value pairs, percent-decoded', () => {
    expect(read({ OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,service.namespace=shop%2Feu, team = payments' })).toStrictEqual({
      settings: { ...EXPORT_DEFAULTS, resourceAttributes: { 'deployment.environment': 'prod', 'service.namespace': 'shop/eu', team: 'payments' } },
      lines: [],
    });
  });

  test('one bad entry discards the whole value (one line), as the resource specification asks', () => {
    expect(read({ OTEL_RESOURCE_ATTRIBUTES: 'a=1,b' })).toStrictEqual({
      settings: EXPORT_DEFAULTS,
      lines: ['invalid OTEL_RESOURCE_ATTRIBUTES="a=1,b" (entry 2 of 2: expected key=value); using default'],
    });
  });
});
