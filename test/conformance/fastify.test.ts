import { beforeAll, describe, expect, test } from 'vitest';
import { describeFaultModes, playAndStop, type Exchange, type Observed } from '../support/faults.js';
import { Client, playEachVariant, testEntryFamilies, testResponseBodies, testVariantsAgree } from '../support/framework-traffic.js';
import { valueOf, vectorOf, type Exposition } from '../support/exposition.js';
import { spawnApp, type RunningApp } from '../support/processes.js';

const APP = 'test/fixtures/fastify-app.mjs';
const PATHS = ['fast', 'otel'] as const;

interface Run {
  app: RunningApp;
  statuses: Record<string, number>;
  after: Exposition;
  again: Exposition;
  client: Client;
}

/** Starts the fixture on one HTTP path and plays the script of traffic the tests assert on. */
async function play(path: string): Promise<Run> {
  const app = await spawnApp(APP, { env: { PROMETHEUS_HTTP_INSTRUMENTATION: path } });
  const client = new Client(app);
  const json = { 'content-type': 'application/json' };
  const statuses: Record<string, number> = {
    users: await client.send('/users/1'),
    ajax: await client.send('/users/2', { headers: { 'X-Requested-With': 'XMLHttpRequest' } }),
    proxied: await client.send('/users/3', { headers: { 'X-Forwarded-Proto': 'https' } }),
    denied: await client.send('/users/7', { headers: { 'X-Deny': '1' } }),
    item: await client.send('/api/v1/items/9'),
    stream: await client.send('/stream', undefined, 'streaming'),
    throw: await client.send('/throw'),
    reject: await client.send('/reject'),
    missing: await client.send('/missing/5'),
    gone: await client.send('/gone'),
    echo: await client.send('/echo', { method: 'POST', headers: json, body: JSON.stringify({ text: 'x'.repeat(289) }) }),
    purge: await client.send('/users/1', { method: 'PURGE' }),
  };
  const { after, again } = await client.finishScript(statuses);
  return { app, statuses, after, again, client };
}

const runOf = playEachVariant(PATHS.map((p) => [p] as const), play);

/** Conformance of a fastify 5 app: every HTTP family after a known script, on both HTTP paths. */
describe.each(PATHS)('fastify 5, %s path', (path) => {
  const run = (): Run => runOf(path);

  test('the script got the responses the app gives: PURGE is not routed by fastify (404)', () => {
    expect(run().statuses).toEqual({
      users: 200, ajax: 200, proxied: 200, denied: 401, item: 200, stream: 200, throw: 500, reject: 500,
      missing: 404, gone: 404, echo: 201, purge: 404, scrape: 200,
    });
  });

  testEntryFamilies(run, 'fastify trustProxy + X-Forwarded-Proto');

  test('views: routeOptions.url with the plugin prefix, matched before user hooks; unknown URLs and PURGE are <unnamed view>', () => {
    const { after } = run();
    expect(vectorOf(after, 'django_http_requests_total_by_view_transport_method_total')).toEqual([
      '{"method":"GET","transport":"http","view":"/api/v1/items/:id"} 1',
      '{"method":"GET","transport":"http","view":"/gone"} 1',
      '{"method":"GET","transport":"http","view":"/missing/:id"} 1',
      '{"method":"GET","transport":"http","view":"/reject"} 1',
      '{"method":"GET","transport":"http","view":"/stream"} 1',
      '{"method":"GET","transport":"http","view":"/throw"} 1',
      '{"method":"GET","transport":"http","view":"/users/:id"} 3',
      '{"method":"GET","transport":"http","view":"prometheus-django-metrics"} 1',
      '{"method":"GET","transport":"https","view":"/users/:id"} 1',
      '{"method":"POST","transport":"http","view":"/echo"} 1',
    ]);
    expect(vectorOf(after, 'django_http_requests_latency_seconds_by_view_method_count')).toEqual([
      '{"method":"GET","view":"/api/v1/items/:id"} 1',
      '{"method":"GET","view":"/gone"} 1',
      '{"method":"GET","view":"/missing/:id"} 1',
      '{"method":"GET","view":"/reject"} 1',
      '{"method":"GET","view":"/stream"} 1',
      '{"method":"GET","view":"/throw"} 1',
      '{"method":"GET","view":"/users/:id"} 4',
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
      '{"status":"401"} 1',
      '{"status":"404"} 203',
      '{"status":"500"} 2',
    ]);
    expect(vectorOf(after, 'django_http_responses_total_by_status_view_method_total')).toEqual([
      '{"method":"<invalid method>","status":"404","view":"<unnamed view>"} 1',
      '{"method":"GET","status":"200","view":"/api/v1/items/:id"} 1',
      '{"method":"GET","status":"200","view":"/stream"} 1',
      '{"method":"GET","status":"200","view":"/users/:id"} 3',
      '{"method":"GET","status":"200","view":"prometheus-django-metrics"} 1',
      '{"method":"GET","status":"401","view":"/users/:id"} 1',
      '{"method":"GET","status":"404","view":"/gone"} 1',
      '{"method":"GET","status":"404","view":"/missing/:id"} 1',
      '{"method":"GET","status":"404","view":"<unnamed view>"} 200',
      '{"method":"GET","status":"500","view":"/reject"} 1',
      '{"method":"GET","status":"500","view":"/throw"} 1',
      '{"method":"POST","status":"201","view":"/echo"} 1',
    ]);
  });

  testResponseBodies(run, 'the stream payload');

  test('no response body is recorded as empty: denied (6 bytes) is the smallest body', () => {
    const { after } = run();
    expect(valueOf(after, 'django_http_responses_body_total_bytes_bucket', { le: '4.0' })).toBe(0);
    expect(valueOf(after, 'django_http_responses_body_total_bytes_bucket', { le: '8.0' })).toBe(1);
  });

  test('exceptions through onError: a throw, a rejection, a thrown 404; reply.callNotFound() is no exception', () => {
    const { after } = run();
    expect(vectorOf(after, 'django_http_exceptions_total_by_type_total')).toEqual([
      '{"type":"NotFoundError"} 1',
      '{"type":"RangeError"} 1',
      '{"type":"TypeError"} 1',
    ]);
    expect(vectorOf(after, 'django_http_exceptions_total_by_view_total')).toEqual([
      '{"view":"/missing/:id"} 1',
      '{"view":"/reject"} 1',
      '{"view":"/throw"} 1',
    ]);
  });
});

testVariantsAgree('fastify: the fast and otel paths expose identical HTTP vectors (timed latency lines aside)', PATHS.map((p) => [p] as const), runOf);

const GZIP = { 'Accept-Encoding': 'gzip' };
/** Requests to the routes of @fastify/view and @fastify/compress (a script of its own: the shared script's figures stay). */
const PLUGIN_STEPS: Exchange[] = [
  { path: '/hello/ann' },
  { path: '/hello/bob' },
  { path: '/hello-async' },
  { path: '/hello-string' },
  { path: '/zipped/big', headers: GZIP },
  { path: '/zipped/big', headers: { 'Accept-Encoding': 'identity' } },
  { path: '/zipped/small', headers: GZIP },
  { path: '/zipped/stream', headers: GZIP },
];


describe.each(PATHS)('fastify 5 plugins, %s path', (path) => {
  let played: { seen: Observed[]; exp: Exposition };
  beforeAll(async () => {
    const { seen, exp } = await playAndStop(await spawnApp(APP, { env: { PROMETHEUS_HTTP_INSTRUMENTATION: path } }), PLUGIN_STEPS, true);
    played = { seen, exp: exp! };
  });

  test('the routes answer as without compression, the big payload gzipped (no Content-Length), the small one not', () => {
    const { seen } = played;
    expect(seen.map((o) => o.status)).toEqual([200, 200, 200, 200, 200, 200, 200, 200]);
    expect(seen.map((o) => o.body.length)).toEqual([17, 17, 19, 20, 3011, 3011, 16, 2000]);
    expect(seen.map((o) => o.headers['content-encoding'])).toEqual([undefined, undefined, undefined, undefined, 'gzip', undefined, undefined, 'gzip']);
    expect(seen[4]!.headers['content-length']).toBeUndefined();
  });

  test('templatename: each reply.view counts its template; reply.viewAsync and fastify.view render to a string and do not', () => {
    expect(vectorOf(played.exp, 'django_http_responses_total_by_templatename_total')).toEqual(['{"templatename":"hello.ejs"} 2']);
  });

  test('@fastify/compress: a compressed payload counts its uncompressed serialized size, not streaming; a stream payload stays streaming', () => {
    const { exp } = played;
    expect(valueOf(exp, 'django_http_responses_streaming_total')).toBe(1);
    expect(valueOf(exp, 'django_http_responses_body_total_bytes_count')).toBe(7);
    expect(valueOf(exp, 'django_http_responses_body_total_bytes_sum')).toBe(17 + 17 + 19 + 20 + 3011 + 3011 + 16);
    expect(valueOf(exp, 'django_http_responses_body_total_bytes_bucket', { le: '2048.0' })).toBe(5);
    expect(valueOf(exp, 'django_http_responses_body_total_bytes_bucket', { le: '4096.0' })).toBe(7);
    expect(vectorOf(exp, 'django_http_responses_total_by_status_view_method_total')).toEqual([
      '{"method":"GET","status":"200","view":"/hello-async"} 1',
      '{"method":"GET","status":"200","view":"/hello-string"} 1',
      '{"method":"GET","status":"200","view":"/hello/:name"} 2',
      '{"method":"GET","status":"200","view":"/zipped/big"} 2',
      '{"method":"GET","status":"200","view":"/zipped/small"} 1',
      '{"method":"GET","status":"200","view":"/zipped/stream"} 1',
    ]);
  });
});

describeFaultModes("fastify 5 plugins: the package's failures never reach the app", APP, PLUGIN_STEPS, ['fastify adapter reply.view']);
