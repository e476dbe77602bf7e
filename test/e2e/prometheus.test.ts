// End to end: a real Prometheus scrapes the example apps (single process, two instances of one
// job, node:cluster aggregated and per-worker) after known traffic; what a Django team's
// dashboards and alerts ask of it is asserted through its HTTP API.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  MULTI_PROCESS_REQUESTS,
  CUSTOM_BUCKETS,
  RESPONSES,
  SELECTION,
  SLOW_MS,
  pass,
  startE2eEnvironment,
  type E2eEnvironment,
} from '../support/e2e-environment.js';
import { installed, PROMETHEUS_BIN, type Sample } from '../support/prometheus.js';
import { isParityFinding, metricFindings } from '../support/promtool.js';
import { MIXIN_ALERTS, MIXIN_EMPTY_HERE, mixinQueries } from './django-mixin.js';
import { dashboardSuite } from './dashboards-suite.js';

const available = installed(PROMETHEUS_BIN);
// In CI a missing Prometheus fails the run; locally the suite is skipped.
const required = process.env.CI === 'true';

const IGN = '<unnamed view>|health_check:health_check_home|prometheus-django-metrics';

/** `samples` as `{ <label values joined by |>: value }`, for exact comparisons. */
function byLabels(samples: Sample[], ...labels: string[]): Record<string, number> {
  return Object.fromEntries(samples.map((s) => [labels.map((l) => s.metric[l] ?? '').join('|'), s.value]));
}

/** How many requests of `passes` passes each (view, and more keys) should count. */
function expectedCounts(passes: number, key: (r: ReturnType<typeof pass>[number]) => string | undefined): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of pass(0)) {
    const k = key(r);
    if (k !== undefined) counts[k] = (counts[k] ?? 0) + passes;
  }
  return counts;
}

/** `key` for a request a route matched; undefined for an unmatched one. */
const routed = (key: string) => (key.startsWith('<unnamed view>') ? undefined : key);

describe.skipIf(!available && !required)('a real Prometheus scraping the examples (job django)', () => {
  let env: E2eEnvironment;
  let counted: string; // instance matcher of the two counted examples
  let totalPasses: number;

  beforeAll(async () => {
    env = await startE2eEnvironment();
    counted = env.counted.map((c) => c.instance).join('|');
    totalPasses = env.counted.reduce((n, c) => n + c.passes, 0);
  }, 120_000);
  afterAll(async () => {
    await env?.stop();
  }, 60_000);

  const q = (expr: string) => env.prometheus.query(expr);

  test(`${PROMETHEUS_BIN} is installed (Debian's prometheus package)`, () => {
    expect(available).toBe(true);
  });

  describe('scrapes and counts', () => {
    test('up == 1 for every target that serves, 0 for the one where nothing listens', async () => {
      const up = byLabels(await q('up{job="django"}'), 'namespace');
      expect(await q('up{job="django", namespace!="gone"} != 1')).toEqual([]);
      expect(up.gone).toBe(0);
      expect(byLabels(await q('count by (namespace)(up{job="django"} == 1)'), 'namespace')).toEqual({
        shop: 3,
        prefixed: 1,
        billing: 1,
        workers: 1,
        'workers-range': 3,
        multiproc: 1,
      });
    });

    test('sum by (view) over the two instances of the job equals the traffic sent to both', async () => {
      // Like Django's process_view, the per-view request counter counts requests a route matched.
      const byView = byLabels(await q(`sum by (view)(django_http_requests_total_by_view_transport_method_total{instance=~"${counted}"})`), 'view');
      expect(byView).toEqual(expectedCounts(totalPasses, (r) => routed(r.view)));
      const byStatus = byLabels(await q(`sum by (view, method, status)(${RESPONSES}{instance=~"${counted}"})`), 'view', 'method', 'status');
      expect(byStatus).toEqual(expectedCounts(totalPasses, (r) => `${r.view}|${r.responseMethod}|${r.status}`));
      for (const c of env.counted) {
        const [own] = await q(`sum(${RESPONSES}{instance="${c.instance}"})`);
        expect(own!.value).toBe(c.passes * pass(0).length);
      }
    });

    test('request rate by view and method: every (view, method) of the traffic has a rate', async () => {
      const rates = byLabels(await q(`sum by (view, method)(rate(django_http_requests_total_by_view_transport_method_total{namespace="shop"}[1m])) > 0`), 'view', 'method');
      expect(Object.keys(rates).sort()).toEqual(Object.keys(expectedCounts(1, (r) => routed(`${r.view}|${r.responseMethod}`))).sort());
    });

    test(`histogram_quantile(0.99) of a ${SLOW_MS} ms view falls in its bucket (0.1, 0.25]`, async () => {
      const [p99] = await q(`histogram_quantile(0.99, sum by (le)(rate(django_http_requests_latency_seconds_by_view_method_bucket{view="/api/slow", instance=~"${counted}"}[5m])))`);
      expect(p99!.value).toBeGreaterThan(0.1);
      expect(p99!.value).toBeLessThanOrEqual(0.25);
      const [fast] = await q(`histogram_quantile(0.5, sum by (le)(rate(django_http_requests_latency_seconds_by_view_method_bucket{view="health_check:health_check_home", instance=~"${counted}"}[5m])))`);
      expect(fast!.value).toBeLessThanOrEqual(0.01);
    });

    test('the cache hit ratio follows the reads: a miss for the first read of each item and for every unknown item', async () => {
      // Per instance and pass: 9 reads of /api/items/:id. Misses: items 1, 2 and 3 once, item 42 twice a pass.
      const reads = 9 * totalPasses;
      const misses = 3 * env.counted.length + 2 * totalPasses;
      const [hits, gets, missed] = await Promise.all(
        ['django_cache_get_hits_total', 'django_cache_get_total', 'django_cache_get_misses_total'].map(async (name) =>
          byLabels(await q(`sum by (backend)(${name}{instance=~"${counted}"})`), 'backend'),
        ),
      );
      expect(gets).toEqual({ redis: reads });
      expect(missed).toEqual({ redis: misses });
      expect(hits).toEqual({ redis: reads - misses });
      const [ratio] = await q(`sum(django_cache_get_hits_total{instance=~"${counted}"}) / sum(django_cache_get_total{instance=~"${counted}"})`);
      expect(ratio!.value).toBeCloseTo((reads - misses) / reads, 10);
      expect(await q(`django_cache_get_fail_total{namespace="shop"} != 0`)).toEqual([]);
    });

    test('DB queries by vendor, and errors by type: one IntegrityError per pass', async () => {
      expect(byLabels(await q(`sum by (type)(django_db_errors_total{instance=~"${counted}"})`), 'type')).toEqual({ IntegrityError: totalPasses });
      const queries = byLabels(await q(`sum by (vendor, alias)(rate(django_db_execute_total{namespace="shop"}[1m])) > 0`), 'vendor', 'alias');
      expect(Object.keys(queries)).toEqual(['postgresql|default']);
      expect(byLabels(await q(`sum by (vendor)(django_db_new_connections_total{instance=~"${counted}"}) > 0`), 'vendor')).toHaveProperty('postgresql');
    });

    test('model counters: each pass inserts twice (one refused by the database), updates and deletes once', async () => {
      for (const c of env.counted) {
        const sel = `{instance="${c.instance}", model="item"}`;
        const [inserts, updates, deletes] = await Promise.all(['inserts', 'updates', 'deletes'].map((op) => q(`django_model_${op}_total${sel}`)));
        expect([inserts![0]!.value, updates![0]!.value, deletes![0]!.value]).toEqual([2 * c.passes, c.passes, c.passes]);
      }
    });

    test('migration gauges: the examples applied all 3; the billing app 1 of 3', async () => {
      const gauge = async (name: string) => byLabels(await q(`${name}{job="django"}`), 'namespace', 'connection');
      const applied = await gauge('django_migrations_applied_total');
      const unapplied = await gauge('django_migrations_unapplied_total');
      expect({ applied, unapplied }).toEqual({
        applied: { 'shop|default': 3, 'billing|default': 1 },
        unapplied: { 'shop|default': 0, 'billing|default': 2 },
      });
    });

    test('runtime families: version info, CPU, memory, heap, event loop and GC of every Node process', async () => {
      const versions = await q(`nodejs_version_info{namespace="shop"}`);
      expect(versions.map((s) => [s.metric.version, s.value])).toEqual([
        [process.version, 1],
        [process.version, 1],
        [process.version, 1],
      ]);
      for (const expr of [
        'rate(process_cpu_seconds_total{namespace="shop"}[1m]) > 0',
        'process_resident_memory_bytes{namespace="shop"} > 10e6',
        'nodejs_heap_size_used_bytes{namespace="shop"} > 0',
        'nodejs_eventloop_lag_p99_seconds{namespace="shop"} >= 0',
        'time() - process_start_time_seconds{namespace="shop"} < 600',
        'sum by (instance)(nodejs_gc_duration_seconds_count{namespace="shop"}) > 0',
        'nodejs_active_handles_total{namespace="shop"} > 0',
      ]) {
        expect((await q(expr)).length, expr).toBe(3);
      }
    });

    test('node:cluster, one aggregated port: one target whose totals are every worker requests', async () => {
      const [total] = await q(`sum(${RESPONSES}{namespace="workers"})`);
      expect(total!.value).toBe(MULTI_PROCESS_REQUESTS.workers);
      expect((await q(`count by (instance)(${RESPONSES}{namespace="workers"})`)).length).toBe(1);
    });

    test('node:cluster, one port per process: the targets sum to the traffic, each worker its own share', async () => {
      const perInstance = byLabels(await q(`sum by (instance)(django_http_requests_before_middlewares_total{namespace="workers-range"})`), 'instance');
      // The primary serves no requests: its own port exposes none.
      const shares = Object.values(perInstance).filter((v) => v > 0);
      expect(shares.length).toBe(2);
      expect(shares.reduce((a, b) => a + b, 0)).toBe(MULTI_PROCESS_REQUESTS['workers-range']);
    });

    test('PROMETHEUS_MULTIPROC_DIR: one scraped process of two serves the requests of both', async () => {
      const [total] = await q(`sum(django_http_requests_before_middlewares_total{namespace="multiproc"})`);
      expect(total!.value).toBe(MULTI_PROCESS_REQUESTS.multiproc);
    });
  });

  describe('promtool check metrics on what each target exposes', () => {
    test('only the documented parity names, whatever the shape', async () => {
      const targets = [...env.counted.map((c) => c.app), env.live, env.prefixed, env.pending];
      for (const app of targets) {
        const text = await (await fetch(`http://127.0.0.1:${app.metricsPort}/metrics`)).text();
        expect(metricFindings(text).filter((line) => !isParityFinding(line)), `port ${app.metricsPort}`).toEqual([]);
      }
      for (const instance of Object.values(env.multiProcess).flatMap((t) => t.instances)) {
        const text = await (await fetch(`http://${instance}/metrics`)).text();
        expect(metricFindings(text).filter((line) => !isParityFinding(line)), instance).toEqual([]);
      }
    });
  });

  describe("the django-mixin's dashboards and alerts, unchanged", () => {
    const selection = () => ({ ...SELECTION, view: '.*', method: '.*' });

    // irate() and `> 0` read the last two samples: on a loaded machine the trickle may leave one
    // scrape interval without a database query, so the check is repeated for a while.
    test('every panel query returns data, except the panels this traffic cannot fill', async () => {
      const expected = Object.keys(MIXIN_EMPTY_HERE).sort();
      let empty: string[] = [];
      await env.prometheus
        .waitFor('the expected panels with data', async () => {
          empty = [];
          for (const query of mixinQueries(selection())) {
            if ((await q(query.expr)).length === 0) empty.push(`${query.dashboard}: ${query.panel}`);
          }
          return JSON.stringify(empty.sort()) === JSON.stringify(expected);
        }, 20_000)
        .catch(() => {});
      expect(empty).toEqual(expected);
    });

    test('the By View dashboard with one view selected', async () => {
      const queries = mixinQueries({ ...selection(), view: '/api/items/:id' }).filter((x) => x.dashboard === 'Django / Requests / By View');
      for (const query of queries) {
        if (`${query.dashboard}: ${query.panel}` in MIXIN_EMPTY_HERE) continue;
        expect((await q(query.expr)).length, query.panel).toBeGreaterThan(0);
      }
    });

    test('the variable chains: cluster, namespace, job, view and method values', async () => {
      const resp = (m: string) => `${RESPONSES}{${m}}`;
      expect(await env.prometheus.labelValues('cluster', resp(''))).toEqual(['ci']);
      expect(await env.prometheus.labelValues('namespace', resp('cluster="ci"'))).toEqual(['multiproc', 'shop', 'workers', 'workers-range']);
      expect(await env.prometheus.labelValues('job', resp('cluster="ci", namespace="shop"'))).toEqual(['django']);
      const views = await env.prometheus.labelValues('view', resp(`cluster="ci", namespace="shop", job=~"django", view!~"${IGN}"`));
      expect(views).toEqual([...new Set(pass(0).map((r) => r.view))].filter((v) => !new RegExp(`^(?:${IGN})$`).test(v)).sort());
      const methods = await env.prometheus.labelValues('method', resp('cluster="ci", namespace="shop", job=~"django", view=~".*"'));
      expect(methods).toEqual(['<invalid method>', 'DELETE', 'GET', 'PATCH', 'POST']);
      expect(await env.prometheus.labelValues('model', 'django_model_inserts_total{cluster="ci", namespace="shop"}')).toEqual(['item']);
    });

    test('its alerts: unapplied migrations, the IntegrityError, and 4xx/5xx per view fire; nothing else', async () => {
      const fired: Record<string, string[]> = {};
      for (const [name, expr] of Object.entries(MIXIN_ALERTS)) {
        fired[name] = (await q(expr)).map((s) => [s.metric.namespace, s.metric.view ?? s.metric.type ?? ''].join(' ')).sort();
      }
      expect(fired).toEqual({
        DjangoMigrationsUnapplied: ['billing '],
        DjangoDatabaseException: ['shop IntegrityError'],
        // /api/items/:id: 2 404s of 11 requests per pass; the unmatched PURGE is <unnamed view>, ignored.
        DjangoHighHttp4xxErrorRate: ['shop /api/items/:id'],
        DjangoHighHttp5xxErrorRate: ['shop /api/boom', 'shop /api/items'],
      });
    });
  });

  describe('pitfalls', () => {
    test('a namespace prefix empties every django-mixin query; the prefixed names hold the data', async () => {
      const prefixed = { ...SELECTION, namespace: 'prefixed', view: '.*', method: '.*' };
      for (const query of mixinQueries(prefixed)) expect(await q(query.expr), query.panel).toEqual([]);
      const [total] = await q(`sum(shop_django_http_responses_total_by_status_view_method_total{namespace="prefixed"})`);
      expect(total!.value).toBeGreaterThan(0);
    });

    test("bucket bounds: every target of the job exposes Django's `le` text, so sums across targets do not split", async () => {
      const le = (ns: string, name = 'django_http_requests_latency_seconds_by_view_method_bucket') => env.prometheus.labelValues('le', `${name}{namespace="${ns}"}`);
      const djangoText = ['0.01', '0.025', '0.05', '0.075', '0.1', '0.25', '0.5', '0.75', '1.0', '2.5', '5.0', '7.5', '10.0', '25.0', '50.0', '75.0', '+Inf'];
      expect((await le('shop')).sort()).toEqual([...djangoText].sort());
      expect((await le('shop', 'django_db_query_duration_seconds_bucket')).sort()).toEqual([...djangoText].sort());
      const custom = [...CUSTOM_BUCKETS.split(',').map((b) => (Number.isInteger(Number(b)) ? `${b}.0` : b)), '+Inf'];
      expect((await le('prefixed', 'shop_django_http_requests_latency_seconds_by_view_method_bucket')).sort()).toEqual(custom.sort());
    });

    test('the latency histogram keeps the raw method: <invalid method> selects no latency series', async () => {
      const sel = `namespace="shop", instance=~"${counted}"`;
      expect(await q(`django_http_requests_latency_seconds_by_view_method_count{${sel}, method="<invalid method>"}`)).toEqual([]);
      expect((await q(`sum(django_http_requests_latency_seconds_by_view_method_count{${sel}, method="PURGE"})`))[0]!.value).toBe(totalPasses);
      expect((await q(`sum(${RESPONSES}{${sel}, method="<invalid method>"})`))[0]!.value).toBe(totalPasses);
    });

    test("Prometheus's own scrapes of the dedicated port count nowhere; only in-app /metrics requests are prometheus-django-metrics", async () => {
      for (const c of env.counted) {
        const [scrapes] = await q(`count_over_time(up{instance="${c.instance}"}[10m])`);
        expect(scrapes!.value).toBeGreaterThan(5);
        const [own] = await q(`sum(django_http_requests_before_middlewares_total{instance="${c.instance}"})`);
        expect(own!.value).toBe(c.passes * pass(0).length);
        const [inApp] = await q(`sum(${RESPONSES}{instance="${c.instance}", view="prometheus-django-metrics"})`);
        expect(inApp!.value).toBe(c.passes);
      }
    });

    test('OpenTelemetry defaults stay off: no target_info, no otel_scope_* labels, no overflow series', async () => {
      expect(await q('target_info')).toEqual([]);
      expect(await q('count({job="django", otel_scope_name!=""})')).toEqual([]);
      expect(await q('count({job="django", otel_metric_overflow!=""})')).toEqual([]);
    });
  });

  describe('our alert rules (examples/prometheus/alerts.yaml), loaded with every `for:` cut to 0s', () => {
    test('the traffic fires the ones it should, on the right labels, and no other', async () => {
      const expected = {
        DjangoTargetDown: ['gone'],
        DjangoHttp4xxRateHigh: ['shop /api/items/:id'],
        DjangoHttp5xxRateHigh: ['shop /api/boom', 'shop /api/items'],
        DjangoDatabaseErrors: ['shop IntegrityError'],
        DjangoMigrationsUnapplied: ['billing'],
      };
      const firing = async () => {
        const out: Record<string, string[]> = {};
        for (const a of await env.prometheus.alerts()) {
          if (a.state !== 'firing') continue;
          const l = a.labels;
          (out[l.alertname!] ??= []).push([l.namespace, l.view ?? l.type].filter(Boolean).join(' '));
        }
        for (const list of Object.values(out)) list.sort();
        return out;
      };
      let last: Record<string, string[]> = {};
      await env.prometheus
        .waitFor('the expected alerts firing', async () => {
          last = await firing();
          return Object.entries(expected).every(([name, on]) => JSON.stringify(last[name]) === JSON.stringify(on));
        }, 20_000)
        .catch(() => {});
      expect(Object.fromEntries(Object.entries(last).sort())).toEqual(Object.fromEntries(Object.entries(expected).sort()));
    });
  });

  dashboardSuite(() => env);
});
