import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { valueOf, vectorOf, type Exposition } from '../support/exposition.js';
import { containedFailures, exchange, playAndStop, spawnBare, spawnFaulty, type Exchange, type FaultMode, type Observed } from '../support/faults.js';
import { REGISTER, spawnApp, type RunningApp, type SpawnOptions } from '../support/processes.js';

/**
 * Never break the app, HTTP side: with the package's own code made to throw (every recorder
 * method, or every store write), each framework's app answers every request exactly as it does
 * without the preload, and the process survives; each failing site is logged once, with ODM001.
 */
interface Framework {
  script: string;
  options?: SpawnOptions;
  steps: Exchange[];
}

const JSON_BODY = { 'Content-Type': 'application/json' };
const COMMON: Exchange[] = [
  { path: '/nowhere' },
  { path: '/nowhere', headers: { 'X-Requested-With': 'XMLHttpRequest', 'X-Forwarded-Proto': 'https' } },
  { method: 'HEAD', path: '/nowhere' },
  { method: 'BREW', path: '/nowhere' },
];

const EXPRESS: Exchange[] = [
  { path: '/users/42' },
  { path: '/orgs/acme/repos/widgets' },
  { path: '/orgs/acme/teams/core/members' },
  { path: '/admin/stats' },
  { path: '/files/7' },
  { path: '/about' },
  { path: '/page' },
  { path: '/download' },
  { path: '/throw' },
  { path: '/missing' },
  { method: 'POST', path: '/items', headers: JSON_BODY, body: JSON.stringify({ items: [1, 2] }) },
  ...COMMON,
];

const FRAMEWORKS: Record<string, Framework> = {
  'express 5': { script: 'test/fixtures/express5-app.mjs', steps: [...EXPRESS, { path: '/reject' }] },
  'express 5, instrumentation-http path': {
    script: 'test/fixtures/express5-app.mjs',
    options: { env: { PROMETHEUS_HTTP_INSTRUMENTATION: 'otel' } },
    steps: [...EXPRESS, { path: '/reject' }],
  },
  'express 4': { script: 'test/fixtures/express4/app.cjs', options: { nodeArgs: ['--preserve-symlinks', '--import', REGISTER] }, steps: EXPRESS },
  'fastify 5': {
    script: 'test/fixtures/fastify-app.mjs',
    steps: [
      { path: '/users/7' },
      { path: '/api/v1/items/3' },
      { path: '/stream' },
      { path: '/throw' },
      { path: '/reject' },
      { path: '/missing/1' },
      { path: '/gone' },
      { method: 'POST', path: '/echo', headers: JSON_BODY, body: JSON.stringify({ text: 'hello' }) },
      ...COMMON,
    ],
  },
  'koa 3': {
    script: 'test/fixtures/koa-app.mjs',
    steps: [
      { path: '/users/7' },
      { path: '/api/v1/items/3' },
      { path: '/stream' },
      { path: '/throw' },
      { path: '/throw-string' },
      { path: '/reject' },
      { path: '/missing/1' },
      { path: '/conflict' },
      { method: 'POST', path: '/echo', body: 'hello' },
      ...COMMON,
    ],
  },
  'node:http': {
    script: 'test/fixtures/node-http-app.mjs',
    steps: [{ path: '/text' }, { path: '/json' }, { path: '/chunked' }, { path: '/pipe' }, { path: '/named' }, { path: '/throw' }, { path: '/reject' }, ...COMMON],
  },
};

const MODES: FaultMode[][] = [['recorders'], ['store']];

for (const [name, framework] of Object.entries(FRAMEWORKS)) {
  describe(`${name}: the package's failures never reach the app`, () => {
    let bare: Observed[];
    beforeAll(async () => {
      ({ seen: bare } = await playAndStop(await spawnBare(framework.script, framework.options), framework.steps));
    });

    for (const modes of MODES) {
      test(`ODM_FAULTS=${modes.join(',')}: same responses as without the preload, the process survives, each failing site logged once`, async () => {
        const { seen, stderr, alive } = await playAndStop(await spawnFaulty(framework.script, modes, framework.options), framework.steps);
        expect(seen).toEqual(bare);
        expect(alive).toBe(true);
        const failures = containedFailures(stderr);
        expect(failures.length).toBeGreaterThan(0);
        const sites = failures.map((line) => /ODM001 (.*?) failed;/.exec(line)?.[1]);
        expect(new Set(sites).size).toBe(sites.length);
        expect(failures.every((line) => line.includes('injected fault'))).toBe(true);
      });
    }
  });
}

describe('an app whose own objects throw, and setViewName misuse', () => {
  const HOSTILE = 'test/fixtures/hostile-app.mjs';
  const steps: Exchange[] = [
    '/getheader-throws',
    '/status-throws-after-send',
    '/setheader-throws',
    '/headers-throw',
    '/view-regexp',
    '/view-symbol',
    '/view-null',
    '/view-number',
    '/view-symbol',
    '/view-string',
  ].map((path) => ({ path }));
  let bare: Observed[];
  let preloaded: Observed[];
  let app: RunningApp;
  let exp: Exposition;

  beforeAll(async () => {
    ({ seen: bare } = await playAndStop(await spawnBare(HOSTILE), steps));
    app = await spawnApp(HOSTILE);
    preloaded = await exchange(app, steps);
    await new Promise((r) => setTimeout(r, 50));
    exp = await app.scrape();
  });
  afterAll(() => app.stop());

  test('every response is the one the app gives without the preload, and the process survives', () => {
    expect(preloaded).toEqual(bare);
    expect(preloaded.map((o) => o.body)).toEqual(['ok', 'ok', 'ok', 'ok', ...Array(6).fill('setViewName threw: no')]);
    expect(preloaded[2]!.headers['x-caught']).toBe('yes');
    expect(app.child.exitCode).toBeNull();
  });

  test('a response whose status or headers cannot be read at completion is dropped whole, counted in no response family', () => {
    expect(valueOf(exp, 'django_http_requests_before_middlewares_total')).toBe(steps.length);
    expect(valueOf(exp, 'django_http_responses_before_middlewares_total')).toBe(steps.length - 2);
    expect(valueOf(exp, 'django_http_requests_latency_including_middlewares_seconds_count')).toBe(steps.length - 2);
    const statuses = vectorOf(exp, 'django_http_responses_total_by_status_total');
    expect(statuses).toEqual([`{"status":"200"} ${steps.length - 2}`]);
    const lines = containedFailures(app.stderr());
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('ODM001 http response close failed;');
  });

  test('headers that throw once the app has the request were read at dispatch: that request is counted whole', () => {
    expect(valueOf(exp, 'django_http_requests_total_by_method_total', { method: 'GET' })).toBe(steps.length - 2);
    expect(valueOf(exp, 'django_http_requests_body_total_bytes_count')).toBe(steps.length - 2);
  });

  test('setViewName: a string as given, a RegExp as String(re), anything else ignored with one warning per kind', () => {
    expect(vectorOf(exp, 'django_http_requests_total_by_view_transport_method_total')).toEqual([
      '{"method":"GET","transport":"http","view":"/\\\\/items\\\\/(\\\\d+)/"} 1',
      '{"method":"GET","transport":"http","view":"items:detail"} 1',
    ]);
    expect(vectorOf(exp, 'django_http_responses_total_by_status_view_method_total')).toEqual([
      '{"method":"GET","status":"200","view":"/\\\\/items\\\\/(\\\\d+)/"} 1',
      '{"method":"GET","status":"200","view":"<unnamed view>"} 6',
      '{"method":"GET","status":"200","view":"items:detail"} 1',
    ]);
    const warnings = app.stderr().split('\n').filter((l) => l.includes('setViewName:'));
    expect(warnings).toEqual([
      'otel-django-metrics: setViewName: a view name must be a string or a RegExp, not a symbol; ignored',
      'otel-django-metrics: setViewName: a view name must be a string or a RegExp, not null; ignored',
      'otel-django-metrics: setViewName: a view name must be a string or a RegExp, not a number; ignored',
    ]);
  });
});
