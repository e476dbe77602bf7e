// Exemplars from real requests under real tracing: the traced express fixture under the preload, on
// the fast path (spans the handler starts; server spans of the app's own instrumentation-http) and
// on the otel path (the preload's instrumentation-http server spans), scraped in OpenMetrics and
// read by the strict parser; the Prometheus text of the same app carries none.
import { afterAll, describe, expect, test } from 'vitest';
import { exemplarsOf, fetchOpenMetrics, strictFamilies, strictParserInstalled, type OpenMetricsFamily, type OpenMetricsSample } from '../support/openmetrics-parser.js';
import { spawnApp, type RunningApp } from '../support/processes.js';

const APP = 'test/fixtures/openmetrics-traced-app.mjs';
const OPENMETRICS_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
const LATENCY = 'django_http_requests_latency_seconds_by_view_method_bucket';
const LATENCY_ALL = 'django_http_requests_latency_including_middlewares_seconds_bucket';
const REQUESTS = 'django_http_requests_total_by_view_transport_method_total';
const RESPONSES = 'django_http_responses_total_by_status_view_method_total';
const ORDERS = '/orders/:id';

const required = process.env.CI === 'true';
const available = strictParserInstalled();

/** What the fixture answers: the span active when it ended the response. */
interface Answer {
  traceId?: string;
  spanId?: string;
  sampled?: boolean;
}

const apps: RunningApp[] = [];
afterAll(() => Promise.all(apps.map((app) => app.stop())));

async function start(env: Record<string, string> = {}): Promise<RunningApp> {
  const app = await spawnApp(APP, { env });
  apps.push(app);
  return app;
}

async function get(app: RunningApp, path: string): Promise<Answer> {
  const res = await fetch(app.url(path));
  expect(res.status, path).toBe(200);
  return (await res.json()) as Answer;
}

async function scrapeOpenMetrics(app: RunningApp): Promise<OpenMetricsFamily[]> {
  const { contentType, text } = await fetchOpenMetrics(`http://127.0.0.1:${app.metricsPort}/metrics`);
  expect(contentType).toBe(OPENMETRICS_TYPE);
  return strictFamilies(text);
}

/** The exemplars of `sample` on the series whose labels include `labels`. */
function exemplars(families: OpenMetricsFamily[], sample: string, labels: Record<string, string> = {}): OpenMetricsSample[] {
  return exemplarsOf(families, sample).filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

const ids = (s: OpenMetricsSample) => s.exemplar!.labels;
const expected = (a: Answer) => ({ trace_id: a.traceId, span_id: a.spanId });

/** Each bucket's exemplar lies within its bucket: above the bound below, at most its own. */
function withinBuckets(family: OpenMetricsFamily | undefined, traced: OpenMetricsSample[]): void {
  for (const s of traced) {
    const series = family!.samples.filter((b) => b.name === s.name && b.labels.view === s.labels.view && b.labels.method === s.labels.method);
    const at = series.indexOf(series.find((b) => b.labels.le === s.labels.le)!);
    const below = at === 0 ? -Infinity : Number(series[at - 1]!.labels.le);
    expect(s.exemplar!.value).toBeGreaterThan(below);
    expect(s.exemplar!.value).toBeLessThanOrEqual(Number(s.labels.le!.replace('+Inf', 'Infinity')));
  }
}

describe.skipIf(!available && !required)('exemplars of sampled requests in OpenMetrics', { timeout: 60_000 }, () => {
  test('/usr/bin/python3 has prometheus_client (required under CI=true)', () => {
    expect(available).toBe(true);
  });

  test("fast path, spans the app's handler starts: the latest sampled request's ids on the per-view latency bucket, the overall latency and both per-view counters; unsampled and untraced requests change nothing", async () => {
    const app = await start();
    const before = Date.now() / 1000;
    const first = await get(app, '/orders/1?span=own');
    expect(first.sampled).toBe(true);
    expect(await get(app, '/orders/2')).toEqual({});
    expect((await get(app, '/unsampled/3')).sampled).toBe(false);
    const after = Date.now() / 1000;

    let families = await scrapeOpenMetrics(app);
    const latency = exemplars(families, LATENCY, { view: ORDERS });
    expect(latency.map(ids)).toEqual([expected(first)]);
    withinBuckets(
      families.find((f) => f.name === 'django_http_requests_latency_seconds_by_view_method'),
      latency,
    );
    expect(latency[0]!.exemplar!.timestamp).toBeGreaterThanOrEqual(Math.floor(before));
    expect(latency[0]!.exemplar!.timestamp).toBeLessThanOrEqual(after);
    expect(exemplars(families, LATENCY_ALL).map(ids)).toEqual([expected(first)]);
    for (const counter of [REQUESTS, RESPONSES]) {
      expect(exemplars(families, counter).map((s) => [s.labels.view, ids(s), s.exemplar!.value]), counter).toEqual([[ORDERS, expected(first), 1]]);
    }
    expect(exemplars(families, LATENCY, { view: '/unsampled/:id' })).toEqual([]);

    // The latest sampled request wins its series' exemplars.
    const second = await get(app, '/orders/4?span=own');
    families = await scrapeOpenMetrics(app);
    for (const counter of [REQUESTS, RESPONSES]) expect(exemplars(families, counter).map(ids), counter).toEqual([expected(second)]);
    expect(exemplars(families, LATENCY_ALL).map(ids)).toContainEqual(expected(second));
  });

  test.each([
    ["fast path with the app's own instrumentation-http", { FIXTURE_HTTP_INSTRUMENTATION: '1' }],
    ['otel path (PROMETHEUS_HTTP_INSTRUMENTATION=otel)', { PROMETHEUS_HTTP_INSTRUMENTATION: 'otel' }],
  ])("%s: instrumentation-http's server span, on the dedicated port and through the in-app handler", async (_path, env) => {
    const app = await start(env);
    const answer = await get(app, '/orders/1');
    expect(answer.sampled).toBe(true);
    const families = await scrapeOpenMetrics(app);
    for (const sample of [LATENCY, LATENCY_ALL, REQUESTS, RESPONSES]) expect(exemplars(families, sample).map(ids), sample).toEqual([expected(answer)]);

    const inApp = await fetchOpenMetrics(app.url('/metrics'));
    expect(inApp.contentType).toBe(OPENMETRICS_TYPE);
    expect(exemplars(strictFamilies(inApp.text), REQUESTS, { view: ORDERS }).map(ids)).toEqual([expected(answer)]);
  });

  test('the Prometheus 0.0.4 text of the same app carries no exemplar, on the dedicated port and in-app', async () => {
    const app = await start();
    await get(app, '/orders/1?span=own');
    for (const url of [`http://127.0.0.1:${app.metricsPort}/metrics`, app.url('/metrics')]) {
      const res = await fetch(url);
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
      const text = await res.text();
      expect(text).toContain(`${REQUESTS}{method="GET",transport="http",view="${ORDERS}"} 1.0\n`);
      expect(text).not.toContain('trace_id');
      expect(text).not.toContain('# EOF');
    }
  });
});
