import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { PG, reachable } from '../fixtures/db-services.mjs';
import { valueOf, vectorOf, type Exposition } from '../support/exposition.js';
import { spawnApp, type RunningApp } from '../support/processes.js';

/**
 * What the startup optimisations must keep (src/otel/esm-hook.ts, src/otel/package-loads.ts,
 * src/otel/lazy-sdk.ts): no ESM loader unless PROMETHEUS_ESM_HOOK asks for it, every patch applied
 * either way, instrumentation code loaded only with the packages it patches, and the OTel SDK
 * loaded after the app is up with nothing recorded before it lost. The apps (test/fixtures/startup-app.*)
 * load express, pg and ioredis through require or import and use a real PostgreSQL and Redis.
 */
const REDIS_PORT = Number(process.env.REDIS_PORT ?? 6379);
const available = (await reachable(PG.port, PG.host)) && (await reachable(REDIS_PORT));
// In CI missing servers fail the run; locally the suite is skipped.
const required = process.env.CI === 'true';

const CJS_APP = 'test/fixtures/startup-app.cjs';
const ESM_APP = 'test/fixtures/startup-app.mjs';
const LATE_APP = 'test/fixtures/late-load-app.mjs';

describe.skipIf(!available && !required)('startup: the ESM loader only if asked for, instrumentations with their packages, the SDK after listening', () => {
  test(`PostgreSQL answers on ${PG.host}:${PG.port} and Redis on 127.0.0.1:${REDIS_PORT}`, () => {
    expect(available).toBe(true);
  });

  describe.each([
    ['a CommonJS app: no loader', CJS_APP, undefined, 0],
    ['an ES module app: no loader either', ESM_APP, undefined, 0],
    ['a CommonJS app with PROMETHEUS_ESM_HOOK=true: the loader', CJS_APP, 'true', 1],
    ['an ES module app with PROMETHEUS_ESM_HOOK=true: the loader', ESM_APP, 'true', 1],
  ])('%s', (_name, script, esmHook, loaderWorkers) => {
    let app: RunningApp;
    let exposition: Exposition;

    beforeAll(async () => {
      app = await spawnApp(script, { env: { PROMETHEUS_ESM_HOOK: esmHook, REDIS_PORT: String(REDIS_PORT) } });
      const get = async (path: string) => (await fetch(app.url(path))).text();
      // No scrape yet: only the app having started listening may load the SDK.
      await vi.waitFor(async () => expect(await get('/sdk-loaded')).toBe('true'), { timeout: 10_000 });
      expect(await get('/items/42')).toBe('item');
      expect(await get('/db')).toBe('1');
      expect(await get('/cache')).toBe('null');
      expect(await get('/late')).toBe('late');
      exposition = await app.scrape();
    });
    afterAll(() => app?.stop());

    test(`${loaderWorkers} loader worker thread; the OTel SDK not yet loaded when the app started listening`, () => {
      expect(app.stdout()).toContain(`loader-workers ${loaderWorkers}\nsdk-loaded-at-listen false\n`);
      expect(app.stderr()).toBe('');
    });

    test('express is patched: the route template names the view', () => {
      expect(vectorOf(exposition, 'django_http_requests_total_by_view_transport_method_total')).toContain(
        '{"method":"GET","transport":"http","view":"/items/:id"} 1',
      );
    });

    test('pg is patched: the connection and the query are counted', () => {
      expect(vectorOf(exposition, 'django_db_new_connections_total')).toEqual(['{"alias":"default","vendor":"postgresql"} 1']);
      expect(vectorOf(exposition, 'django_db_execute_total')).toEqual(['{"alias":"default","vendor":"postgresql"} 1']);
    });

    test('ioredis is patched: the GET is a miss', () => {
      expect(vectorOf(exposition, 'django_cache_get_total')).toEqual(['{"backend":"redis"} 1']);
      expect(vectorOf(exposition, 'django_cache_get_misses_total')).toEqual(['{"backend":"redis"} 1']);
    });

    test('user metrics recorded at import time, before the SDK loaded, are served once, with their advice', () => {
      expect(exposition.families.get('startup_import_events_total')).toEqual({ help: 'Recorded at import', type: 'counter' });
      expect(valueOf(exposition, 'startup_import_events_total')).toBe(1);
      expect(exposition.samples.filter((s) => s.name.startsWith('startup_import_seconds')).map((s) => `${s.name}${JSON.stringify(s.labels)} ${s.text}`)).toEqual([
        'startup_import_seconds_bucket{"le":"0.5"} 0.0',
        'startup_import_seconds_bucket{"le":"1.0"} 1.0',
        'startup_import_seconds_bucket{"le":"+Inf"} 1.0',
        'startup_import_seconds_count{} 1.0',
        'startup_import_seconds_sum{} 0.75',
      ]);
    });

    test('an instrument created at import time and recorded after the SDK loaded is served', () => {
      expect(exposition.families.get('startup_late_events_total')).toEqual({ help: 'Created at import, recorded later', type: 'counter' });
      expect(valueOf(exposition, 'startup_late_events_total')).toBe(1);
    });
  });

  describe('an ES module app that loads ioredis and pg only after it listens', () => {
    let app: RunningApp;
    let exposition: Exposition;
    let loadedLater: string;

    beforeAll(async () => {
      app = await spawnApp(LATE_APP, { env: { REDIS_PORT: String(REDIS_PORT) } });
      const get = async (path: string) => (await fetch(app.url(path))).text();
      expect(await get('/ioredis-by-import')).toBe('null');
      expect(await get('/pg-by-require')).toBe('1');
      loadedLater = await get('/otel-packages');
      exposition = await app.scrape();
    });
    afterAll(() => app?.stop());

    test('no OpenTelemetry package is loaded before the app loads one that an instrumentation patches', () => {
      expect(app.stdout()).toContain('otel-packages-at-listen none\n');
      expect(loadedLater.split(',')).toEqual(expect.arrayContaining(['@opentelemetry/instrumentation', '@opentelemetry/instrumentation-ioredis']));
      expect(app.stderr()).toBe('');
    });

    test('ioredis imported later is patched: the GET is a miss', () => {
      expect(vectorOf(exposition, 'django_cache_get_misses_total')).toEqual(['{"backend":"redis"} 1']);
    });

    test('pg required later is patched: the connection and the query are counted', () => {
      expect(vectorOf(exposition, 'django_db_new_connections_total')).toEqual(['{"alias":"default","vendor":"postgresql"} 1']);
      expect(vectorOf(exposition, 'django_db_execute_total')).toEqual(['{"alias":"default","vendor":"postgresql"} 1']);
    });
  });
});
