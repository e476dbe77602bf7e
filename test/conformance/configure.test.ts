import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { vectorOf, type Exposition } from '../support/exposition.js';
import { fetchOpenMetrics, strictFamilies } from '../support/openmetrics-parser.js';
import { pointsOf, pushedAfter, startOtlpReceiver, startPushing, type OtlpReceiver } from '../support/otlp-receiver.js';
import { spawnApp, type RunningApp } from '../support/processes.js';

// configure(): the app's extra labels filled by labelMetric, its own view names and latency
// buckets, in every output (text, OpenMetrics, OTLP, the multi-process merge), and what is
// refused, each with one line (test/fixtures/configure-app.mjs).
const APP = 'test/fixtures/configure-app.mjs';
const BY_STATUS_VIEW = 'django_http_responses_total_by_status_view_method_total';
const LATENCY_BY_VIEW = 'django_http_requests_latency_seconds_by_view_method';

/** Path, tenant header, AJAX. */
const SCRIPT: Array<[string, string?, boolean?]> = [
  ['/items/1', 'acme', true],
  ['/items/2'],
  ['/admin/users', 'beta', true],
  ['/healthz'],
  ['/db'],
  ['/nope'],
];

async function play(app: RunningApp): Promise<void> {
  for (const [path, tenant, ajax] of SCRIPT) {
    const headers: Record<string, string> = { ...(tenant ? { 'x-tenant': tenant } : {}), ...(ajax ? { 'x-requested-with': 'XMLHttpRequest' } : {}) };
    await (await fetch(app.url(path), { headers })).arrayBuffer();
  }
}

const BY_STATUS_VIEW_VECTOR = [
  '{"method":"GET","status":"200","view":"/db","view_type":"public"} 1',
  '{"method":"GET","status":"200","view":"/items/:id","view_type":"public"} 2',
  '{"method":"GET","status":"200","view":"admin:users","view_type":"admin"} 1',
  '{"method":"GET","status":"200","view":"health_check:health_check_home","view_type":"public"} 1',
  '{"method":"GET","status":"404","view":"<unnamed view>","view_type":"public"} 1',
];

const LATENCY_COUNTS = [
  '{"method":"GET","tenant":"","view":"/db"} 1',
  '{"method":"GET","tenant":"","view":"/items/:id"} 1',
  '{"method":"GET","tenant":"","view":"<unnamed view>"} 1',
  '{"method":"GET","tenant":"","view":"health_check:health_check_home"} 1',
  '{"method":"GET","tenant":"acme","view":"/items/:id"} 1',
  '{"method":"GET","tenant":"beta","view":"admin:users"} 1',
];

/** The lines configure() printed: the refused options at startup, then labelMetric's problems at the first request. */
const STARTUP_LINES = [
  'configure: labelMetric must be a function, not string "not a function"; ignored',
  'configure: extraLabels.django_http_requests_before_middlewares_total is refused: extraLabels applies to the routing-level HTTP families (#5 to #19), by their names without the namespace prefix',
  'configure: extraLabels.django_http_requests_total_by_method_total = ["method"] is refused: method is already a label of the family',
  'configure: buckets.django_http_responses_body_total_bytes is refused: buckets applies to the three latency histograms, by their names without the namespace prefix',
  'configure: buckets.django_http_requests_latency_seconds_by_view_method = [1,0.5] is refused: bounds must be strictly ascending',
  'configure: labelMetric returned label "undeclared" for django_http_responses_total_by_status_total, which does not declare it (extraLabels); dropped',
  'configure: labelMetric threw for django_http_responses_total_by_charset_total (RangeError: no charset today); its default labels apply',
].map((line) => `otel-django-metrics: ${line}\n`);

describe.each(['fast', 'otel'])('configure() on express, %s HTTP path', (httpPath) => {
  let app: RunningApp;
  let exp: Exposition;
  beforeAll(async () => {
    app = await spawnApp(APP, { env: { PORT: '0', PROMETHEUS_HTTP_INSTRUMENTATION: httpPath } });
    await play(app);
    exp = await app.scrape();
  });
  afterAll(async () => {
    await app?.stop();
  });

  test('extra labels from labelMetric, and the views viewName gave', () => {
    expect(vectorOf(exp, BY_STATUS_VIEW)).toEqual(BY_STATUS_VIEW_VECTOR);
    expect(vectorOf(exp, `${LATENCY_BY_VIEW}_count`)).toEqual(LATENCY_COUNTS);
    expect(vectorOf(exp, 'django_http_ajax_requests_total')).toEqual(['{"tenant":"acme"} 1', '{"tenant":"beta"} 1']);
    expect(vectorOf(exp, 'django_http_requests_total_by_view_transport_method_total')).toEqual([
      '{"method":"GET","transport":"http","view":"/db"} 1',
      '{"method":"GET","transport":"http","view":"/items/:id"} 2',
      '{"method":"GET","transport":"http","view":"admin:users"} 1',
      '{"method":"GET","transport":"http","view":"health_check:health_check_home"} 1',
    ]);
  });

  test('an undeclared key is dropped and a throwing labelMetric leaves the default labels', () => {
    expect(vectorOf(exp, 'django_http_responses_total_by_status_total')).toEqual(['{"status":"200"} 5', '{"status":"404"} 1']);
    expect(vectorOf(exp, 'django_http_responses_total_by_charset_total')).toEqual(['{"charset":"utf-8"} 6']);
  });

  test('the server-level families keep their labels; their buckets are the configured ones', () => {
    expect(vectorOf(exp, 'django_http_requests_before_middlewares_total')).toEqual(['{} 6']);
    expect(vectorOf(exp, 'django_http_requests_latency_including_middlewares_seconds_bucket').map((s) => s.replace(/ \d+$/, ''))).toEqual(['{"le":"+Inf"}', '{"le":"0.5"}']);
    expect([...new Set(vectorOf(exp, `${LATENCY_BY_VIEW}_bucket`).map((s) => JSON.parse(s.slice(0, s.lastIndexOf(' '))).le))].sort()).toEqual(['+Inf', '0.1', '1.0']);
    expect(vectorOf(exp, 'django_db_query_duration_seconds_bucket')).toEqual([
      '{"alias":"default","le":"+Inf","vendor":"sqlite"} 1',
      '{"alias":"default","le":"0.25","vendor":"sqlite"} 1',
    ]);
  });

  test('each refused option and each labelMetric problem is one line, once', () => {
    expect(app.stderr()).toBe(STARTUP_LINES.join(''));
  });

  test('a configure() after traffic leaves families with samples as they are, one line each', async () => {
    expect(await (await fetch(app.url('/configure-late'))).text()).toBe('configured');
    await play(app);
    const after = await app.scrape();
    expect(app.stderr()).toBe(
      [
        ...STARTUP_LINES,
        'otel-django-metrics: configure: django_http_requests_total_by_method_total already has samples; its labels and buckets are not changed (call configure() before serving traffic)\n',
        'otel-django-metrics: configure: django_db_query_duration_seconds already has samples; its labels and buckets are not changed (call configure() before serving traffic)\n',
      ].join(''),
    );
    expect(vectorOf(after, 'django_http_requests_total_by_method_total')).toEqual(['{"method":"GET"} 13']);
    expect(vectorOf(after, 'django_db_query_duration_seconds_bucket')).toEqual([
      '{"alias":"default","le":"+Inf","vendor":"sqlite"} 2',
      '{"alias":"default","le":"0.25","vendor":"sqlite"} 2',
    ]);
  });
});

describe('configure() on plain node:http: viewName names requests no framework routed', () => {
  let app: RunningApp;
  let exp: Exposition;
  beforeAll(async () => {
    app = await spawnApp(APP, { env: { PORT: '0', FIXTURE_SERVER: 'node-http' } });
    for (const path of ['/admin/a', '/admin/b', '/other']) await (await fetch(app.url(path))).arrayBuffer();
    exp = await app.scrape();
  });
  afterAll(async () => {
    await app?.stop();
  });

  test('a named request counts as routed; the others stay <unnamed view>', () => {
    expect(vectorOf(exp, 'django_http_requests_total_by_view_transport_method_total')).toEqual(['{"method":"GET","transport":"http","view":"admin:plain"} 2']);
    expect(vectorOf(exp, BY_STATUS_VIEW)).toEqual([
      '{"method":"GET","status":"200","view":"<unnamed view>","view_type":"public"} 1',
      '{"method":"GET","status":"200","view":"admin:plain","view_type":"admin"} 2',
    ]);
  });
});

describe('configure() in the other outputs', () => {
  test('OpenMetrics: the strict parser reads the extra labels', async () => {
    const app = await spawnApp(APP, { env: { PORT: '0' } });
    try {
      await play(app);
      const { text } = await fetchOpenMetrics(`http://127.0.0.1:${app.metricsPort}/metrics`);
      const family = strictFamilies(text).find((f) => f.name === 'django_http_responses_total_by_status_view_method')!;
      const vector = family.samples
        .filter((s) => s.name.endsWith('_total'))
        .map((s) => `${JSON.stringify(Object.fromEntries(Object.entries(s.labels).sort()))} ${s.value}`)
        .sort();
      expect(vector).toEqual(BY_STATUS_VIEW_VECTOR);
    } finally {
      await app.stop();
    }
  });

  let receiver: OtlpReceiver | undefined;
  afterAll(async () => {
    await receiver?.close();
  });

  test('OTLP: the pushed points carry the extra labels as attributes', async () => {
    receiver = await startOtlpReceiver();
    const app = await startPushing(receiver.base, { PORT: '0' }, { script: APP });
    try {
      await play(app);
      const pushed = await pushedAfter(receiver, BY_STATUS_VIEW, Date.now());
      expect(pointsOf(pushed.get(BY_STATUS_VIEW))).toEqual(BY_STATUS_VIEW_VECTOR);
      expect(pointsOf(pushed.get(LATENCY_BY_VIEW))).toEqual(LATENCY_COUNTS);
    } finally {
      await app.stop();
    }
  });

  test('multi-process merge: two processes, their extra-labelled series add up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'odm-configure-'));
    const apps = await Promise.all([0, 1].map(() => spawnApp(APP, { env: { PORT: '0', PROMETHEUS_MULTIPROC_DIR: dir }, timeoutMs: 45_000 })));
    try {
      for (const app of apps) await play(app);
      const doubled = BY_STATUS_VIEW_VECTOR.map((line) => line.replace(/ (\d+)$/, (_, n: string) => ` ${2 * Number(n)}`));
      const deadline = Date.now() + 10_000;
      let merged = await apps[0]!.scrape();
      while (JSON.stringify(vectorOf(merged, BY_STATUS_VIEW)) !== JSON.stringify(doubled) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        merged = await apps[0]!.scrape();
      }
      expect(vectorOf(merged, BY_STATUS_VIEW)).toEqual(doubled);
      expect(vectorOf(merged, 'django_http_ajax_requests_total')).toEqual(['{"tenant":"acme"} 2', '{"tenant":"beta"} 2']);
      expect(vectorOf(merged, 'django_db_query_duration_seconds_bucket')).toEqual([
        '{"alias":"default","le":"+Inf","vendor":"sqlite"} 2',
        '{"alias":"default","le":"0.25","vendor":"sqlite"} 2',
      ]);
    } finally {
      await Promise.all(apps.map((app) => app.stop()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
