import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, test } from 'vitest';
import { startCluster, get, traffic } from '../fixtures/cluster-harness.js';
import { runFixtureModes } from '../fixtures/db-runs.js';
import { MYSQL, PG, reachable } from '../fixtures/db-services.mjs';
import { scratchDatabase, startExample, type RunningExample } from '../support/example-app.js';
import { valueOf, type Exposition } from '../support/exposition.js';
import { serverEnv } from '../support/migration-runs.js';
import { freePort, spawnApp, type RunningApp, type SpawnOptions } from '../support/processes.js';
import { installed, PROMTOOL_BIN } from '../support/prometheus.js';
import { metricFindings, PARITY_FINDING, PARITY_FINDINGS } from '../support/promtool.js';

// `promtool check metrics` (Prometheus's own linter) on every exposition shape the package
// produces, each from a real app under the preload after traffic that gives its families samples.
// The only findings allowed are the names kept for parity with what dashboards query.

// The names kept for parity (PARITY_FINDINGS has each one's reason), by the setting that shows them.
const PARITY = {
  migrations: Object.keys(PARITY_FINDINGS).filter((name) => name.startsWith('django_migrations_')),
  runtime: Object.keys(PARITY_FINDINGS).filter((name) => name.startsWith('nodejs_')),
};

/** promtool's finding for each of these parity names, in its order (by name). */
function parity(...names: string[]): string[] {
  return names.map((name) => `${name} ${PARITY_FINDING}`).sort();
}

const OTEL_APP = 'test/fixtures/promtool-otel-app.mjs';
/** A view name with every character the text format escapes. */
const AWKWARD_VIEW = 'orders "today" C:\\exports\nsecond line';
const TIMEOUTS = 'otel_django_metrics_multiprocess_timeouts_total';
const REDIS_PORT = 6379;
const MEMCACHED_PORT = 11211;
const required = process.env.CI === 'true';
const present = {
  promtool: installed(PROMTOOL_BIN),
  postgresql: await reachable(PG.port, PG.host),
  mariadb: await reachable(MYSQL.port, MYSQL.host),
  redis: await reachable(REDIS_PORT),
  memcached: await reachable(MEMCACHED_PORT),
};
const available = Object.values(present).every(Boolean);

const running = new Set<{ stop(): Promise<unknown> }>();
/** What to remove once every process stopped (databases, state directories). */
const cleanups: Array<() => unknown> = [];
/** Starts something stopped after the file, whatever the test's outcome. */
async function started<T extends { stop(): Promise<unknown> }>(start: Promise<T>): Promise<T> {
  const thing = await start;
  running.add(thing);
  return thing;
}
afterAll(async () => {
  await Promise.all([...running].map((thing) => thing.stop()));
  for (const cleanup of cleanups) await cleanup();
});

async function send(app: RunningApp, path: string, init?: RequestInit): Promise<number> {
  const res = await fetch(app.url(path), init);
  await res.arrayBuffer();
  return res.status;
}

const json = (method: string, body: unknown): RequestInit => ({ method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/**
 * Every route of the express example, each outcome as it must be: a page render (template), a
 * redirect, cache misses and hits, a 404 from the handler and one from no route, model writes, a
 * DB error (a duplicate key), a slow route, an exception, the health view, the in-app scrape, an
 * AJAX request, and a method django sanitizes to `<invalid method>` (PURGE: Node's parser answers
 * a made-up method such as FOO with a 400 before any request exists).
 */
async function exampleTraffic(app: RunningApp): Promise<void> {
  const statuses = [
    await send(app, '/'),
    await send(app, '/home', { redirect: 'manual' }),
    await send(app, '/api/items/1'),
    await send(app, '/api/items/1', { headers: { 'x-requested-with': 'XMLHttpRequest' } }),
    await send(app, '/api/items/999'),
    await send(app, '/api/items', json('POST', { id: 500, name: 'lamp' })),
    await send(app, '/api/items', json('POST', { id: 500, name: 'lamp' })),
    await send(app, '/api/items/500', json('PATCH', { stock: 3 })),
    await send(app, '/api/items/500', { method: 'DELETE' }),
    await send(app, '/api/items/500', { method: 'DELETE' }),
    await send(app, '/api/slow?ms=10'),
    await send(app, '/api/boom'),
    await send(app, '/health'),
    await send(app, '/no/such/page'),
    await send(app, '/metrics'),
    await send(app, '/', { method: 'PURGE' }),
  ];
  expect(statuses).toEqual([200, 302, 200, 200, 404, 201, 500, 200, 204, 404, 200, 500, 200, 404, 200, 404]);
}

/** The example under the preload with `env`, after its traffic. */
async function trafficExample(env: SpawnOptions['env'] = {}): Promise<RunningExample> {
  const app = await started(startExample({ env }));
  await exampleTraffic(app);
  return app;
}

/** Scrapes until `ready` holds (some values are published or read off the request path), for up to 10 s. */
async function scrapeUntil(scrape: () => Promise<Exposition>, ready: (m: Exposition) => boolean): Promise<Exposition> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const m = await scrape();
    if (ready(m)) return m;
    if (Date.now() > deadline) throw new Error(`the scrape never became ready:\n${m.raw}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Whether every one of `names` has at least one sample. */
const sampled = (...names: string[]) => (m: Exposition) => names.every((name) => m.samples.some((s) => s.name === name));

/** One GET with exactly `headers` (fetch would add Accept-Encoding and decompress), its headers and raw body. */
function rawGet(url: string, headers: Record<string, string>): Promise<{ headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

/** Runs a steps fixture's steps in order; each must answer 200. */
async function steps(app: RunningApp, ...names: string[]): Promise<void> {
  for (const name of names) expect(await send(app, `/${name}`), name).toBe(200);
}

describe.skipIf(!available && !required)('promtool check metrics: only parity names, on every exposition shape', () => {
  test('promtool and the services are there (required under CI=true)', () => {
    expect(present).toEqual({ promtool: true, postgresql: true, mariadb: true, redis: true, memcached: true });
  });

  // Each shape starts its own apps; they run side by side (vitest's default: 5 at once).
  describe.concurrent('shapes', { timeout: 60_000 }, () => {
    // Shapes 1 and 2 read the same app: its traffic includes the in-app scrape.
    let example: Promise<RunningExample> | undefined;
    const defaultExample = () => (example ??= trafficExample());

    test('default settings: the express example on the dedicated port, after every route; the express routes whose views need escaping', async () => {
      const app = await defaultExample();
      const m = await app.scrape();
      expect(valueOf(m, 'django_http_requests_total_by_method_total', { method: '<invalid method>' })).toBe(1);
      expect(valueOf(m, 'django_db_errors_total', { alias: 'default', vendor: 'postgresql', type: 'IntegrityError' })).toBe(1);
      expect(metricFindings(m.raw)).toEqual(parity(...PARITY.migrations, ...PARITY.runtime));

      // A RegExp route's view carries backslashes; templates, array paths, streaming and errors too.
      const routes = await started(spawnApp('test/fixtures/express5-app.mjs'));
      for (const path of ['/files/7', '/about', '/page', '/download', '/throw', '/missing', '/orgs/acme/teams/core/members', '/admin/stats']) await send(routes, path);
      await send(routes, '/cache', { method: 'PURGE' });
      const escaped = await routes.scrape();
      expect(escaped.samples.some((s) => s.labels.view === '/^\\/files\\/(\\d+)$/')).toBe(true);
      expect(metricFindings(escaped.raw)).toEqual(parity(...PARITY.runtime));
    });

    test("the example's in-app /metrics (view prometheus-django-metrics), plain and gzipped", async () => {
      const app = await defaultExample();
      const plain = await rawGet(app.url('/metrics'), {});
      expect(plain.headers['content-encoding']).toBeUndefined();
      expect(plain.body.toString()).toContain('view="prometheus-django-metrics"');
      expect(metricFindings(plain.body.toString())).toEqual(parity(...PARITY.migrations, ...PARITY.runtime));
      const zipped = await rawGet(app.url('/metrics'), { 'accept-encoding': 'gzip' });
      expect(zipped.headers['content-encoding']).toBe('gzip');
      expect(metricFindings(gunzipSync(zipped.body).toString())).toEqual(parity(...PARITY.migrations, ...PARITY.runtime));
    });

    test('PROMETHEUS_METRIC_NAMESPACE=shop with PROMETHEUS_LATENCY_BUCKETS=0.005,0.5,5', async () => {
      const app = await trafficExample({ PROMETHEUS_METRIC_NAMESPACE: 'shop', PROMETHEUS_LATENCY_BUCKETS: '0.005,0.5,5' });
      const m = await app.scrape();
      expect(valueOf(m, 'shop_django_http_requests_latency_seconds_by_view_method_bucket', { view: '/api/slow', method: 'GET', le: '0.5' })).toBe(1);
      // The runtime families are never namespaced.
      expect(metricFindings(m.raw)).toEqual(parity(...PARITY.migrations.map((name) => `shop_${name}`), ...PARITY.runtime));
    });

    test('PROMETHEUS_RUNTIME_METRICS=false: the migration gauges only', async () => {
      const app = await trafficExample({ PROMETHEUS_RUNTIME_METRICS: 'false' });
      const m = await app.scrape();
      expect(m.raw).not.toContain('nodejs_');
      expect(metricFindings(m.raw)).toEqual(parity(...PARITY.migrations));
    });

    test("PROMETHEUS_OTEL_INFO=true with the app's own instruments (counter, histogram with a unit, up-down counter, observable gauge); label values and HELP that need escaping", async () => {
      const app = await started(spawnApp(OTEL_APP, { env: { PROMETHEUS_OTEL_INFO: 'true', OTEL_SERVICE_NAME: 'promtool-fixture' } }));
      await send(app, `/view?${new URLSearchParams({ name: AWKWARD_VIEW })}`);
      await send(app, '/order?payment=card');
      const m = await app.scrape();
      expect(['target_info', 'shop_orders_total', 'shop_checkout_duration_seconds', 'shop_queue_depth', 'shop_temperature_celsius'].map((name) => m.families.get(name)?.type)).toEqual([
        'gauge',
        'counter',
        'histogram',
        'gauge',
        'gauge',
      ]);
      expect(valueOf(m, 'shop_orders_total', { otel_scope_name: 'promtool-fixture', otel_scope_version: '2.0.0', payment: 'card' })).toBe(1);
      expect(valueOf(m, 'django_http_requests_total_by_view_transport_method_total', { view: AWKWARD_VIEW, transport: 'http', method: 'GET' })).toBe(1);
      expect(metricFindings(m.raw)).toEqual(parity(...PARITY.runtime));
    });

    // Written with OpenTelemetry's `description missing` HELP: an empty one is a promtool finding.
    test('an instrument created without a description', async () => {
      const app = await started(spawnApp(OTEL_APP, { env: { FIXTURE_UNDESCRIBED: '1' } }));
      const m = await app.scrape();
      expect(m.families.get('shop_refunds_total')?.type).toBe('counter');
      expect(metricFindings(m.raw)).toEqual(parity(...PARITY.runtime));
    });

    test('mysql2 (vendor mysql): every DB family, errors and connection failures included', async () => {
      const { instrumented } = await runFixtureModes('test/fixtures/db-mysql2-app.mjs', ['instrumented'], {
        PROMETHEUS_DB_ALIASES: `primary=${MYSQL.host}:${MYSQL.port}/${MYSQL.database}`,
      });
      const m = instrumented.metrics!;
      expect(sampled('django_db_new_connection_errors_total', 'django_db_execute_many_total', 'django_db_errors_total')(m)).toBe(true);
      expect(metricFindings(m.raw)).toEqual(parity(...PARITY.runtime));
    });

    test('caches: memcached, node-redis and in-process caches, hits, misses and failures', async () => {
      const closed = String(await freePort());
      const apps = await Promise.all([
        started(spawnApp('test/fixtures/cache-memcached-app.mjs', { env: { MEMCACHED_PORT: String(MEMCACHED_PORT), CLOSED_PORT: closed } })),
        started(spawnApp('test/fixtures/cache-node-redis-app.mjs', { env: { REDIS_PORT: String(REDIS_PORT), CLOSED_PORT: closed } })),
        started(spawnApp('test/fixtures/cache-in-process-app.mjs', { env: { REDIS_PORT: String(REDIS_PORT) } })),
      ]);
      const [memcached, redis, inProcess] = apps;
      await steps(memcached!, 'script', 'getMulti', 'invalidKey', 'sessions');
      await steps(redis!, 'script', 'mGet', 'wrongType', 'sessions');
      await steps(inProcess!, 'map', 'lru', 'keyv', 'cacheManager', 'failures');
      for (const app of apps) {
        const m = await app.scrape();
        expect(m.samples.some((s) => s.name === 'django_cache_get_fail_total' && s.value > 0)).toBe(true);
        expect(metricFindings(m.raw)).toEqual(parity(...PARITY.runtime));
      }
    });

    test('models and migrations of another ORM: TypeORM entities (bulk writes counted) and TypeORM migrations', async () => {
      const [modelsDb, migrationsDb] = await Promise.all([scratchDatabase('odm_promtool_models'), scratchDatabase('odm_promtool_migrations')]);
      cleanups.push(modelsDb.drop, migrationsDb.drop);
      const migrating = started(
        spawnApp('test/fixtures/migrations-typeorm-app.mjs', {
          env: { ...serverEnv('pg'), MIG_DB: migrationsDb.name, PROMETHEUS_EXPORT_MIGRATIONS: 'true', PROMETHEUS_DB_ALIASES: `mig=${PG.host}:${PG.port}/${migrationsDb.name}` },
        }),
      );
      const models = await runFixtureModes('test/fixtures/models-typeorm-app.mjs', ['instrumented'], {
        MODELS_DIALECT: 'postgres',
        MODELS_DATABASE: modelsDb.name,
        PROMETHEUS_EXPORT_MODEL_BULK: 'true',
      });
      const written = models.instrumented.metrics!;
      expect(valueOf(written, 'django_model_inserts_total', { model: 'dog' })).toBeGreaterThan(0);
      expect(metricFindings(written.raw)).toEqual(parity(...PARITY.runtime));

      const app = await migrating;
      for (const step of ['create?name=main', 'run?name=main', 'create?name=aliased']) expect(await (await fetch(app.url(`/${step}`))).json(), step).toHaveProperty('result');
      const m = await scrapeUntil(
        () => app.scrape(),
        (x) => valueOf(x, 'django_migrations_applied_total', { connection: 'mig' }) === 3 && valueOf(x, 'django_migrations_unapplied_total', { connection: 'primary' }) === 2,
      );
      expect(metricFindings(m.raw)).toEqual(parity(...PARITY.migrations, ...PARITY.runtime));
    });

    test('multi-process merges, with the timeouts self-metric: node:cluster (dedicated port and a worker\'s in-app handler) and PROMETHEUS_MULTIPROC_DIR (with an exited process)', async () => {
      const cluster = await started(startCluster({ workers: 2, env: { CLUSTER_SERVICES: '1' } }));
      for (const path of ['/', '/db', '/cache', '/cache?hit', '/nope']) await traffic(cluster.port, path, 4);
      const inApp = await get(cluster.port, '/metrics');
      expect(inApp.status).toBe(200);
      expect(metricFindings(inApp.body)).toEqual(parity(...PARITY.runtime));
      const merged = await cluster.scrape();
      expect(valueOf(merged, TIMEOUTS)).toBe(0);
      expect(valueOf(merged, 'django_db_execute_total', { alias: 'default', vendor: 'postgresql' })).toBe(4);
      expect(metricFindings(merged.raw)).toEqual(parity(...PARITY.runtime));

      const dir = mkdtempSync(join(tmpdir(), 'odm-promtool-multiproc-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const [serving, leaving] = await Promise.all([0, 1].map(() => started(spawnApp('test/fixtures/multiproc-app.mjs', { env: { PROMETHEUS_MULTIPROC_DIR: dir }, timeoutMs: 45_000 }))));
      for (const app of [serving!, leaving!]) for (let i = 0; i < 3; i++) await send(app, '/hit');
      const exited = new Promise((resolve) => leaving!.child.once('exit', resolve));
      await send(leaving!, '/exit');
      await exited;
      // 6 hits and the /exit request, the exited process's own in its last publication.
      const m = await scrapeUntil(() => serving!.scrape(), (x) => valueOf(x, 'django_http_responses_before_middlewares_total') === 7);
      expect(valueOf(m, TIMEOUTS)).toBe(0);
      expect(metricFindings(m.raw)).toEqual(parity(...PARITY.runtime));
    });

    test("the overflow series: PROMETHEUS_MAX_SERIES_PER_METRIC=2 with 5 views and 3 label sets of the app's own counter", async () => {
      const app = await started(spawnApp(OTEL_APP, { env: { PROMETHEUS_MAX_SERIES_PER_METRIC: '2' } }));
      for (let i = 0; i < 5; i++) await send(app, `/view?name=v${i}`);
      for (const payment of ['card', 'cash']) await send(app, `/order?payment=${payment}`);
      const m = await app.scrape();
      // v0 and v1 fill the family; v2 to v4 and the orders' <unnamed view> fold.
      expect(valueOf(m, 'django_http_requests_latency_seconds_by_view_method_count', { otel_metric_overflow: 'true' })).toBe(5);
      expect(m.samples.some((s) => s.name === 'shop_orders_total' && s.labels.otel_metric_overflow === 'true')).toBe(true);
      expect(metricFindings(m.raw)).toEqual(parity(...PARITY.runtime));
    });
  });
});
