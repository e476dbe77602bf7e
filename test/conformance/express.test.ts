import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseExposition, valueOf, vectorOf, type Exposition } from '../support/exposition.js';
import { REGISTER, spawnApp, type RunningApp } from '../support/processes.js';

/**
 * Conformance of the express adapter: one app definition (test/fixtures/express-routes.cjs) run on
 * express 5 (ESM import) and express 4 (CommonJS require), each on both HTTP paths, with a known
 * script of traffic; then exact assertions on every HTTP family that changes.
 */
interface Fixture {
  script: string;
  /** Node flags before the script; default: the preload. */
  nodeArgs?: string[];
  major: string;
  /** Whether express handles rejected promises (express 5). */
  rejections: boolean;
  /** The charset `res.sendFile` writes for a .txt file; #16 takes it as written. */
  sendFileCharset: string;
}

const APPS: Record<'express 5' | 'express 4', Fixture> = {
  'express 5': { script: 'test/fixtures/express5-app.mjs', major: '5', rejections: true, sendFileCharset: 'utf-8' },
  // The `express4` alias must be seen as `express`: see test/fixtures/express4/app.cjs.
  'express 4': {
    script: 'test/fixtures/express4/app.cjs',
    nodeArgs: ['--preserve-symlinks', '--import', REGISTER],
    major: '4',
    rejections: false,
    sendFileCharset: 'UTF-8',
  },
};
type AppName = keyof typeof APPS;

interface Step {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  status: number;
  /** The route template the adapter must report; none for unmatched requests. */
  view?: string;
  /** The error type reaching express's error path. */
  error?: string;
  streaming?: true;
  /** Only where express handles rejected promises (express 5). */
  rejection?: true;
}

const ITEMS = JSON.stringify({ items: [1, 2, 3] });
const RANDOM_URLS = 200;
const randomSegment = () => randomBytes(4).toString('hex');

function script(rejections: boolean): Step[] {
  const steps: Step[] = [
    { path: '/users/42', status: 200, view: '/users/:id' },
    { path: '/users/7', headers: { 'X-Requested-With': 'XMLHttpRequest' }, status: 200, view: '/users/:id' },
    { path: '/orgs/acme/repos/widgets', status: 200, view: '/orgs/:org/repos/:repo' },
    { path: '/orgs/acme/teams/core/members', status: 200, view: '/orgs/:org/teams/:team/members' },
    { path: '/orgs/acme/status', status: 200, view: '/orgs/:org/status' },
    { path: '/admin/stats', status: 200, view: '/admin/stats' },
    { path: '/files/7', status: 200, view: '/^\\/files\\/(\\d+)$/' },
    { path: '/info', status: 200, view: '/about,/info' },
    { path: '/page', status: 200, view: '/page' },
    { path: '/download', status: 200, view: '/download', streaming: true },
    { path: '/throw', status: 500, view: '/throw', error: 'TypeError' },
    { path: '/reject', status: 500, view: '/reject', error: 'RangeError', rejection: true },
    { path: '/missing', status: 404, view: '/missing', error: 'NotFoundError' },
    { path: '/late', status: 500, view: '/late', error: 'SyntaxError' },
    { method: 'PURGE', path: '/cache', status: 200, view: '/cache' },
    { method: 'POST', path: '/items', headers: { 'Content-Type': 'application/json' }, body: ITEMS, status: 201, view: '/items' },
    { path: '/nope', status: 404 },
  ];
  for (let i = 0; i < RANDOM_URLS; i++) steps.push({ path: `/r-${randomSegment()}/${randomSegment()}?q=${randomSegment()}`, status: 404 });
  // Last: the in-app scrape; it sees itself in #1 only, its completion (#2, #10) shows in the next scrape.
  steps.push({ path: '/metrics', status: 200, view: 'prometheus-django-metrics' });
  return steps.filter((s) => rejections || !s.rejection);
}

const methodLabel = (s: Step) => (s.method === 'PURGE' ? '<invalid method>' : (s.method ?? 'GET'));
const viewLabel = (s: Step) => s.view ?? '<unnamed view>';

/** The expected `vectorOf` lines: one series per distinct label set, counting the steps that map to it. */
function countBy(steps: Step[], labels: (s: Step) => Record<string, string> | undefined): string[] {
  const counts = new Map<string, number>();
  for (const s of steps) {
    const l = labels(s);
    if (l === undefined) continue;
    const key = JSON.stringify(Object.fromEntries(Object.entries(l).sort()));
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${k} ${n}`).sort();
}

/** Every HTTP family line except those that depend on timing or on the in-app scrape's size. */
function pathIndependentLines(exp: Exposition): string[] {
  return exp.raw
    .split('\n')
    .filter((l) => l.startsWith('django_http_'))
    .filter((l) => !/^django_http_(requests_latency\w*_seconds\w*|responses_body_total_bytes)_(bucket|sum)/.test(l))
    .sort();
}

const afterByRun = new Map<string, Exposition>();

describe.each([
  ['express 5', 'fast'],
  ['express 5', 'otel'],
  ['express 4', 'fast'],
  ['express 4', 'otel'],
] as Array<[AppName, string]>)('%s, %s path', (name, path) => {
  const fixture = APPS[name];
  const steps = script(fixture.rejections);
  const total = steps.length;
  let app: RunningApp;
  let after: Exposition;
  const statuses: number[] = [];
  const bodies = new Map<string, string>();
  /** Per non-streaming response, the uncompressed body size (fetch decompresses the gzipped in-app scrape). */
  const sizes: number[] = [];

  beforeAll(async () => {
    app = await spawnApp(fixture.script, { env: { PROMETHEUS_HTTP_INSTRUMENTATION: path }, nodeArgs: fixture.nodeArgs });
    for (const s of steps) {
      const res = await fetch(app.url(s.path), { method: s.method ?? 'GET', headers: s.headers, body: s.body });
      const body = Buffer.from(await res.arrayBuffer());
      statuses.push(res.status);
      bodies.set(s.path, body.toString());
      if (!s.streaming) sizes.push(body.byteLength);
    }
    after = await app.scrape();
    afterByRun.set(`${name} ${path}`, after);
  });
  afterAll(() => app?.stop());

  test('the fixture runs the intended express, whose answers pass through unchanged', () => {
    expect(app.stdout()).toMatch(new RegExp(`^express ${fixture.major}\\.`, 'm'));
    expect(statuses).toEqual(steps.map((s) => s.status));
    expect(bodies.get('/throw')).toBe('sync failure');
    expect(bodies.get('/missing')).toBe('no such thing');
    if (fixture.rejections) expect(bodies.get('/reject')).toBe('async failure');
    expect(bodies.get('/page')).toBe('<h1>Hello</h1>\n');
  });

  test('server-level and entry families: one count per request, nested routers and sub-apps included', () => {
    expect(valueOf(after, 'django_http_requests_before_middlewares_total')).toBe(total);
    expect(valueOf(after, 'django_http_responses_before_middlewares_total')).toBe(total);
    expect(valueOf(after, 'django_http_requests_latency_including_middlewares_seconds_count')).toBe(total);
    expect(valueOf(after, 'django_http_requests_unknown_latency_including_middlewares_total')).toBe(0);
    expect(valueOf(after, 'django_http_requests_unknown_latency_total')).toBe(0);
    expect(valueOf(after, 'django_http_ajax_requests_total')).toBe(1);
    expect(vectorOf(after, 'django_http_requests_total_by_method_total')).toEqual([
      '{"method":"<invalid method>"} 1',
      `{"method":"GET"} ${total - 2}`,
      '{"method":"POST"} 1',
    ]);
    expect(vectorOf(after, 'django_http_requests_total_by_transport_total')).toEqual([`{"transport":"http"} ${total}`]);
    expect(valueOf(after, 'django_http_requests_body_total_bytes_count')).toBe(total);
    expect(valueOf(after, 'django_http_requests_body_total_bytes_sum')).toBe(ITEMS.length);
    expect(valueOf(after, 'django_http_requests_body_total_bytes_bucket', { le: '16.0' })).toBe(total - 1);
    expect(valueOf(after, 'django_http_requests_body_total_bytes_bucket', { le: '32.0' })).toBe(total);
  });

  test('#10: matched requests only, by route template (mount patterns, RegExp, array, metrics handler)', () => {
    const expected = countBy(steps, (s) => (s.view === undefined ? undefined : { view: s.view, transport: 'http', method: methodLabel(s) }));
    expect(vectorOf(after, 'django_http_requests_total_by_view_transport_method_total')).toEqual(expected);
    expect(expected).toContain('{"method":"GET","transport":"http","view":"/orgs/:org/teams/:team/members"} 1');
    expect(expected).toContain('{"method":"GET","transport":"http","view":"prometheus-django-metrics"} 1');
    expect(expected.join('\n')).not.toContain('<unnamed view>');
  });

  test('the in-app scrape sees itself in #1, not yet in #2 nor in #10 (counted at completion, with its final view)', () => {
    const own = parseExposition(bodies.get('/metrics')!);
    expect(valueOf(own, 'django_http_requests_before_middlewares_total')).toBe(total);
    expect(valueOf(own, 'django_http_responses_before_middlewares_total')).toBe(total - 1);
    expect(valueOf(own, 'django_http_requests_total_by_view_transport_method_total', { view: 'prometheus-django-metrics', transport: 'http', method: 'GET' })).toBeUndefined();
  });

  test('#5: one observation per request, by view and raw method', () => {
    const expected = countBy(steps, (s) => ({ view: viewLabel(s), method: s.method ?? 'GET' }));
    expect(vectorOf(after, 'django_http_requests_latency_seconds_by_view_method_count')).toEqual(expected);
    expect(expected).toContain(`{"method":"GET","view":"<unnamed view>"} ${RANDOM_URLS + 1}`);
    expect(expected).toContain('{"method":"PURGE","view":"/cache"} 1');
    const observations = after.samples.filter((s) => s.name === 'django_http_requests_latency_seconds_by_view_method_count');
    expect(observations.reduce((sum, s) => sum + s.value, 0)).toBe(total);
  });

  test('#13 and #14: responses by status, view and method', () => {
    expect(vectorOf(after, 'django_http_responses_total_by_status_total')).toEqual(countBy(steps, (s) => ({ status: String(s.status) })));
    expect(vectorOf(after, 'django_http_responses_total_by_status_view_method_total')).toEqual(
      countBy(steps, (s) => ({ status: String(s.status), view: viewLabel(s), method: methodLabel(s) })),
    );
  });

  test('#12: res.render counts its template name', () => {
    expect(vectorOf(after, 'django_http_responses_total_by_templatename_total')).toEqual(['{"templatename":"page"} 1']);
  });

  test('#15-#17: response bodies (sendFile streams), charset', () => {
    expect(valueOf(after, 'django_http_responses_streaming_total')).toBe(1);
    expect(valueOf(after, 'django_http_responses_body_total_bytes_count')).toBe(total - 1);
    expect(valueOf(after, 'django_http_responses_body_total_bytes_sum')).toBe(sizes.reduce((a, b) => a + b, 0));
    const buckets = after.samples.filter((s) => s.name === 'django_http_responses_body_total_bytes_bucket');
    expect(buckets).toHaveLength(32);
    for (const b of buckets) {
      const le = b.labels.le === '+Inf' ? Infinity : Number(b.labels.le);
      expect(b.value, `le=${b.labels.le}`).toBe(sizes.filter((n) => n <= le).length);
    }
    expect(vectorOf(after, 'django_http_responses_total_by_charset_total')).toEqual(
      countBy(steps, (s) => ({ charset: s.streaming ? fixture.sendFileCharset : 'utf-8' })),
    );
  });

  test('#18 and #19: throw, rejection (express 5), next(err) with a 404 error, and an error only the final handler takes', () => {
    expect(vectorOf(after, 'django_http_exceptions_total_by_type_total')).toEqual(countBy(steps, (s) => (s.error ? { type: s.error } : undefined)));
    expect(vectorOf(after, 'django_http_exceptions_total_by_view_total')).toEqual(countBy(steps, (s) => (s.error ? { view: s.view! } : undefined)));
    expect(valueOf(after, 'django_http_exceptions_total_by_type_total', { type: 'RangeError' })).toBe(fixture.rejections ? 1 : undefined);
  });

  test('no series for the random URLs: every view label is a route template or <unnamed view>', () => {
    const views = new Set(after.samples.filter((s) => s.name.startsWith('django_http_') && 'view' in s.labels).map((s) => s.labels.view));
    expect([...views].sort()).toEqual([...new Set(steps.map(viewLabel))].sort());
    expect(after.raw).not.toMatch(/\/r-[0-9a-f]{8}/);
  });
});

describe('the fast and otel paths produce identical HTTP families', () => {
  test.each([['express 5'], ['express 4']])('%s', (name) => {
    const fast = afterByRun.get(`${name} fast`);
    const otel = afterByRun.get(`${name} otel`);
    expect(fast).toBeDefined();
    expect(otel).toBeDefined();
    const fastLines = pathIndependentLines(fast!);
    expect(fastLines.length).toBeGreaterThan(50);
    expect(pathIndependentLines(otel!)).toEqual(fastLines);
  });
});
