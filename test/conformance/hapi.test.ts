import { createRequire } from 'node:module';
import { describe, expect, test } from 'vitest';
import { enableHapiAdapter } from '../../src/http/frameworks/hapi.js';
import type { HttpRecorder } from '../../src/http/recorder.js';
import { describeFaultModes, type Exchange } from '../support/faults.js';
import { Client, playEachVariant, testEntryFamilies, testResponseBodies, testVariantsAgree } from '../support/framework-traffic.js';
import { vectorOf, type Exposition } from '../support/exposition.js';
import { spawnApp, type RunningApp } from '../support/processes.js';

const APP = 'test/fixtures/hapi-app.mjs';
/** ESM import with import-in-the-middle's loader registered (PROMETHEUS_ESM_HOOK=true). */
const IMPORT_WITH_LOADER = 'import with the ESM loader';
/** HTTP path, and how the app loads hapi (ESM import or CommonJS require). */
const VARIANTS = [
  ['fast', 'import'],
  ['otel', 'import'],
  ['fast', 'require'],
  ['fast', IMPORT_WITH_LOADER],
] as const;

/** hapi has no proxy-trust setting: the preload's own decides whether X-Forwarded-Proto counts. */
const TRUST_PROXY = { PROMETHEUS_TRUST_PROXY: 'true' };

interface Run {
  app: RunningApp;
  statuses: Record<string, number>;
  after: Exposition;
  again: Exposition;
  /** After one more request, to a route whose handler names its view. */
  named: Exposition;
  client: Client;
}

/** Starts the fixture in one variant and plays the script of traffic the tests assert on. */
async function play(path: string, loader: string): Promise<Run> {
  const esmHook = loader === IMPORT_WITH_LOADER ? 'true' : undefined;
  const env = { ...TRUST_PROXY, PROMETHEUS_HTTP_INSTRUMENTATION: path, HAPI_LOADER: loader === 'require' ? 'require' : 'import', PROMETHEUS_ESM_HOOK: esmHook };
  const app = await spawnApp(APP, { env });
  const client = new Client(app);
  const statuses: Record<string, number> = {
    users: await client.send('/users/1'),
    proxied: await client.send('/users/3', { headers: { 'X-Forwarded-Proto': 'https' } }),
    item: await client.send('/api/v1/items/9'),
    stream: await client.send('/stream', undefined, 'streaming'),
    page: await client.send('/page', { headers: { 'X-Requested-With': 'XMLHttpRequest' } }),
    throw: await client.send('/throw'),
    throwString: await client.send('/throw-string'),
    reject: await client.send('/reject'),
    forbidden: await client.send('/forbidden'),
    conflict: await client.send('/conflict'),
    echo: await client.send('/echo', { method: 'POST', body: 'x'.repeat(300) }),
    purge: await client.send('/users/1', { method: 'PURGE' }),
  };
  const { after, again } = await client.finishScript(statuses);
  // Its own client: the body bytes the tests compare are those of the scrape `after`.
  statuses.named = await new Client(app).send('/named/1');
  const named = await app.scrape();
  return { app, statuses, after, again, named, client };
}

const runOf = playEachVariant(VARIANTS, play);

/** Conformance of a hapi 21 app (a prefixed plugin, @hapi/vision, Boom): every HTTP family after a known script, in each variant. */
describe.each(VARIANTS)('hapi 21, %s path, hapi loaded by %s', (path, loader) => {
  const run = (): Run => runOf(path, loader);

  test('the script got the responses the app gives: PURGE matches no route (404)', () => {
    expect(run().statuses).toEqual({
      users: 200, proxied: 200, item: 200, stream: 200, page: 200, throw: 500, throwString: 500, reject: 500,
      forbidden: 403, conflict: 409, echo: 201, purge: 404, scrape: 200, named: 200,
    });
  });

  testEntryFamilies(run, 'PROMETHEUS_TRUST_PROXY + X-Forwarded-Proto');

  test("views: request.route.path with the plugin's prefix; hapi's not-found route (unknown URLs, PURGE) is <unnamed view>", () => {
    const { after } = run();
    expect(vectorOf(after, 'django_http_requests_total_by_view_transport_method_total')).toEqual([
      '{"method":"GET","transport":"http","view":"/api/v1/items/{id}"} 1',
      '{"method":"GET","transport":"http","view":"/conflict"} 1',
      '{"method":"GET","transport":"http","view":"/forbidden"} 1',
      '{"method":"GET","transport":"http","view":"/page"} 1',
      '{"method":"GET","transport":"http","view":"/reject"} 1',
      '{"method":"GET","transport":"http","view":"/stream"} 1',
      '{"method":"GET","transport":"http","view":"/throw"} 1',
      '{"method":"GET","transport":"http","view":"/throw-string"} 1',
      '{"method":"GET","transport":"http","view":"/users/{id}"} 1',
      '{"method":"GET","transport":"http","view":"prometheus-django-metrics"} 1',
      '{"method":"GET","transport":"https","view":"/users/{id}"} 1',
      '{"method":"POST","transport":"http","view":"/echo"} 1',
    ]);
    expect(vectorOf(after, 'django_http_requests_latency_seconds_by_view_method_count')).toEqual([
      '{"method":"GET","view":"/api/v1/items/{id}"} 1',
      '{"method":"GET","view":"/conflict"} 1',
      '{"method":"GET","view":"/forbidden"} 1',
      '{"method":"GET","view":"/page"} 1',
      '{"method":"GET","view":"/reject"} 1',
      '{"method":"GET","view":"/stream"} 1',
      '{"method":"GET","view":"/throw"} 1',
      '{"method":"GET","view":"/throw-string"} 1',
      '{"method":"GET","view":"/users/{id}"} 2',
      '{"method":"GET","view":"<unnamed view>"} 200',
      '{"method":"GET","view":"prometheus-django-metrics"} 1',
      '{"method":"POST","view":"/echo"} 1',
      '{"method":"PURGE","view":"<unnamed view>"} 1',
    ]);
    // The flood of unknown URLs adds no series of its own anywhere.
    expect(after.samples.filter((s) => Object.values(s.labels).some((v) => v.includes('flood')))).toEqual([]);
  });

  test("a view named in the handler (setViewName) replaces the route's path", () => {
    const { after, named } = run();
    const byView = (exp: Exposition) => vectorOf(exp, 'django_http_requests_total_by_view_transport_method_total');
    expect(byView(named).filter((line) => !byView(after).includes(line))).toEqual(['{"method":"GET","transport":"http","view":"items:detail"} 1']);
  });

  test('responses by status, view and method', () => {
    const { after } = run();
    expect(vectorOf(after, 'django_http_responses_total_by_status_total')).toEqual([
      '{"status":"200"} 6',
      '{"status":"201"} 1',
      '{"status":"403"} 1',
      '{"status":"404"} 201',
      '{"status":"409"} 1',
      '{"status":"500"} 3',
    ]);
    expect(vectorOf(after, 'django_http_responses_total_by_status_view_method_total')).toEqual([
      '{"method":"<invalid method>","status":"404","view":"<unnamed view>"} 1',
      '{"method":"GET","status":"200","view":"/api/v1/items/{id}"} 1',
      '{"method":"GET","status":"200","view":"/page"} 1',
      '{"method":"GET","status":"200","view":"/stream"} 1',
      '{"method":"GET","status":"200","view":"/users/{id}"} 2',
      '{"method":"GET","status":"200","view":"prometheus-django-metrics"} 1',
      '{"method":"GET","status":"403","view":"/forbidden"} 1',
      '{"method":"GET","status":"404","view":"<unnamed view>"} 200',
      '{"method":"GET","status":"409","view":"/conflict"} 1',
      '{"method":"GET","status":"500","view":"/reject"} 1',
      '{"method":"GET","status":"500","view":"/throw"} 1',
      '{"method":"GET","status":"500","view":"/throw-string"} 1',
      '{"method":"POST","status":"201","view":"/echo"} 1',
    ]);
  });

  test('templates: h.view() of @hapi/vision counts its template name', () => {
    expect(vectorOf(run().after, 'django_http_responses_total_by_templatename_total')).toEqual(['{"templatename":"index"} 1']);
  });

  testResponseBodies(run, 'the stream response');

  test("exceptions: by the class of the error hapi wrapped in a Boom (a thrown string as String, a Boom as Error); hapi's own 404s none", () => {
    const { after } = run();
    expect(vectorOf(after, 'django_http_exceptions_total_by_type_total')).toEqual([
      '{"type":"ConflictError"} 1',
      '{"type":"Error"} 1',
      '{"type":"RangeError"} 1',
      '{"type":"String"} 1',
      '{"type":"TypeError"} 1',
    ]);
    expect(vectorOf(after, 'django_http_exceptions_total_by_view_total')).toEqual([
      '{"view":"/conflict"} 1',
      '{"view":"/forbidden"} 1',
      '{"view":"/reject"} 1',
      '{"view":"/throw"} 1',
      '{"view":"/throw-string"} 1',
    ]);
  });
});

testVariantsAgree('hapi: every variant exposes the same HTTP vectors as the fast path with ESM (timed latency lines aside)', VARIANTS, runOf);

const FAULT_STEPS: Exchange[] = [
  '/users/7',
  '/api/v1/items/3',
  '/stream',
  '/page',
  '/throw',
  '/throw-string',
  '/reject',
  '/forbidden',
  '/conflict',
  '/nowhere',
].map((path) => ({ path }));
FAULT_STEPS.push(
  { method: 'POST', path: '/echo', body: 'hello' },
  { path: '/nowhere', headers: { 'X-Requested-With': 'XMLHttpRequest', 'X-Forwarded-Proto': 'https' } },
  { method: 'HEAD', path: '/users/7' },
  { method: 'BREW', path: '/nowhere' },
);

describeFaultModes("hapi 21: the package's failures never reach the app", APP, FAULT_STEPS, ['hapi adapter onRequest', 'hapi adapter onPreResponse'], (bare) => {
  // BREW is refused by Node's parser: 400.
  expect(bare.map((o) => o.status)).toEqual([200, 200, 200, 200, 500, 500, 500, 403, 409, 404, 201, 404, 200, 400]);
});

test("the adapter wraps hapi's Core when hapi loads, extends each new root server, and disabling restores Core", () => {
  type Server = { _core: { constructor: { prototype: { _defaultRoutes: { __wrapped?: boolean } } }; extensions: { route: { onRequest: { nodes: unknown[] | null } } } } };
  // Its hooks reach the recorder through each request's state, never through this argument.
  const disable = enableHapiAdapter(undefined as unknown as HttpRecorder);
  const Hapi = createRequire(import.meta.url)('@hapi/hapi') as { server(): Server };
  const wrapped = () => Hapi.server()._core.constructor.prototype._defaultRoutes.__wrapped === true;
  const onRequestExts = () => Hapi.server()._core.extensions.route.onRequest.nodes?.length ?? 0;
  expect([wrapped(), onRequestExts()]).toEqual([true, 1]);
  disable();
  expect([wrapped(), onRequestExts()]).toEqual([false, 0]);
  // A restarted distribution re-enables the same module hooks, which re-patch the loaded Core.
  const again = enableHapiAdapter(undefined as unknown as HttpRecorder);
  expect([wrapped(), onRequestExts()]).toEqual([true, 1]);
  again();
  expect([wrapped(), onRequestExts()]).toEqual([false, 0]);
});
