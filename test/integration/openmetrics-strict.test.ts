import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { get as clusterGet, startCluster, traffic } from '../fixtures/cluster-harness.js';
import { MYSQL, PG, reachable } from '../fixtures/db-services.mjs';
import { scratchDatabase, startExample } from '../support/example-app.js';
import { parseExposition, valueOf } from '../support/exposition.js';
import { serverEnv } from '../support/migration-runs.js';
import { fetchOpenMetrics, strictFamilies, strictParserInstalled, type OpenMetricsFamily } from '../support/openmetrics-parser.js';
import { freePort, spawnApp, type SpawnOptions } from '../support/processes.js';

// prometheus_client's strict OpenMetrics parser on every exposition shape the package writes, each
// negotiated by a real app under the preload after traffic that gives its families samples: every
// text must parse, and on the dedicated port its series must be the Prometheus text's series.

const OPENMETRICS_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';
const REDIS_PORT = 6379;
const MEMCACHED_PORT = 11211;
const required = process.env.CI === 'true';
const present = {
  parser: strictParserInstalled(),
  postgresql: await reachable(PG.port, PG.host),
  mariadb: await reachable(MYSQL.port, MYSQL.host),
  redis: await reachable(REDIS_PORT),
  memcached: await reachable(MEMCACHED_PORT),
};
const available = Object.values(present).every(Boolean);

const stops: Array<() => unknown> = [];
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

async function started<T extends { stop(): Promise<unknown> }>(start: Promise<T>): Promise<T> {
  const thing = await start;
  stops.push(() => thing.stop());
  return thing;
}

/** Each `[path, init?]` requested in order, each answered (any status). */
async function requests(base: string, ...calls: Array<string | [string, RequestInit]>): Promise<void> {
  for (const call of calls) {
    const [path, init] = typeof call === 'string' ? [call, undefined] : call;
    await (await fetch(`${base}${path}`, init)).arrayBuffer();
  }
}

/** One OpenMetrics scrape of `url` (any Accept-Encoding given, else fetch's gzip), strictly parsed. */
async function strict(url: string, headers: Record<string, string> = {}): Promise<OpenMetricsFamily[]> {
  const { contentType, text } = await fetchOpenMetrics(url, headers);
  expect(contentType).toBe(OPENMETRICS_TYPE);
  expect(text.endsWith('\n# EOF\n')).toBe(true);
  return strictFamilies(text);
}

/** Each catalog series (`django_*`) as `name{labels}`, sorted. */
function djangoSeries(samples: Iterable<{ name: string; labels: Record<string, string> }>): string[] {
  return [...samples]
    .filter((s) => s.name.startsWith('django_') && !s.name.endsWith('_created'))
    .map((s) => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`)
    .sort();
}

/**
 * A dedicated port, never counted: its OpenMetrics scrape parses strictly and holds the catalog
 * series of its Prometheus text scrape, sample for sample. Returns the families.
 */
async function sameSeries(metricsPort: number): Promise<OpenMetricsFamily[]> {
  const url = `http://127.0.0.1:${metricsPort}/metrics`;
  const families = await strict(url);
  const text = parseExposition(await (await fetch(url)).text());
  expect(djangoSeries(families.flatMap((f) => f.samples))).toEqual(djangoSeries(text.samples));
  return families;
}

const familyType = (families: OpenMetricsFamily[], name: string) => families.find((f) => f.name === name)?.type;

async function scrapeUntil(metricsPort: number, ready: (text: string) => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!ready(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text())) {
    if (Date.now() > deadline) throw new Error('the scrape never became ready');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A fixture that prints `ready` once its steps ran. */
const stepsFixture = (script: string, env: SpawnOptions['env']) => started(spawnApp(script, { readyText: 'ready', timeoutMs: 25_000, env }));

const json = (method: string, body: unknown): RequestInit => ({ method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** The express example's routes, every outcome: render, redirect, hits and misses, 4xx, 5xx, a DB error, AJAX, a sanitized method. */
const EXAMPLE_TRAFFIC: Array<string | [string, RequestInit]> = [
  '/',
  ['/home', { redirect: 'manual' }],
  '/api/items/1',
  ['/api/items/1', { headers: { 'x-requested-with': 'XMLHttpRequest' } }],
  '/api/items/999',
  ['/api/items', json('POST', { id: 600, name: 'desk' })],
  ['/api/items', json('POST', { id: 600, name: 'desk' })],
  ['/api/items/600', { method: 'DELETE' }],
  '/api/slow?ms=10',
  '/api/boom',
  '/no/such/page',
  '/metrics',
  ['/', { method: 'PURGE' }],
];

describe.skipIf(!available && !required)('the strict OpenMetrics parser on every exposition shape', () => {
  test('the parser and the services are there (required under CI=true)', () => {
    expect(present).toEqual({ parser: true, postgresql: true, mariadb: true, redis: true, memcached: true });
  });

  describe.concurrent('shapes', { timeout: 60_000 }, () => {
    test('default settings: the express example (pg, Redis, models, migrations, runtime) on the dedicated port and in-app, plain and gzipped', async () => {
      const app = await started(startExample());
      await requests(app.url(''), ...EXAMPLE_TRAFFIC);
      const families = await sameSeries(app.metricsPort);
      expect(familyType(families, 'django_http_requests_before_middlewares')).toBe('counter');
      expect(familyType(families, 'django_migrations_applied_total')).toBe('gauge');
      expect(familyType(families, 'nodejs_active_handles_total')).toBe('gauge');
      expect(familyType(families, 'process_cpu_seconds')).toBe('counter');
      expect(familyType(families, 'django_db_new_connections')).toBe('counter');
      for (const encoding of ['identity', 'gzip']) {
        const inApp = await strict(app.url('/metrics'), { 'accept-encoding': encoding });
        expect(inApp.some((f) => f.samples.some((s) => s.labels.view === 'prometheus-django-metrics'))).toBe(true);
      }
    });

    test('views and labels the format escapes: a RegExp route, templates, array paths, streaming and errors', async () => {
      const app = await started(spawnApp('test/fixtures/express5-app.mjs'));
      await requests(app.url(''), '/files/7', '/about', '/page', '/download', '/throw', '/missing', '/orgs/acme/teams/core/members', '/admin/stats', ['/cache', { method: 'PURGE' }]);
      const families = await sameSeries(app.metricsPort);
      expect(families.flatMap((f) => f.samples).some((s) => s.labels.view === '/^\\/files\\/(\\d+)$/')).toBe(true);
    });

    test('PROMETHEUS_METRIC_NAMESPACE=shop with PROMETHEUS_LATENCY_BUCKETS=0.005,0.5,5; PROMETHEUS_RUNTIME_METRICS=false', async () => {
      const [namespaced, noRuntime] = await Promise.all([
        started(startExample({ env: { PROMETHEUS_METRIC_NAMESPACE: 'shop', PROMETHEUS_LATENCY_BUCKETS: '0.005,0.5,5' } })),
        started(startExample({ env: { PROMETHEUS_RUNTIME_METRICS: 'false' } })),
      ]);
      await requests(namespaced.url(''), ...EXAMPLE_TRAFFIC);
      await requests(noRuntime.url(''), ...EXAMPLE_TRAFFIC);
      const shop = await strict(`http://127.0.0.1:${namespaced.metricsPort}/metrics`);
      const latency = 'shop_django_http_requests_latency_seconds_by_view_method';
      expect(shop.map((f) => f.name)).toContain(latency);
      const buckets = shop.find((f) => f.name === latency)!.samples;
      expect([...new Set(buckets.filter((s) => s.name.endsWith('_bucket')).map((s) => s.labels.le))]).toEqual(['0.005', '0.5', '5.0', '+Inf']);
      expect(familyType(shop, 'shop_django_migrations_unapplied_total')).toBe('gauge');
      const bare = await sameSeries(noRuntime.metricsPort);
      expect(bare.some((f) => f.name.startsWith('nodejs_'))).toBe(false);
    });

    test("the app's own OpenTelemetry instruments with PROMETHEUS_OTEL_INFO=true (target metadata first), and one created without a description", async () => {
      const [info, undescribed] = await Promise.all([
        started(spawnApp('test/fixtures/promtool-otel-app.mjs', { env: { PROMETHEUS_OTEL_INFO: 'true', OTEL_SERVICE_NAME: 'strict "fixture"' } })),
        started(spawnApp('test/fixtures/promtool-otel-app.mjs', { env: { FIXTURE_UNDESCRIBED: '1' } })),
      ]);
      await requests(info.url(''), `/view?${new URLSearchParams({ name: 'orders "today" C:\\exports\nsecond line' })}`, '/order?payment=card');
      const families = await sameSeries(info.metricsPort);
      expect(families[0]!.name).toBe('target');
      expect(families[0]!.samples[0]!.labels.service_name).toBe('strict "fixture"');
      expect(['shop_orders', 'shop_checkout_duration_seconds', 'shop_queue_depth', 'shop_temperature_celsius', 'shop_signups'].map((n) => familyType(families, n))).toEqual([
        'counter',
        'histogram',
        'gauge',
        'gauge',
        'counter',
      ]);
      expect(families.find((f) => f.name === 'shop_temperature_celsius')!.help).toBe('Room temperature; a HELP with a backslash \\ and a newline\nin it.');
      expect(familyType(await strict(`http://127.0.0.1:${undescribed.metricsPort}/metrics`), 'shop_refunds')).toBe('counter');
    });

    test('mysql2 (every DB family, errors and connection failures) and caches (memcached, node-redis, in-process: hits, misses, failures)', async () => {
      const closed = String(await freePort());
      const [mysql, memcached, redis, inProcess] = await Promise.all([
        stepsFixture('test/fixtures/db-mysql2-app.mjs', { PROMETHEUS_DB_ALIASES: `primary=${MYSQL.host}:${MYSQL.port}/${MYSQL.database}` }),
        started(spawnApp('test/fixtures/cache-memcached-app.mjs', { env: { MEMCACHED_PORT: String(MEMCACHED_PORT), CLOSED_PORT: closed } })),
        started(spawnApp('test/fixtures/cache-node-redis-app.mjs', { env: { REDIS_PORT: String(REDIS_PORT), CLOSED_PORT: closed } })),
        started(spawnApp('test/fixtures/cache-in-process-app.mjs', { env: { REDIS_PORT: String(REDIS_PORT) } })),
      ]);
      const db = await sameSeries(mysql.metricsPort);
      expect(['django_db_new_connection_errors', 'django_db_execute_many', 'django_db_errors'].map((n) => familyType(db, n))).toEqual(['counter', 'counter', 'counter']);
      await requests(memcached.url(''), '/script', '/getMulti', '/invalidKey', '/sessions');
      await requests(redis.url(''), '/script', '/mGet', '/wrongType', '/sessions');
      await requests(inProcess.url(''), '/map', '/lru', '/keyv', '/cacheManager', '/failures');
      for (const app of [memcached, redis, inProcess]) {
        const failures = (await sameSeries(app.metricsPort)).find((f) => f.name === 'django_cache_get_fail')!;
        expect(failures.samples.some((s) => s.value > 0)).toBe(true);
      }
    });

    test('TypeORM models (bulk writes counted) and TypeORM migrations', async () => {
      const [modelsDb, migrationsDb] = await Promise.all([scratchDatabase('odm_om_models'), scratchDatabase('odm_om_migrations')]);
      stops.push(modelsDb.drop, migrationsDb.drop);
      const [models, migrating] = await Promise.all([
        stepsFixture('test/fixtures/models-typeorm-app.mjs', { MODELS_DIALECT: 'postgres', MODELS_DATABASE: modelsDb.name, PROMETHEUS_EXPORT_MODEL_BULK: 'true' }),
        started(
          spawnApp('test/fixtures/migrations-typeorm-app.mjs', {
            env: { ...serverEnv('pg'), MIG_DB: migrationsDb.name, PROMETHEUS_EXPORT_MIGRATIONS: 'true', PROMETHEUS_DB_ALIASES: `mig=${PG.host}:${PG.port}/${migrationsDb.name}` },
          }),
        ),
      ]);
      const written = await sameSeries(models.metricsPort);
      expect(written.find((f) => f.name === 'django_model_inserts')!.samples.some((s) => s.labels.model === 'dog' && s.value > 0)).toBe(true);
      await requests(migrating.url(''), '/create?name=main', '/run?name=main', '/create?name=aliased');
      await scrapeUntil(migrating.metricsPort, (text) => valueOf(parseExposition(text), 'django_migrations_applied_total', { connection: 'mig' }) === 3);
      const gauges = await sameSeries(migrating.metricsPort);
      expect(gauges.find((f) => f.name === 'django_migrations_applied_total')!.samples.find((s) => s.labels.connection === 'mig')!.value).toBe(3);
    });

    test('multi-process merges: node:cluster (dedicated port and a worker\'s in-app handler) and PROMETHEUS_MULTIPROC_DIR', async () => {
      const cluster = await started(startCluster({ workers: 2, env: { CLUSTER_SERVICES: '1' } }));
      for (const path of ['/', '/db', '/cache', '/cache?hit', '/nope']) await traffic(cluster.port, path, 4);
      expect((await clusterGet(cluster.port, '/')).status).toBe(200);
      const merged = await sameSeries(cluster.metricsPort!);
      expect(familyType(merged, 'otel_django_metrics_multiprocess_timeouts')).toBe('counter');
      await strict(`http://127.0.0.1:${cluster.port}/metrics`);

      const dir = mkdtempSync(join(tmpdir(), 'odm-om-multiproc-'));
      stops.push(() => rmSync(dir, { recursive: true, force: true }));
      const [serving, other] = await Promise.all([0, 1].map(() => started(spawnApp('test/fixtures/multiproc-app.mjs', { env: { PROMETHEUS_MULTIPROC_DIR: dir }, timeoutMs: 45_000 }))));
      for (const app of [serving!, other!]) await requests(app.url(''), '/hit', '/hit', '/hit');
      await scrapeUntil(serving!.metricsPort, (text) => valueOf(parseExposition(text), 'django_http_responses_before_middlewares_total') === 6);
      await sameSeries(serving!.metricsPort);
    });

    test("the overflow series: PROMETHEUS_MAX_SERIES_PER_METRIC=2 with 5 views and the app's own counter", async () => {
      const app = await started(spawnApp('test/fixtures/promtool-otel-app.mjs', { env: { PROMETHEUS_MAX_SERIES_PER_METRIC: '2' } }));
      await requests(app.url(''), ...[0, 1, 2, 3, 4].map((i) => `/view?name=v${i}`), '/order?payment=card', '/order?payment=cash');
      const families = await sameSeries(app.metricsPort);
      expect(families.flatMap((f) => f.samples).filter((s) => s.labels.otel_metric_overflow === 'true').map((s) => s.name)).toContain('shop_orders_total');
    });

    test('with exemplars: the traced app on both HTTP paths', async () => {
      const apps = await Promise.all([{}, { PROMETHEUS_HTTP_INSTRUMENTATION: 'otel' }].map((env) => started(spawnApp('test/fixtures/openmetrics-traced-app.mjs', { env }))));
      for (const app of apps) {
        await requests(app.url(''), '/orders/1?span=own', '/orders/2', '/unsampled/3', '/metrics');
        const families = await sameSeries(app.metricsPort);
        expect(families.flatMap((f) => f.samples).filter((s) => s.exemplar !== null).length).toBeGreaterThanOrEqual(4);
        await strict(app.url('/metrics'));
      }
    });
  });
});
