import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { readConfig, type Config } from '../../src/config.js';
import { ENDPOINT_DEFAULTS } from '../../src/exposition/endpoint-settings.js';
import { EXPORT_DEFAULTS } from '../../src/otlp/settings.js';
import { DEFAULT_LATENCY_BUCKETS } from '../../views/index.js';

/** readConfig with a captured logger: the config and every line it would print. */
function read(env: Record<string, string>): { config: Config; lines: string[] } {
  const lines: string[] = [];
  const config = readConfig(env, (line) => lines.push(line));
  return { config, lines };
}

const DEFAULTS: Config = {
  sdkDisabled: false,
  namespace: '',
  latencyBuckets: DEFAULT_LATENCY_BUCKETS,
  port: 9464,
  portRange: undefined,
  address: undefined,
  trustProxy: false,
  dbAliases: [],
  dbErrorType: 'pep249',
  maxSeriesPerMetric: 10000,
  otelInfo: false,
  runtimeMetrics: true,
  serviceName: undefined,
  httpPath: 'fast',
  esmHook: false,
  exportModelBulk: false,
  exportMigrations: false,
  migrationsRefreshSeconds: 0,
  multiprocDir: undefined,
  endpoint: ENDPOINT_DEFAULTS,
  export: EXPORT_DEFAULTS,
};

test('an empty environment gives the documented defaults and prints nothing', () => {
  expect(read({})).toStrictEqual({ config: DEFAULTS, lines: [] });
});

test('empty values count as unset', () => {
  const env = Object.fromEntries(
    ['PROMETHEUS_METRIC_NAMESPACE', 'PROMETHEUS_LATENCY_BUCKETS', 'PROMETHEUS_METRICS_EXPORT_PORT', 'PROMETHEUS_TRUST_PROXY', 'OTEL_SERVICE_NAME'].map((k) => [k, '']),
  );
  expect(read(env)).toStrictEqual({ config: DEFAULTS, lines: [] });
});

describe('valid values', () => {
  test.each<[Record<string, string>, Partial<Config>]>([
    [{ OTEL_SDK_DISABLED: 'true' }, { sdkDisabled: true }],
    [{ PROMETHEUS_RUNTIME_METRICS: 'off' }, { runtimeMetrics: false }],
    [{ PROMETHEUS_METRIC_NAMESPACE: 'shop' }, { namespace: 'shop' }],
    [{ PROMETHEUS_METRIC_NAMESPACE: '_Shop_2_' }, { namespace: '_Shop_2_' }],
    [{ PROMETHEUS_LATENCY_BUCKETS: '0.1, 0.5 ,2' }, { latencyBuckets: [0.1, 0.5, 2] }],
    [{ PROMETHEUS_LATENCY_BUCKETS: '0.1,0.5,inf' }, { latencyBuckets: [0.1, 0.5] }],
    [{ PROMETHEUS_LATENCY_BUCKETS: '0.1,0.5,+Inf' }, { latencyBuckets: [0.1, 0.5] }],
    [{ PROMETHEUS_LATENCY_BUCKETS: '1e-3,5e-1,INF' }, { latencyBuckets: [0.001, 0.5] }],
    [{ PROMETHEUS_LATENCY_BUCKETS: '-1,0,1' }, { latencyBuckets: [-1, 0, 1] }],
    [{ PROMETHEUS_LATENCY_BUCKETS: '.5,1.,2.5E1,+30,1e+2' }, { latencyBuckets: [0.5, 1, 25, 30, 100] }],
    [{ PROMETHEUS_LATENCY_BUCKETS: '007,10' }, { latencyBuckets: [7, 10] }],
    [{ PROMETHEUS_METRICS_EXPORT_PORT: '8080' }, { port: 8080 }],
    [{ PROMETHEUS_METRICS_EXPORT_PORT: ' 1 ' }, { port: 1 }],
    [{ PROMETHEUS_METRICS_EXPORT_PORT: '65535' }, { port: 65535 }],
    [{ PROMETHEUS_METRICS_EXPORT_PORT: '08080' }, { port: 8080 }],
    [{ PROMETHEUS_METRICS_EXPORT_PORT: 'off' }, { port: undefined }],
    [{ PROMETHEUS_METRICS_EXPORT_PORT: 'OFF' }, { port: undefined }],
    [{ PROMETHEUS_METRICS_EXPORT_PORT_RANGE: '8001-8005' }, { portRange: [8001, 8005] }],
    [{ PROMETHEUS_METRICS_EXPORT_PORT_RANGE: ' 8001 - 8001 ' }, { portRange: [8001, 8001] }],
    [{ PROMETHEUS_METRICS_EXPORT_ADDRESS: '127.0.0.1' }, { address: '127.0.0.1' }],
    [{ PROMETHEUS_METRICS_EXPORT_ADDRESS: ' ::1 ' }, { address: '::1' }],
    [{ PROMETHEUS_TRUST_PROXY: 'true' }, { trustProxy: true }],
    [{ PROMETHEUS_DB_ERROR_TYPE: 'detailed' }, { dbErrorType: 'detailed' }],
    [{ PROMETHEUS_DB_ERROR_TYPE: ' PEP249 ' }, { dbErrorType: 'pep249' }],
    [{ PROMETHEUS_MAX_SERIES_PER_METRIC: '1' }, { maxSeriesPerMetric: 1 }],
    [{ PROMETHEUS_MAX_SERIES_PER_METRIC: '50000' }, { maxSeriesPerMetric: 50000 }],
    [{ PROMETHEUS_OTEL_INFO: 'true' }, { otelInfo: true }],
    [{ OTEL_SERVICE_NAME: ' checkout ' }, { serviceName: 'checkout' }],
    [{ OTEL_SERVICE_NAME: '   ' }, { serviceName: undefined }],
    [{ PROMETHEUS_ESM_HOOK: 'true' }, { esmHook: true }],
    [{ PROMETHEUS_ESM_HOOK: 'off' }, { esmHook: false }],
    [{ PROMETHEUS_EXPORT_MODEL_BULK: 'yes' }, { exportModelBulk: true }],
    [{ PROMETHEUS_EXPORT_MIGRATIONS: 'true' }, { exportMigrations: true }],
    [{ PROMETHEUS_MIGRATIONS_REFRESH_SECONDS: '30' }, { migrationsRefreshSeconds: 30 }],
    [{ PROMETHEUS_MIGRATIONS_REFRESH_SECONDS: '86400' }, { migrationsRefreshSeconds: 86400 }],
  ])('%j', (env, expected) => {
    expect(read(env)).toStrictEqual({ config: { ...DEFAULTS, ...expected }, lines: [] });
  });
});

describe('booleans: true/false/1/0/yes/no/on/off in any case', () => {
  test.each([
    ['true', true], ['TRUE', true], ['True', true], ['1', true], ['yes', true], ['YES', true], ['on', true], ['oN', true], [' true ', true],
    ['false', false], ['FALSE', false], ['0', false], ['no', false], ['No', false], ['off', false], ['OFF', false],
  ])('PROMETHEUS_TRUST_PROXY=%j -> %s', (raw, value) => {
    expect(read({ PROMETHEUS_TRUST_PROXY: raw })).toStrictEqual({ config: { ...DEFAULTS, trustProxy: value }, lines: [] });
  });
});

describe('an invalid value is one line naming variable, value and reason; then the default applies', () => {
  test.each([
    ['OTEL_SDK_DISABLED', 'maybe', 'expected true/false/1/0/yes/no/on/off'],
    ['PROMETHEUS_METRIC_NAMESPACE', '1bad', 'must match [A-Za-z_][A-Za-z0-9_]*'],
    ['PROMETHEUS_METRIC_NAMESPACE', 'shop-eu', 'must match [A-Za-z_][A-Za-z0-9_]*'],
    ['PROMETHEUS_LATENCY_BUCKETS', '0.5,0.1', 'not increasing'],
    ['PROMETHEUS_LATENCY_BUCKETS', '1,1', 'not increasing'],
    ['PROMETHEUS_LATENCY_BUCKETS', 'a,b', 'not a decimal number: a'],
    ['PROMETHEUS_LATENCY_BUCKETS', '0.1,inf,2', 'inf only as the last entry'],
    ['PROMETHEUS_LATENCY_BUCKETS', '0.1,+Inf,+Inf', '+Inf only as the last entry'],
    ['PROMETHEUS_LATENCY_BUCKETS', '0.1,,2', 'empty entry'],
    ['PROMETHEUS_LATENCY_BUCKETS', '0.1, ,2', 'empty entry'],
    ['PROMETHEUS_LATENCY_BUCKETS', ',', 'empty entry'],
    // Number() reads all of these as numbers; none is a plain decimal.
    ['PROMETHEUS_LATENCY_BUCKETS', '0x10,0x20', 'not a decimal number: 0x10'],
    ['PROMETHEUS_LATENCY_BUCKETS', '0.1,0b11', 'not a decimal number: 0b11'],
    ['PROMETHEUS_LATENCY_BUCKETS', '0.1,0o17', 'not a decimal number: 0o17'],
    ['PROMETHEUS_LATENCY_BUCKETS', '0.1,Infinity', 'not a decimal number: Infinity'],
    ['PROMETHEUS_LATENCY_BUCKETS', '-Infinity,0.1', 'not a decimal number: -Infinity'],
    ['PROMETHEUS_LATENCY_BUCKETS', '-inf,0.1', 'not a decimal number: -inf'],
    ['PROMETHEUS_LATENCY_BUCKETS', '0.1,1_000', 'not a decimal number: 1_000'],
    ['PROMETHEUS_LATENCY_BUCKETS', '0.1,1e', 'not a decimal number: 1e'],
    ['PROMETHEUS_LATENCY_BUCKETS', '.,1', 'not a decimal number: .'],
    ['PROMETHEUS_LATENCY_BUCKETS', '0.1,1e999', 'not a finite number: 1e999'],
    ['PROMETHEUS_METRICS_EXPORT_PORT', '70000', 'out of range 1-65535'],
    ['PROMETHEUS_METRICS_EXPORT_PORT', '0', 'out of range 1-65535'],
    ['PROMETHEUS_METRICS_EXPORT_PORT', 'abc', 'not an integer'],
    ['PROMETHEUS_METRICS_EXPORT_PORT', '-1', 'not an integer'],
    ['PROMETHEUS_METRICS_EXPORT_PORT', '0x1f90', 'not an integer'],
    ['PROMETHEUS_METRICS_EXPORT_PORT', '8080.0', 'not an integer'],
    ['PROMETHEUS_METRICS_EXPORT_PORT', '8e3', 'not an integer'],
    ['PROMETHEUS_METRICS_EXPORT_PORT', '+8080', 'not an integer'],
    ['PROMETHEUS_METRICS_EXPORT_PORT_RANGE', '9-3', 'end before start'],
    ['PROMETHEUS_METRICS_EXPORT_PORT_RANGE', '8001', 'expected A-B'],
    ['PROMETHEUS_METRICS_EXPORT_PORT_RANGE', '0-5', 'out of range 1-65535'],
    ['PROMETHEUS_METRICS_EXPORT_ADDRESS', 'a b', 'not a host or address'],
    ['PROMETHEUS_METRICS_EXPORT_ADDRESS', '  ', 'not a host or address'],
    ['PROMETHEUS_TRUST_PROXY', 'maybe', 'expected true/false/1/0/yes/no/on/off'],
    ['PROMETHEUS_DB_ERROR_TYPE', 'psycopg', 'expected one of pep249, detailed'],
    ['PROMETHEUS_MAX_SERIES_PER_METRIC', '0', 'out of range 1-9007199254740991'],
    ['PROMETHEUS_MAX_SERIES_PER_METRIC', '10k', 'not an integer'],
    ['PROMETHEUS_MAX_SERIES_PER_METRIC', '1e4', 'not an integer'],
    ['PROMETHEUS_MAX_SERIES_PER_METRIC', 'Infinity', 'not an integer'],
    ['PROMETHEUS_MAX_SERIES_PER_METRIC', '99999999999999999999', 'out of range 1-9007199254740991'],
    ['PROMETHEUS_METRICS_EXPORT_PORT_RANGE', '0x10-0x20', 'expected A-B'],
    ['PROMETHEUS_OTEL_INFO', 'enabled', 'expected true/false/1/0/yes/no/on/off'],
    ['PROMETHEUS_HTTP_INSTRUMENTATION', 'turbo', 'expected one of auto, fast, otel'],
    ['PROMETHEUS_ESM_HOOK', 'auto', 'expected true/false/1/0/yes/no/on/off'],
    ['OTEL_EXPORTER_PROMETHEUS_PORT', 'abc', 'not an integer'],
    ['PROMETHEUS_EXPORT_MODEL_BULK', 'sometimes', 'expected true/false/1/0/yes/no/on/off'],
    ['PROMETHEUS_EXPORT_MIGRATIONS', '2', 'expected true/false/1/0/yes/no/on/off'],
    ['PROMETHEUS_MIGRATIONS_REFRESH_SECONDS', '-5', 'not an integer'],
    ['PROMETHEUS_MIGRATIONS_REFRESH_SECONDS', '1.5', 'not an integer'],
    ['PROMETHEUS_MIGRATIONS_REFRESH_SECONDS', '86401', 'out of range 0-86400'],
  ])('%s=%j', (name, raw, reason) => {
    expect(read({ [name]: raw })).toStrictEqual({ config: DEFAULTS, lines: [`invalid ${name}="${raw}" (${reason}); using default`] });
  });

  test('several invalid values: one line each, the valid ones still apply', () => {
    const { config, lines } = read({ PROMETHEUS_METRIC_NAMESPACE: '1bad', PROMETHEUS_TRUST_PROXY: 'maybe', PROMETHEUS_OTEL_INFO: 'on' });
    expect(config).toStrictEqual({ ...DEFAULTS, otelInfo: true });
    expect(lines).toStrictEqual([
      'invalid PROMETHEUS_METRIC_NAMESPACE="1bad" (must match [A-Za-z_][A-Za-z0-9_]*); using default',
      'invalid PROMETHEUS_TRUST_PROXY="maybe" (expected true/false/1/0/yes/no/on/off); using default',
    ]);
  });
});

describe('OTEL_EXPORTER_PROMETHEUS_* fallbacks', () => {
  test('used when the PROMETHEUS_* counterpart is unset', () => {
    expect(read({ OTEL_EXPORTER_PROMETHEUS_PORT: '9000', OTEL_EXPORTER_PROMETHEUS_HOST: '0.0.0.0' })).toStrictEqual({
      config: { ...DEFAULTS, port: 9000, address: '0.0.0.0' },
      lines: [],
    });
  });

  test('used when the PROMETHEUS_* counterpart is empty', () => {
    expect(read({ PROMETHEUS_METRICS_EXPORT_PORT: '', OTEL_EXPORTER_PROMETHEUS_PORT: '9000' }).config.port).toBe(9000);
  });

  test('ignored when the PROMETHEUS_* counterpart is set', () => {
    const env = {
      PROMETHEUS_METRICS_EXPORT_PORT: '9100',
      OTEL_EXPORTER_PROMETHEUS_PORT: '9000',
      PROMETHEUS_METRICS_EXPORT_ADDRESS: '127.0.0.1',
      OTEL_EXPORTER_PROMETHEUS_HOST: '0.0.0.0',
    };
    expect(read(env)).toStrictEqual({ config: { ...DEFAULTS, port: 9100, address: '127.0.0.1' }, lines: [] });
  });

  test('PROMETHEUS_METRICS_EXPORT_PORT=off wins over the OTel port', () => {
    expect(read({ PROMETHEUS_METRICS_EXPORT_PORT: 'off', OTEL_EXPORTER_PROMETHEUS_PORT: '9000' }).config.port).toBeUndefined();
  });

  test('an invalid PROMETHEUS_METRICS_EXPORT_PORT is set, so the default applies, not the OTel port', () => {
    expect(read({ PROMETHEUS_METRICS_EXPORT_PORT: 'abc', OTEL_EXPORTER_PROMETHEUS_PORT: '9000' })).toStrictEqual({
      config: DEFAULTS,
      lines: ['invalid PROMETHEUS_METRICS_EXPORT_PORT="abc" (not an integer); using default'],
    });
  });
});

describe('PROMETHEUS_HTTP_INSTRUMENTATION', () => {
  test.each<[Record<string, string>, Config['httpPath']]>([
    [{}, 'fast'],
    [{ OTEL_TRACES_EXPORTER: 'otlp' }, 'otel'],
    [{ OTEL_TRACES_EXPORTER: 'console' }, 'otel'],
    [{ OTEL_TRACES_EXPORTER: 'none' }, 'fast'],
    [{ OTEL_TRACES_EXPORTER: 'NONE' }, 'fast'],
    [{ OTEL_TRACES_EXPORTER: '' }, 'fast'],
    [{ PROMETHEUS_HTTP_INSTRUMENTATION: 'auto', OTEL_TRACES_EXPORTER: 'otlp' }, 'otel'],
    [{ PROMETHEUS_HTTP_INSTRUMENTATION: 'fast', OTEL_TRACES_EXPORTER: 'otlp' }, 'fast'],
    [{ PROMETHEUS_HTTP_INSTRUMENTATION: 'otel' }, 'otel'],
    [{ PROMETHEUS_HTTP_INSTRUMENTATION: 'OTEL' }, 'otel'],
  ])('%j -> %s', (env, httpPath) => {
    expect(read(env)).toStrictEqual({ config: { ...DEFAULTS, httpPath }, lines: [] });
  });
});

describe('PROMETHEUS_DB_ALIASES', () => {
  test('alias=host[:port][/database] entries, any part of the target optional', () => {
    expect(read({ PROMETHEUS_DB_ALIASES: 'replica=db2:5432/app, audit=/audit,cache=redis-host,p=:5432' })).toStrictEqual({
      config: {
        ...DEFAULTS,
        dbAliases: [
          { alias: 'replica', host: 'db2', port: 5432, database: 'app' },
          { alias: 'audit', database: 'audit' },
          { alias: 'cache', host: 'redis-host' },
          { alias: 'p', port: 5432 },
        ],
      },
      lines: [],
    });
  });

  test('an invalid entry is reported and skipped, the others kept in order', () => {
    expect(read({ PROMETHEUS_DB_ALIASES: 'bad,replica=db2,x=:notaport,e=,audit=/audit,' })).toStrictEqual({
      config: { ...DEFAULTS, dbAliases: [{ alias: 'replica', host: 'db2' }, { alias: 'audit', database: 'audit' }] },
      lines: [
        'invalid PROMETHEUS_DB_ALIASES entry "bad" (expected alias=host[:port][/database]); skipped',
        'invalid PROMETHEUS_DB_ALIASES entry "x=:notaport" (expected alias=host[:port][/database]); skipped',
        'invalid PROMETHEUS_DB_ALIASES entry "e=" (expected alias=host[:port][/database]); skipped',
      ],
    });
  });

  test('an entry with a port outside 1-65535 is reported and skipped', () => {
    expect(read({ PROMETHEUS_DB_ALIASES: 'replica=db:99999999/x,zero=db:0,audit=db:65535/audit' })).toStrictEqual({
      config: { ...DEFAULTS, dbAliases: [{ alias: 'audit', host: 'db', port: 65535, database: 'audit' }] },
      lines: [
        'invalid PROMETHEUS_DB_ALIASES entry "replica=db:99999999/x" (out of range 1-65535); skipped',
        'invalid PROMETHEUS_DB_ALIASES entry "zero=db:0" (out of range 1-65535); skipped',
      ],
    });
  });
});

describe('PROMETHEUS_MULTIPROC_DIR: an existing writable directory, else one line and this process alone', () => {
  const base = mkdtempSync(join(tmpdir(), 'odm-config-'));
  const dir = join(base, 'state');
  const file = join(base, 'file');
  const readOnly = join(base, 'read-only');
  mkdirSync(dir);
  mkdirSync(readOnly, { mode: 0o555 });
  writeFileSync(file, '');
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  test('a writable directory, made absolute and trimmed', () => {
    expect(read({ PROMETHEUS_MULTIPROC_DIR: dir })).toStrictEqual({ config: { ...DEFAULTS, multiprocDir: dir }, lines: [] });
    expect(read({ PROMETHEUS_MULTIPROC_DIR: ` ${relative(process.cwd(), dir)} ` })).toStrictEqual({ config: { ...DEFAULTS, multiprocDir: dir }, lines: [] });
  });

  test.each([
    [join(base, 'missing'), 'no such directory'],
    [file, 'not a directory'],
  ])('%s: %s', (raw, reason) => {
    expect(read({ PROMETHEUS_MULTIPROC_DIR: raw })).toStrictEqual({ config: DEFAULTS, lines: [`invalid PROMETHEUS_MULTIPROC_DIR="${raw}" (${reason}); using default`] });
  });

  // root may write in any directory of a normal file system, but not in a process's /proc directory.
  const notWritable = process.getuid?.() === 0 ? '/proc/self' : readOnly;
  test(`${notWritable}: not writable`, () => {
    expect(read({ PROMETHEUS_MULTIPROC_DIR: notWritable })).toStrictEqual({
      config: DEFAULTS,
      lines: [`invalid PROMETHEUS_MULTIPROC_DIR="${notWritable}" (not writable); using default`],
    });
  });
});
