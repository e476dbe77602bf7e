import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { HTTP } from '../../views/index.js';
import { valueOf, vectorOf, type Exposition } from '../support/exposition.js';
import { freePort, REGISTER, ROOT, spawnApp, type RunningApp, type SpawnOptions } from '../support/processes.js';

/** Activation: the preload flag alone, in ESM and CommonJS apps, through --import or NODE_OPTIONS. */
const ESM_APP = 'examples/express/app.mjs';
const CJS_APP = 'examples/commonjs/app.cjs';
// The examples listen on PORT (default 8000): give them a free one on loopback.
const LOOPBACK = { PORT: '0', HOST: '127.0.0.1' };
// The ESM example opens an embedded database and runs its migrations first: 10-30 s on a quiet
// machine, more while other suites load it.
const START_TIMEOUT_MS = 60_000;

function startExample(script: string, options: SpawnOptions = {}): Promise<RunningApp> {
  return spawnApp(script, { timeoutMs: START_TIMEOUT_MS, ...options, env: { ...LOOPBACK, ...options.env } });
}

async function get(app: RunningApp, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(app.url(path));
  return { status: res.status, body: await res.text() };
}

describe.each([
  ['ESM', ESM_APP, 'Error'],
  ['CommonJS', CJS_APP, 'TypeError'],
])('the %s example, started with --import dist/register.js', (_kind, script, thrownType) => {
  let app: RunningApp;
  let exp: Exposition;

  beforeAll(async () => {
    app = await startExample(script);
    expect((await get(app, '/health')).status).toBe(200);
    await get(app, '/api/items/1');
    expect((await get(app, '/api/boom')).status).toBe(500);
    exp = await app.scrape();
  }, START_TIMEOUT_MS + 5_000);
  afterAll(() => app?.stop());

  test('serves the 19 HTTP families, counting the requests', () => {
    for (const family of Object.values(HTTP)) expect(exp.families.get(family.name)?.type, family.name).toBe(family.type);
    expect(valueOf(exp, 'django_http_requests_before_middlewares_total')).toBe(3);
    expect(valueOf(exp, 'django_http_responses_before_middlewares_total')).toBe(3);
    expect(valueOf(exp, 'django_http_responses_total_by_status_view_method_total', { status: '200', view: 'health_check:health_check_home', method: 'GET' })).toBe(1);
    expect(valueOf(exp, 'django_http_responses_total_by_status_total', { status: '500' })).toBe(1);
  });

  test('express is instrumented: route templates as views, the thrown error counted', () => {
    // The health route renames its view with setViewName: the last name wins in every per-view
    // family, the request counter included.
    expect(vectorOf(exp, 'django_http_requests_total_by_view_transport_method_total')).toEqual([
      '{"method":"GET","transport":"http","view":"/api/boom"} 1',
      '{"method":"GET","transport":"http","view":"/api/items/:id"} 1',
      '{"method":"GET","transport":"http","view":"health_check:health_check_home"} 1',
    ]);
    expect(vectorOf(exp, 'django_http_exceptions_total_by_type_total')).toEqual([`{"type":"${thrownType}"} 1`]);
    expect(vectorOf(exp, 'django_http_exceptions_total_by_view_total')).toEqual(['{"view":"/api/boom"} 1']);
  });
});

describe('other activation paths', () => {
  let app: RunningApp | undefined;
  afterEach(() => app?.stop());

  test('NODE_OPTIONS="--import <abs dist/register.js>" works like the flag', async () => {
    app = await startExample(CJS_APP, { nodeArgs: [], env: { NODE_OPTIONS: `--import ${REGISTER}` } });
    await get(app, '/health');
    const exp = await app.scrape();
    expect(valueOf(exp, 'django_http_requests_before_middlewares_total')).toBe(1);
    expect(vectorOf(exp, 'django_http_responses_total_by_status_view_method_total')).toEqual([
      '{"method":"GET","status":"200","view":"health_check:health_check_home"} 1',
    ]);
  });

  test('OTEL_SDK_DISABLED=true: no metrics server, the app serves, the API is a no-op', async () => {
    app = await startExample(CJS_APP, { env: { OTEL_SDK_DISABLED: 'true' } });
    expect(await get(app, '/health')).toEqual({ status: 200, body: '{"status":"ok"}' });
    expect(await get(app, '/metrics')).toEqual({ status: 503, body: 'otel-django-metrics is not started\n' });
    await expect(fetch(`http://127.0.0.1:${app.metricsPort}/metrics`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });
    expect(app.stderr()).toBe('');
  });
});

test('the demo smoke run (`node scripts/demo.mjs --smoke`) says at once that the database is starting, exits 0 and prints OK', async () => {
  const metricsPort = await freePort();
  const env = { ...process.env, PORT: '0', PROMETHEUS_METRICS_EXPORT_PORT: String(metricsPort) };
  const run = promisify(execFile)(process.execPath, ['scripts/demo.mjs', '--smoke'], { cwd: ROOT, env });
  // A failing run rejects with its output attached; show it.
  const { stdout } = await run.catch((err: { code?: number; stdout?: string; stderr?: string }) => {
    throw new Error(`demo exited with ${err.code}\nstdout: ${err.stdout}\nstderr: ${err.stderr}`);
  });
  expect(stdout.split('\n')[0]).toBe('demo: starting the express example under the preload; its embedded PostgreSQL database takes 10-30 s to start...');
  expect(stdout).toContain(`  metrics:  http://localhost:${metricsPort}/metrics `);
  expect(stdout).toMatch(/^OK$/m);
}, 90_000);
