import { beforeAll, describe, expect, test } from 'vitest';
import { describeFaultModes, playAndStop, type Exchange, type Observed } from '../support/faults.js';
import { Client, playEachVariant, testEntryFamilies, testResponseBodies, testVariantsAgree } from '../support/framework-traffic.js';
import { valueOf, vectorOf, type Exposition } from '../support/exposition.js';
import { spawnApp, type RunningApp } from '../support/processes.js';

const APP = 'test/fixtures/koa-app.mjs';
/** ESM import with import-in-the-middle's loader registered (PROMETHEUS_ESM_HOOK=true): the koa module is then patched through it. */
const IMPORT_WITH_LOADER = 'import with the ESM loader';
/** HTTP path, and how the app loads koa and @koa/router (ESM import or CommonJS require). */
const VARIANTS = [
  ['fast', 'import'],
  ['otel', 'import'],
  ['fast', 'require'],
  ['fast', IMPORT_WITH_LOADER],
] as const;

interface Run {
  app: RunningApp;
  statuses: Record<string, number>;
  after: Exposition;
  again: Exposition;
  client: Client;
}

/** The fixture's environment in one variant. */
function variantEnv(path: string, loader: string): Record<string, string | undefined> {
  const esmHook = loader === IMPORT_WITH_LOADER ? 'true' : undefined;
  return { PROMETHEUS_HTTP_INSTRUMENTATION: path, KOA_LOADER: loader === 'require' ? 'require' : 'import', PROMETHEUS_ESM_HOOK: esmHook };
}

/** Starts the fixture in one variant and plays the script of traffic the tests assert on. */
async function play(path: string, loader: string): Promise<Run> {
  const app = await spawnApp(APP, { env: variantEnv(path, loader) });
  const client = new Client(app);
  const statuses: Record<string, number> = {
    users: await client.send('/users/1'),
    ajax: await client.send('/users/2', { headers: { 'X-Requested-With': 'XMLHttpRequest' } }),
    proxied: await client.send('/users/3', { headers: { 'X-Forwarded-Proto': 'https' } }),
    conflict: await client.send('/conflict'),
    item: await client.send('/api/v1/items/9'),
    stream: await client.send('/stream', undefined, 'streaming'),
    throw: await client.send('/throw'),
    throwString: await client.send('/throw-string'),
    reject: await client.send('/reject'),
    missing: await client.send('/missing/5'),
    echo: await client.send('/echo', { method: 'POST', body: 'x'.repeat(300) }),
    purge: await client.send('/users/1', { method: 'PURGE' }),
  };
  const { after, again } = await client.finishScript(statuses);
  return { app, statuses, after, again, client };
}

const runOf = playEachVariant(VARIANTS, play);

/** Conformance of a koa 3 + @koa/router 15 app: every HTTP family after a known script, in each variant. */
describe.each(VARIANTS)('koa 3 + @koa/router, %s path, koa loaded by %s', (path, loader) => {
  const run = (): Run => runOf(path, loader);

  test('the script got the responses the app gives: PURGE matches no route (404)', () => {
    expect(run().statuses).toEqual({
      users: 200, ajax: 200, proxied: 200, conflict: 409, item: 200, stream: 200, throw: 500, throwString: 500, reject: 500,
      missing: 404, echo: 201, purge: 404, scrape: 200,
    });
  });

  testEntryFamilies(run, 'app.proxy + X-Forwarded-Proto');

  test('views: ctx._matchedRoute with the mount prefix; unknown URLs and PURGE are <unnamed view>', () => {
    const { after } = run();
    expect(vectorOf(after, 'django_http_requests_total_by_view_transport_method_total')).toEqual([
      '{"method":"GET","transport":"http","view":"/api/v1/items/:id"} 1',
      '{"method":"GET","transport":"http","view":"/conflict"} 1',
      '{"method":"GET","transport":"http","view":"/missing/:id"} 1',
      '{"method":"GET","transport":"http","view":"/reject"} 1',
      '{"method":"GET","transport":"http","view":"/stream"} 1',
      '{"method":"GET","transport":"http","view":"/throw"} 1',
      '{"method":"GET","transport":"http","view":"/throw-string"} 1',
      '{"method":"GET","transport":"http","view":"/users/:id"} 2',
      '{"method":"GET","transport":"http","view":"prometheus-django-metrics"} 1',
      '{"method":"GET","transport":"https","view":"/users/:id"} 1',
      '{"method":"POST","transport":"http","view":"/echo"} 1',
    ]);
    expect(vectorOf(after, 'django_http_requests_latency_seconds_by_view_method_count')).toEqual([
      '{"method":"GET","view":"/api/v1/items/:id"} 1',
      '{"method":"GET","view":"/conflict"} 1',
      '{"method":"GET","view":"/missing/:id"} 1',
      '{"method":"GET","view":"/reject"} 1',
      '{"method":"GET","view":"/stream"} 1',
      '{"method":"GET","view":"/throw"} 1',
      '{"method":"GET","view":"/throw-string"} 1',
      '{"method":"GET","view":"/users/:id"} 3',
      '{"method":"GET","view":"<unnamed view>"} 200',
      '{"method":"GET","view":"prometheus-django-metrics"} 1',
      '{"method":"POST","view":"/echo"} 1',
      '{"method":"PURGE","view":"<unnamed view>"} 1',
    ]);
    // The flood of unknown URLs adds no series of its own anywhere.
    expect(after.samples.filter((s) => Object.values(s.labels).some((v) => v.includes('flood')))).toEqual([]);
  });

  test('responses by status, view and method', () => {
    const { after } = run();
    expect(vectorOf(after, 'django_http_responses_total_by_status_total')).toEqual([
      '{"status":"200"} 6',
      '{"status":"201"} 1',
      '{"status":"404"} 202',
      '{"status":"409"} 1',
      '{"status":"500"} 3',
    ]);
    expect(vectorOf(after, 'django_http_responses_total_by_status_view_method_total')).toEqual([
      '{"method":"<invalid method>","status":"404","view":"<unnamed view>"} 1',
      '{"method":"GET","status":"200","view":"/api/v1/items/:id"} 1',
      '{"method":"GET","status":"200","view":"/stream"} 1',
      '{"method":"GET","status":"200","view":"/users/:id"} 3',
      '{"method":"GET","status":"200","view":"prometheus-django-metrics"} 1',
      '{"method":"GET","status":"404","view":"/missing/:id"} 1',
      '{"method":"GET","status":"404","view":"<unnamed view>"} 200',
      '{"method":"GET","status":"409","view":"/conflict"} 1',
      '{"method":"GET","status":"500","view":"/reject"} 1',
      '{"method":"GET","status":"500","view":"/throw"} 1',
      '{"method":"GET","status":"500","view":"/throw-string"} 1',
      '{"method":"POST","status":"201","view":"/echo"} 1',
    ]);
  });

  testResponseBodies(run, 'the koa stream body');

  test('no response body is recorded as empty: conflict (8 bytes) is the smallest body', () => {
    const { after } = run();
    expect(valueOf(after, 'django_http_responses_body_total_bytes_bucket', { le: '4.0' })).toBe(0);
    expect(valueOf(after, 'django_http_responses_body_total_bytes_bucket', { le: '8.0' })).toBe(1);
  });

  test('exceptions: a throw, a thrown string, a rejection, ctx.throw(404), and an error the app answered and emitted', () => {
    const { after } = run();
    expect(vectorOf(after, 'django_http_exceptions_total_by_type_total')).toEqual([
      '{"type":"ConflictError"} 1',
      '{"type":"NotFoundError"} 1',
      '{"type":"RangeError"} 1',
      '{"type":"String"} 1',
      '{"type":"TypeError"} 1',
    ]);
    expect(vectorOf(after, 'django_http_exceptions_total_by_view_total')).toEqual([
      '{"view":"/conflict"} 1',
      '{"view":"/missing/:id"} 1',
      '{"view":"/reject"} 1',
      '{"view":"/throw"} 1',
      '{"view":"/throw-string"} 1',
    ]);
  });
});

testVariantsAgree('koa: every variant exposes the same HTTP vectors as the fast path with ESM (timed latency lines aside)', VARIANTS, runOf);

/** Requests to the koa-views and caught-error routes (a script of its own: the shared script's figures stay). */
const EXTRA_STEPS: Exchange[] = [{ path: '/hello/ann' }, { path: '/hello/bob' }, { path: '/caught' }, { path: '/emitted' }, { path: '/conflict' }];


describe.each(VARIANTS)('koa 3 templates and caught errors, %s path, koa loaded by %s', (path, loader) => {
  let played: { seen: Observed[]; exp: Exposition };
  beforeAll(async () => {
    const { seen, exp } = await playAndStop(await spawnApp(APP, { env: variantEnv(path, loader) }), EXTRA_STEPS, true);
    played = { seen, exp: exp! };
  });

  test('the routes answer as the app says: a caught error is the middleware\'s 500, an emitted one the route\'s 503', () => {
    expect(played.seen.map((o) => [o.status, o.body])).toEqual([
      [200, '<p>Hello ann</p>\n'],
      [200, '<p>Hello bob</p>\n'],
      [500, 'caught'],
      [503, 'reported'],
      [409, 'conflict'],
    ]);
  });

  test('templatename: each ctx.render counts the name it was given', () => {
    expect(vectorOf(played.exp, 'django_http_responses_total_by_templatename_total')).toEqual(['{"templatename":"hello"} 2']);
  });

  test('exceptions: an error the app caught and answered without emitting, one only emitted, one thrown then emitted (once)', () => {
    expect(vectorOf(played.exp, 'django_http_exceptions_total_by_type_total')).toEqual([
      '{"type":"CaughtError"} 1',
      '{"type":"ConflictError"} 1',
      '{"type":"EvalError"} 1',
    ]);
    expect(vectorOf(played.exp, 'django_http_exceptions_total_by_view_total')).toEqual([
      '{"view":"/caught"} 1',
      '{"view":"/conflict"} 1',
      '{"view":"/emitted"} 1',
    ]);
  });
});

describeFaultModes("koa 3 templates and caught errors: the package's failures never reach the app", APP, EXTRA_STEPS, ['koa adapter ctx.render', 'koa error path']);
