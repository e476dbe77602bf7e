// End to end: a real Prometheus (Debian's 2.42) with exemplar storage scrapes the traced app on
// both HTTP paths, negotiating OpenMetrics by itself; requests made under sampled spans are found
// through /api/v1/query_exemplars by the trace ids the app reported for them.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { installed, PROMETHEUS_BIN, startPrometheus, type RunningPrometheus } from '../support/prometheus.js';
import { spawnApp, type RunningApp } from '../support/processes.js';

const available = installed(PROMETHEUS_BIN);
// In CI a missing Prometheus fails the run; locally the suite is skipped.
const required = process.env.CI === 'true';

const APP = 'test/fixtures/openmetrics-traced-app.mjs';
const JOB = 'traced';
const PATHS = { fast: {}, otel: { PROMETHEUS_HTTP_INSTRUMENTATION: 'otel', PROMETHEUS_OTEL_INFO: 'true' } } as const;
type Path = keyof typeof PATHS;

/** The per-view families that carry exemplars, each as the selector of its exemplar series for one target. */
const EXEMPLAR_SERIES = {
  latency: 'django_http_requests_latency_seconds_by_view_method_bucket',
  requests: 'django_http_requests_total_by_view_transport_method_total',
  responses: 'django_http_responses_total_by_status_view_method_total',
} as const;

interface ExemplarSeries {
  seriesLabels: Record<string, string>;
  exemplars: Array<{ labels: Record<string, string>; value: string; timestamp: number }>;
}

describe.skipIf(!available && !required)('exemplars stored by a real Prometheus scraping in OpenMetrics', () => {
  let prometheus: RunningPrometheus;
  const apps = {} as Record<Path, RunningApp>;
  /** The trace and span ids each path's app reported for its sampled requests, in order. */
  const sent: Record<Path, Array<{ traceId: string; spanId: string }>> = { fast: [], otel: [] };
  let start: number;

  /** The exemplars Prometheus holds for `metric` of one path's target and view `/orders/:id`. */
  async function stored(path: Path, metric: string): Promise<ExemplarSeries[]> {
    const query = `${metric}{job="${JOB}",path="${path}",view="/orders/:id"}`;
    return prometheus.api<ExemplarSeries[]>(`/api/v1/query_exemplars?query=${encodeURIComponent(query)}&start=${start}&end=${Date.now() / 1000 + 60}`);
  }

  const traceIds = (series: ExemplarSeries[]) => series.flatMap((s) => s.exemplars.map((e) => e.labels.trace_id));

  beforeAll(async () => {
    start = Math.floor(Date.now() / 1000) - 5;
    for (const path of Object.keys(PATHS) as Path[]) apps[path] = await spawnApp(APP, { env: PATHS[path] });
    prometheus = await startPrometheus({
      jobs: { [JOB]: (Object.keys(PATHS) as Path[]).map((path) => ({ address: `127.0.0.1:${apps[path].metricsPort}`, labels: { path } })) },
      flags: ['--enable-feature=exemplar-storage'],
    });
    // One sampled request at a time, each seen by a scrape before the next replaces its exemplars.
    for (let i = 1; i <= 3; i++) {
      for (const path of Object.keys(PATHS) as Path[]) {
        // On the otel path the span active when the response ends is instrumentation-http's server span.
        const res = await fetch(apps[path].url(path === 'fast' ? `/orders/${i}?span=own` : `/orders/${i}`));
        const answer = (await res.json()) as { traceId: string; spanId: string; sampled: boolean };
        expect(answer.sampled).toBe(true);
        sent[path].push({ traceId: answer.traceId, spanId: answer.spanId });
        await prometheus.waitFor(`${path} request ${i}'s exemplar`, async () => traceIds(await stored(path, EXEMPLAR_SERIES.requests)).includes(answer.traceId));
      }
    }
  }, 120_000);

  afterAll(async () => {
    await prometheus?.stop();
    await Promise.all(Object.values(apps).map((app) => app.stop()));
  });

  test(`${PROMETHEUS_BIN} is installed (Debian's prometheus package)`, () => {
    expect(available).toBe(true);
  });

  test('both targets are up, parsed as OpenMetrics: counter metadata under the family name without _total, the target info family accepted', async () => {
    expect((await prometheus.query(`up{job="${JOB}"}`)).map((s) => [s.metric.path, s.value]).sort()).toEqual([
      ['fast', 1],
      ['otel', 1],
    ]);
    const metadata = await prometheus.api<Record<string, Array<{ type: string }>>>('/api/v1/metadata?metric=django_http_requests_before_middlewares');
    expect(metadata.django_http_requests_before_middlewares?.[0]?.type).toBe('counter');
    expect((await prometheus.query(`target_info{job="${JOB}"}`)).map((s) => [s.metric.path, s.value])).toEqual([['otel', 1]]);
    expect((await prometheus.query(`sum(django_http_requests_total_by_view_transport_method_total{job="${JOB}",view="/orders/:id"}) by (path)`)).map((s) => s.value)).toEqual([3, 3]);
  });

  test.each(Object.keys(PATHS) as Path[])('%s path: every sampled request is an exemplar of the per-view request and response counters, in order, with its span id and the value 1', async (path) => {
    for (const metric of [EXEMPLAR_SERIES.requests, EXEMPLAR_SERIES.responses]) {
      const series = await stored(path, metric);
      expect(series, metric).toHaveLength(1);
      const exemplars = series[0]!.exemplars;
      expect(exemplars.map((e) => ({ traceId: e.labels.trace_id, spanId: e.labels.span_id })), metric).toEqual(sent[path]);
      expect(exemplars.map((e) => Number(e.value)), metric).toEqual([1, 1, 1]);
      for (const e of exemplars) expect(e.timestamp).toBeGreaterThanOrEqual(start);
    }
  });

  test.each(Object.keys(PATHS) as Path[])('%s path: each sampled request is an exemplar of the latency bucket its duration fell in', async (path) => {
    const buckets = await stored(path, EXEMPLAR_SERIES.latency);
    expect(traceIds(buckets).sort()).toEqual(sent[path].map((s) => s.traceId).sort());
    for (const bucket of buckets) {
      for (const e of bucket.exemplars) {
        expect(Number(e.value)).toBeGreaterThan(0);
        expect(Number(e.value)).toBeLessThanOrEqual(Number(bucket.seriesLabels.le!.replace('+Inf', 'Infinity')));
      }
    }
  });
});
