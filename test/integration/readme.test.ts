import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { ROOT } from '../support/processes.js';

/** The README's promises that can drift: the generated family table, the set-up commands and the settings. */
const README = readFileSync(`${ROOT}README.md`, 'utf8');

/** The text of a `## heading` section, up to the next `## ` heading. */
function section(heading: string): string {
  const start = README.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${heading}" section`);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

/** The variables the "Settings" section documents. */
const DOCUMENTED = new Set([...section('Settings').matchAll(/`((?:PROMETHEUS|OTEL)_[A-Z_]+)`/g)].map((m) => m[1]!));

const SETTINGS = 'test/integration/settings.test.ts';
/**
 * Each documented setting and the test (file, title as written there) that observes what it does
 * in a running app: a setting documented but never observed is a promise nobody checks.
 */
/** Where settings are read: the config and the settings of the endpoint protection and of the exports. */
const SETTINGS_MODULES = ['src/config.ts', 'src/exposition/endpoint-settings.ts', 'src/otlp/settings.ts'];
const OTLP_EXPORT = 'test/integration/otlp-export.test.ts';
const OTLP_FAILURES = 'test/integration/otlp-failures.test.ts';
const OTLP_ENDPOINT_HEADERS_GZIP = 'the metrics endpoint is used as it is, over the general one; gzip (the metrics setting winning) and headers from both header lists reach the receiver';
const PROTECTED = 'test/integration/protected-endpoint.test.ts';

const OBSERVED_BY: Record<string, [file: string, title: string]> = {
  PROMETHEUS_METRIC_NAMESPACE: [SETTINGS, '=shop prefixes exactly the 34 django families (samples, HELP, TYPE) and nothing else'],
  PROMETHEUS_LATENCY_BUCKETS: [SETTINGS, '%j sets the le list of the three latency histograms exactly; body buckets unchanged'],
  PROMETHEUS_METRICS_EXPORT_PORT: [SETTINGS, 'listens on PROMETHEUS_METRICS_EXPORT_PORT, besides the app'],
  OTEL_EXPORTER_PROMETHEUS_PORT: [SETTINGS, 'OTEL_EXPORTER_PROMETHEUS_PORT is used when PROMETHEUS_METRICS_EXPORT_PORT is unset'],
  OTEL_EXPORTER_PROMETHEUS_HOST: [SETTINGS, 'OTEL_EXPORTER_PROMETHEUS_HOST is used when PROMETHEUS_METRICS_EXPORT_ADDRESS is unset'],
  PROMETHEUS_METRICS_EXPORT_PORT_RANGE: [SETTINGS, 'the first port taken: the second one is used and logged'],
  PROMETHEUS_METRICS_EXPORT_ADDRESS: [SETTINGS, 'PROMETHEUS_METRICS_EXPORT_ADDRESS: the dedicated server listens there only'],
  PROMETHEUS_METRICS_AUTH_TOKEN: [PROTECTED, 'PROMETHEUS_METRICS_AUTH_TOKEN protects it unless it is given options (they win); a refused scrape is one 401 response of the app, under the handler view'],
  PROMETHEUS_METRICS_AUTH_TOKEN_FILE: [PROTECTED, 'PROMETHEUS_METRICS_AUTH_TOKEN_FILE: only the holder of the mounted token scrapes; every presented credential is one timingSafeEqual over two 32-byte digests'],
  PROMETHEUS_METRICS_AUTH_BASIC: [PROTECTED, 'PROMETHEUS_METRICS_AUTH_BASIC: only user:password scrapes, a refusal carries the Basic challenge; the dedicated scrapes, refused or not, are never counted'],
  PROMETHEUS_METRICS_AUTH_BASIC_FILE: [PROTECTED, 'PROMETHEUS_METRICS_AUTH_TOKEN with PROMETHEUS_METRICS_AUTH_BASIC_FILE: either credential scrapes; a refusal offers both challenges'],
  PROMETHEUS_METRICS_TLS_CERT: [PROTECTED, 'PROMETHEUS_METRICS_TLS_CERT and PROMETHEUS_METRICS_TLS_KEY: HTTPS from the PEM files, with the credentials checked inside it; a plain-HTTP request gets nothing'],
  PROMETHEUS_METRICS_TLS_KEY: [PROTECTED, 'PROMETHEUS_METRICS_TLS_CERT and PROMETHEUS_METRICS_TLS_KEY: HTTPS from the PEM files, with the credentials checked inside it; a plain-HTTP request gets nothing'],
  PROMETHEUS_TRUST_PROXY: [SETTINGS, '=%s: X-Forwarded-Proto: https counts as %s'],
  PROMETHEUS_DB_ALIASES: ['test/integration/db-pg.test.ts', 'connections: each attempt, pool growth included, and each failure, by alias (queries outside any request)'],
  PROMETHEUS_DB_ERROR_TYPE: ['test/integration/db-pg.test.ts', 'PROMETHEUS_DB_ERROR_TYPE=detailed: psycopg class names for server errors'],
  PROMETHEUS_MAX_SERIES_PER_METRIC: [SETTINGS, '=5 with 10 views: 5 series, one otel_metric_overflow="true" series, one warning per family'],
  PROMETHEUS_OTEL_INFO: [SETTINGS, '=true: target_info, and scope labels on user metrics (never on the django families)'],
  PROMETHEUS_HTTP_INSTRUMENTATION: [SETTINGS, 'PROMETHEUS_HTTP_INSTRUMENTATION=otel: one server span per request, made by the TracerProvider the app registers'],
  OTEL_TRACES_EXPORTER: [SETTINGS, 'PROMETHEUS_HTTP_INSTRUMENTATION=auto with OTEL_TRACES_EXPORTER=%s: spans %j'],
  PROMETHEUS_ESM_HOOK: ['test/integration/startup.test.ts', 'a CommonJS app with PROMETHEUS_ESM_HOOK=true: the loader'],
  PROMETHEUS_RUNTIME_METRICS: ['test/integration/runtime-metrics.test.ts', '=false: no runtime family; the django families unchanged'],
  PROMETHEUS_EXPORT_MODEL_BULK: ['test/integration/models-prisma.test.ts', 'PROMETHEUS_EXPORT_MODEL_BULK=true adds the rows of successful bulk writes: inserts +5, updates +3, deletes +5'],
  PROMETHEUS_EXPORT_MIGRATIONS: ['test/integration/migrations-track.test.ts', 'PROMETHEUS_EXPORT_MIGRATIONS off: no count is read, the families have HELP and TYPE only'],
  PROMETHEUS_MIGRATIONS_REFRESH_SECONDS: ['test/integration/migrations-track.test.ts', 'PROMETHEUS_MIGRATIONS_REFRESH_SECONDS: the timer re-reads a rollback the app did not report'],
  PROMETHEUS_MULTIPROC_DIR: ['test/integration/multiproc-dir.test.ts', 'merged counts are exact under traffic and after a graceful exit; never decrease after a SIGKILL; exited processes fold into one retired file'],
  OTEL_SDK_DISABLED: ['test/integration/activation.test.ts', 'OTEL_SDK_DISABLED=true: no metrics server, the app serves, the API is a no-op'],
  OTEL_METRICS_EXPORTER: [OTLP_EXPORT, 'OTEL_METRICS_EXPORTER=otlp: no dedicated server even where a port is set (one line says so)'],
  OTEL_EXPORTER_OTLP_ENDPOINT: [OTLP_EXPORT, 'exact counts after known traffic, the catalog bounds, the app instruments in the same push, the resource'],
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: [OTLP_EXPORT, OTLP_ENDPOINT_HEADERS_GZIP],
  OTEL_EXPORTER_OTLP_PROTOCOL: [OTLP_EXPORT, 'exact counts after known traffic, the catalog bounds, the app instruments in the same push, the resource'],
  OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: [OTLP_EXPORT, 'exact counts after known traffic, the catalog bounds, the app instruments in the same push, the resource'],
  OTEL_EXPORTER_OTLP_HEADERS: [OTLP_EXPORT, OTLP_ENDPOINT_HEADERS_GZIP],
  OTEL_EXPORTER_OTLP_METRICS_HEADERS: [OTLP_EXPORT, OTLP_ENDPOINT_HEADERS_GZIP],
  OTEL_EXPORTER_OTLP_COMPRESSION: [OTLP_EXPORT, OTLP_ENDPOINT_HEADERS_GZIP],
  OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: [OTLP_EXPORT, OTLP_ENDPOINT_HEADERS_GZIP],
  OTEL_EXPORTER_OTLP_TIMEOUT: [OTLP_FAILURES, 'a receiver that never answers: each request ends at OTEL_EXPORTER_OTLP_TIMEOUT, one line, and the app is never held up'],
  OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: [OTLP_FAILURES, 'a receiver that never answers: each request ends at OTEL_EXPORTER_OTLP_TIMEOUT, one line, and the app is never held up'],
  OTEL_METRIC_EXPORT_INTERVAL: [OTLP_FAILURES, 'receiver down, then answering 500, then up: one line per kind, the app serves throughout, and the first push that gets through carries every count'],
  OTEL_METRIC_EXPORT_TIMEOUT: [OTLP_FAILURES, 'OTEL_METRIC_EXPORT_TIMEOUT shorter than the request timeout: the reader gives up on an export, the next one finds its request still in flight (one line for each kind)'],
  OTEL_RESOURCE_ATTRIBUTES: [OTLP_EXPORT, 'each process start has its own service.instance.id; OTEL_RESOURCE_ATTRIBUTES can set it'],
  OTEL_SERVICE_NAME: [SETTINGS, 'the service_name label of target_info (with PROMETHEUS_OTEL_INFO=true), and nowhere else: no log line, no other label'],
};

describe('README.md', () => {
  test('the family table is exactly what scripts/families.mjs generates from the catalog', () => {
    const generated = execFileSync(process.execPath, ['scripts/families.mjs'], { cwd: ROOT, encoding: 'utf8' });
    const block = /<!-- families:start -->[\s\S]*?<!-- families:end -->/.exec(README)?.[0];
    // On failure: `npm run build && node scripts/families.mjs --write`.
    expect(block).toBe(generated.trimEnd());
  });

  test('"Try it" gives exactly two set-up commands: `npm install && npm run demo` and `npm test`', () => {
    const commands = [...section('Try it').matchAll(/```sh\n([\s\S]*?)\n```/g)].map((m) => m[1]);
    expect(commands).toEqual(['npm install && npm run demo', 'npm test']);
  });

  test('the settings table documents every variable the settings modules read', () => {
    const modules = SETTINGS_MODULES.map((file) => readFileSync(`${ROOT}${file}`, 'utf8')).join('\n');
    const read = new Set([...modules.matchAll(/\b((?:PROMETHEUS|OTEL)_[A-Z_]+)\b/g)].map((m) => m[1]!));
    // A prefix that names are built from (`OTEL_EXPORTER_OTLP_`) is not a variable itself.
    expect([...read].filter((name) => !name.endsWith('_') && !DOCUMENTED.has(name))).toEqual([]);
  });

  test('every documented setting has a test that observes its effect', () => {
    expect(Object.keys(OBSERVED_BY).sort()).toEqual([...DOCUMENTED].sort());
    const missing = Object.entries(OBSERVED_BY).filter(([, [file, title]]) => {
      const text = readFileSync(`${ROOT}${file}`, 'utf8');
      return !["'", '"', '`'].some((quote) => text.includes(`${quote}${title}${quote}`));
    });
    expect(missing).toEqual([]);
  });

  test('the package scripts those commands run build first and start the demo and the tests', () => {
    const { scripts } = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { scripts: Record<string, string> };
    expect(scripts.demo).toBe('npm run build && node scripts/demo.mjs');
    expect(scripts.test).toBe('npm run build && vitest run');
  });
});
