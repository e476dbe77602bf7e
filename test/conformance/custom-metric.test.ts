import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { vectorOf, type Exposition } from '../support/exposition.js';
import { spawnApp, type RunningApp } from '../support/processes.js';

// The classic django-prometheus recipe (a counter of requests by view, path and referer) built
// with getMeter() and viewOf() in examples/custom-metric/app.mjs: its exact vector after a known
// script, on both HTTP paths, and under a namespace.
const APP = 'examples/custom-metric/app.mjs';
const SCRIPT: Array<[path: string, referer?: string]> = [
  ['/', 'https://a.example/'],
  ['/items/1', 'https://a.example/list'],
  ['/items/1', 'https://a.example/list'],
  ['/items/2'],
  ['/nope'],
];

async function play(env: Record<string, string>): Promise<{ app: RunningApp; exp: Exposition }> {
  const app = await spawnApp(APP, { env: { PORT: '0', HOST: '127.0.0.1', ...env } });
  for (const [path, referer] of SCRIPT) await (await fetch(app.url(path), { headers: referer ? { referer } : {} })).arrayBuffer();
  return { app, exp: await app.scrape() };
}

const EXPECTED = [
  '{"path":"/","referer":"https://a.example/","view":"/"} 1',
  '{"path":"/items/1","referer":"https://a.example/list","view":"/items/:id"} 2',
  '{"path":"/items/2","referer":"","view":"/items/:id"} 1',
  '{"path":"/nope","referer":"","view":"<unnamed view>"} 1',
];

describe.each([
  ['fast', ''],
  ['otel', ''],
  ['fast', 'shop'],
])('requests by view, path and referer (getMeter + viewOf), %s path, namespace %j', (path, namespace) => {
  let run: { app: RunningApp; exp: Exposition };
  beforeAll(async () => {
    run = await play({ PROMETHEUS_HTTP_INSTRUMENTATION: path, ...(namespace ? { PROMETHEUS_METRIC_NAMESPACE: namespace } : {}) });
  });
  afterAll(async () => {
    await run?.app.stop();
  });
  const prefix = namespace ? `${namespace}_` : '';

  test('the exact vector: one series per view, path and referer; unmatched URLs under <unnamed view>', () => {
    expect(vectorOf(run.exp, `${prefix}django_http_requests_total_by_view_path_referer_total`)).toEqual(EXPECTED);
  });

  test("viewOf gave the views the package's own per-view families carry", () => {
    expect(vectorOf(run.exp, `${prefix}django_http_responses_total_by_status_view_method_total`)).toEqual([
      '{"method":"GET","status":"200","view":"/"} 1',
      '{"method":"GET","status":"200","view":"/items/:id"} 3',
      '{"method":"GET","status":"404","view":"<unnamed view>"} 1',
    ]);
  });
});
