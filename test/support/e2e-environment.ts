// The end-to-end environment: a real Prometheus scraping every 1 s, as a Django team's would (job
// `django`, `namespace`/`cluster` target labels), the apps below under the preload, and known
// traffic sent to them in two phases so that every counter has an increase inside any rate window.
//
// job `django` targets, by `namespace` label:
//   shop           two express examples that get exactly 1+1 and 1+2 passes of PASS (`counted`),
//                  and a third (`live`) that gets a continuous trickle, so that `irate` and the
//                  `> 0` filters of dashboard queries always see increases
//   prefixed       an express example with PROMETHEUS_METRIC_NAMESPACE=shop and custom buckets
//   billing        an app whose database lacks 2 of its 3 migrations
//   workers        node:cluster, 2 workers, one aggregated port
//   workers-range  node:cluster, 2 workers, one port per process
//   multiproc      two processes sharing a PROMETHEUS_MULTIPROC_DIR, one of them scraped
//   gone           a target where nothing listens
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { startCluster, freePortRange, traffic } from '../fixtures/cluster-harness.js';
import { scratchDatabase, startExample, type RunningExample, type ScratchDatabase } from './example-app.js';
import { freePort, ROOT, spawnApp, type RunningApp } from './processes.js';
import { startPrometheus, type RunningPrometheus, type ScrapeTarget } from './prometheus.js';

export const SELECTION = { namespace: 'shop', cluster: 'ci', job: 'django' } as const;
export const RESPONSES = 'django_http_responses_total_by_status_view_method_total';
/** The shipped alert rules, loaded into the server with every `for:` cut to 0s so that they fire within the test. */
export const ALERT_RULES = `${ROOT}examples/prometheus/alerts.yaml`;
/** Passes of PASS each counted instance gets: one in the first phase, the rest in the second. */
export const PASSES = [2, 3] as const;
/** Requests sent to the multi-process setups, half in each phase. */
export const MULTI_PROCESS_REQUESTS = { workers: 30, 'workers-range': 40, multiproc: 50 } as const;
/** Buckets of the prefixed example, unlike the default ones. */
export const CUSTOM_BUCKETS = '0.005,0.5,5';
export const SLOW_MS = 120;

/** One request of the known traffic and what the example answers. */
export interface KnownRequest {
  method: string;
  path: string;
  json?: unknown;
  headers?: Record<string, string>;
  /** The view, status and sanitized method of its response series. */
  view: string;
  status: number;
  responseMethod: string;
}

/** The seeded items (ids 1-5); a pass creates, updates and deletes one more, `newId`. */
export function pass(newId: number): KnownRequest[] {
  const get = (path: string, view: string, status = 200, headers?: Record<string, string>): KnownRequest => ({
    method: 'GET',
    path,
    view,
    status,
    responseMethod: 'GET',
    headers,
  });
  return [
    ...repeat(3, get('/', '/')),
    get('/home', '/home', 302),
    ...repeat(4, get('/api/items/1', '/api/items/:id')),
    ...repeat(2, get('/api/items/2', '/api/items/:id')),
    ...repeat(2, get('/api/items/42', '/api/items/:id', 404)),
    ...repeat(2, get(`/api/slow?ms=${SLOW_MS}`, '/api/slow')),
    ...repeat(2, get('/api/boom', '/api/boom', 500)),
    ...repeat(2, get('/health', 'health_check:health_check_home')),
    get('/no/such/page', '<unnamed view>', 404),
    get('/api/items/3', '/api/items/:id', 200, { 'X-Requested-With': 'XMLHttpRequest' }),
    { method: 'POST', path: '/api/items', json: { id: newId, name: 'speaker' }, view: '/api/items', status: 201, responseMethod: 'POST' },
    { method: 'PATCH', path: `/api/items/${newId}`, json: { stock: 3 }, view: '/api/items/:id', status: 200, responseMethod: 'PATCH' },
    { method: 'DELETE', path: `/api/items/${newId}`, view: '/api/items/:id', status: 204, responseMethod: 'DELETE' },
    // The seeded id again: the unique key refuses it (IntegrityError), express answers 500.
    { method: 'POST', path: '/api/items', json: { id: 1, name: 'duplicate' }, view: '/api/items', status: 500, responseMethod: 'POST' },
    // A method outside Django's set, on no route.
    { method: 'PURGE', path: '/api/items/1', view: '<unnamed view>', status: 404, responseMethod: '<invalid method>' },
    get('/metrics', 'prometheus-django-metrics'),
  ];
}

function repeat<T>(times: number, item: T): T[] {
  return Array.from({ length: times }, () => item);
}

/** Sends one request; throws if the answer is not the one expected. */
export async function send(app: RunningApp, request: KnownRequest): Promise<void> {
  const res = await fetch(app.url(request.path), {
    method: request.method,
    headers: { ...request.headers, ...(request.json ? { 'content-type': 'application/json' } : {}) },
    body: request.json ? JSON.stringify(request.json) : undefined,
    redirect: 'manual',
  });
  await res.arrayBuffer();
  if (res.status !== request.status) throw new Error(`${request.method} ${request.path}: ${res.status}, expected ${request.status}`);
}

export interface CountedInstance {
  app: RunningExample;
  /** The `instance` label Prometheus gives it. */
  instance: string;
  passes: number;
}

/** Several processes of one service behind one or more targets. */
export interface MultiProcessTarget {
  /** The `instance` labels of its targets. */
  instances: string[];
  requests: number;
  /** Sends `count` requests spread over its processes. */
  send(count: number): Promise<void>;
}

export interface E2eEnvironment {
  prometheus: RunningPrometheus;
  selection: typeof SELECTION;
  counted: CountedInstance[];
  live: RunningExample;
  prefixed: RunningExample;
  pending: RunningApp;
  multiProcess: Record<keyof typeof MULTI_PROCESS_REQUESTS, MultiProcessTarget>;
  /** The `instance` label of the target where nothing listens. */
  down: string;
  stop(): Promise<void>;
}

const target = (address: string, namespace: string): ScrapeTarget => ({ address, labels: { namespace, cluster: SELECTION.cluster } });
const metricsAddress = (app: { metricsPort: number | undefined }) => `127.0.0.1:${app.metricsPort}`;

/** The shipped rules as the test server loads them: the same expressions, firing without delay. */
export function immediateRules(): string {
  return readFileSync(ALERT_RULES, 'utf8').replace(/^(\s*)for: \S+$/gm, '$1for: 0s');
}

/** Each example its own Redis database (flushed), so that its cache hits and misses follow its own traffic only. */
async function redisUrl(db: number): Promise<string> {
  const redis = new Redis({ host: '127.0.0.1', port: 6379, db, lazyConnect: true });
  await redis.connect();
  await redis.flushdb();
  await redis.quit();
  return `redis://127.0.0.1:6379/${db}`;
}

/** Requests to the live example, one at a time, until stopped. */
function trickle(app: RunningExample): () => Promise<void> {
  let stopped = false;
  let id = 10_000;
  const loop = (async () => {
    while (!stopped) {
      for (const request of pass(id++)) {
        if (stopped) break;
        await send(app, request).catch(() => {});
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

export async function startE2eEnvironment(): Promise<E2eEnvironment> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch(() => {});
  };
  try {
    const [redisA, redisB, redisLive] = await Promise.all([redisUrl(11), redisUrl(12), redisUrl(13)]);
    const billingDb: ScratchDatabase = await scratchDatabase('odm_billing');
    stops.push(billingDb.drop);
    const range = await freePortRange(3);
    const multiprocDir = mkdtempSync(join(tmpdir(), 'odm-e2e-multiproc-'));
    stops.push(async () => rmSync(multiprocDir, { recursive: true, force: true }));
    const multiproc = () => spawnApp('test/fixtures/multiproc-app.mjs', { env: { PROMETHEUS_MULTIPROC_DIR: multiprocDir } });
    const [a, b, live, prefixed, pending, cluster, portRangeCluster, multiprocScraped, multiprocOther] = await Promise.all([
      startExample({ env: { REDIS_URL: redisA } }),
      startExample({ env: { REDIS_URL: redisB } }),
      startExample({ env: { REDIS_URL: redisLive } }),
      startExample({ env: { REDIS_URL: redisLive, PROMETHEUS_METRIC_NAMESPACE: 'shop', PROMETHEUS_LATENCY_BUCKETS: CUSTOM_BUCKETS } }),
      spawnApp('test/fixtures/pending-migrations-app.mjs', { env: { DATABASE_URL: billingDb.url, PROMETHEUS_EXPORT_MIGRATIONS: 'true' } }),
      startCluster({ workers: 2 }),
      startCluster({ workers: 2, portRange: range }),
      multiproc(),
      multiproc(),
    ]);
    for (const app of [a!, b!, live!, prefixed!, pending!, cluster!, portRangeCluster!, multiprocScraped!, multiprocOther!]) stops.push(() => app.stop());

    const counted: CountedInstance[] = [a!, b!].map((app, i) => ({ app, instance: metricsAddress(app), passes: PASSES[i]! }));
    const rangePorts = [range[0], range[0] + 1, range[0] + 2];
    const down = `127.0.0.1:${await freePort()}`;
    const serving = [
      ...[a!, b!, live!].map((app) => target(metricsAddress(app), 'shop')),
      target(metricsAddress(prefixed!), 'prefixed'),
      target(metricsAddress(pending!), 'billing'),
      target(metricsAddress(cluster!), 'workers'),
      ...rangePorts.map((port) => target(`127.0.0.1:${port}`, 'workers-range')),
      // Any process of the directory serves the merge of all: scrape one.
      target(metricsAddress(multiprocScraped!), 'multiproc'),
    ];
    const prometheus = await startPrometheus({ jobs: { django: [...serving, target(down, 'gone')] }, rules: [immediateRules()] });
    stops.push(() => prometheus.stop());
    stops.push(trickle(live!));

    const env: E2eEnvironment = {
      prometheus,
      selection: SELECTION,
      counted,
      live: live!,
      prefixed: prefixed!,
      pending: pending!,
      multiProcess: {
        workers: { instances: [metricsAddress(cluster!)], requests: MULTI_PROCESS_REQUESTS.workers, send: (n) => traffic(cluster!.port, '/', n).then(() => {}) },
        'workers-range': {
          instances: rangePorts.map((p) => `127.0.0.1:${p}`),
          requests: MULTI_PROCESS_REQUESTS['workers-range'],
          send: (n) => traffic(portRangeCluster!.port, '/', n).then(() => {}),
        },
        multiproc: {
          instances: [metricsAddress(multiprocScraped!)],
          requests: MULTI_PROCESS_REQUESTS.multiproc,
          // Two fifths to the scraped process, the rest to the other.
          send: async (n) => {
            await traffic(multiprocScraped!.port, '/hit', (2 * n) / 5);
            await traffic(multiprocOther!.port, '/hit', (3 * n) / 5);
          },
        },
      },
      down,
      stop,
    };
    await prometheus.waitFor('every live target up', async () => (await prometheus.query('sum(up{namespace!="gone"})'))[0]?.value === serving.length);

    // Phase 1: one pass each, and half the multi-process traffic; phase 2: the rest, once
    // Prometheus has a sample of phase 1.
    let nextId = 100;
    const multiProcess = Object.values(env.multiProcess);
    const phase = async (passes: (c: CountedInstance) => number) => {
      for (const c of [...counted, { app: prefixed!, passes: 1, instance: '' }]) for (let p = 0; p < passes(c); p++) for (const r of pass(nextId++)) await send(c.app, r);
      await Promise.all(multiProcess.map((t) => t.send(t.requests / 2)));
    };
    const scraped = async (expected: (c: CountedInstance) => number, share: (n: number) => number) => {
      await prometheus.waitFor('the traffic scraped', async () => {
        for (const c of counted) {
          const [sample] = await prometheus.query(`sum(${RESPONSES}{instance="${c.instance}"})`);
          if (sample?.value !== expected(c) * pass(0).length) return false;
        }
        for (const t of multiProcess) {
          const [sample] = await prometheus.query(`sum(${RESPONSES}{instance=~"${t.instances.join('|')}"})`);
          if (sample?.value !== share(t.requests)) return false;
        }
        return true;
      });
    };
    await phase(() => 1);
    await scraped(() => 1, (n) => n / 2);
    await phase((c) => c.passes - 1);
    await scraped((c) => c.passes, (n) => n);
    return env;
  } catch (err) {
    await stop();
    throw err;
  }
}
