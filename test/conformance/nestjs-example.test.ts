import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { vectorOf, type Exposition } from '../support/exposition.js';
import { exchange, type Exchange } from '../support/faults.js';
import { spawnApp, type RunningApp } from '../support/processes.js';

// The NestJS example (examples/nestjs/app.mjs) under the preload: its views, statuses and
// exceptions after a known script, on both HTTP paths and both Nest platforms.
const APP = 'examples/nestjs/app.mjs';
const JSON_BODY = { 'Content-Type': 'application/json' };
const SCRIPT: Exchange[] = [
  { path: '/api/v1/items/1' },
  { path: '/api/v1/items/9' },
  { method: 'POST', path: '/api/v1/items', headers: JSON_BODY, body: '{"name":"mouse"}' },
  { path: '/api/v1/items/2' },
  { method: 'POST', path: '/api/v1/items', headers: JSON_BODY, body: '{"name":7}' },
  { path: '/api/admin/stats' },
  { path: '/nope' },
];

describe.each([
  ['express', 'fast'],
  ['express', 'otel'],
  ['fastify', 'fast'],
])('the NestJS example on %s, %s path', (platform, path) => {
  let run: { app: RunningApp; statuses: number[]; exp: Exposition };
  beforeAll(async () => {
    const app = await spawnApp(APP, { env: { PORT: '0', HOST: '127.0.0.1', NEST_PLATFORM: platform, PROMETHEUS_HTTP_INSTRUMENTATION: path } });
    const statuses = (await exchange(app, SCRIPT)).map((o) => o.status);
    run = { app, statuses, exp: await app.scrape() };
  });
  afterAll(async () => {
    await run?.app.stop();
  });

  test('the example answers as its routes say', () => {
    expect(run.statuses).toEqual([200, 404, 201, 200, 400, 403, 404]);
  });

  test("views are Nest's route templates with the global prefix and the URI version; an unknown URL is <unnamed view>", () => {
    expect(vectorOf(run.exp, 'django_http_responses_total_by_status_view_method_total')).toEqual([
      '{"method":"GET","status":"200","view":"/api/v1/items/:id"} 2',
      '{"method":"GET","status":"403","view":"/api/admin/stats"} 1',
      '{"method":"GET","status":"404","view":"/api/v1/items/:id"} 1',
      '{"method":"GET","status":"404","view":"<unnamed view>"} 1',
      '{"method":"POST","status":"201","view":"/api/v1/items"} 1',
      '{"method":"POST","status":"400","view":"/api/v1/items"} 1',
    ]);
  });

  test("exceptions: the guard's, ValidationPipe's and the handler's, by class; Nest's own 404 none", () => {
    expect(vectorOf(run.exp, 'django_http_exceptions_total_by_type_total')).toEqual([
      '{"type":"BadRequestException"} 1',
      '{"type":"ForbiddenException"} 1',
      '{"type":"NotFoundException"} 1',
    ]);
    expect(vectorOf(run.exp, 'django_http_exceptions_total_by_view_total')).toEqual([
      '{"view":"/api/admin/stats"} 1',
      '{"view":"/api/v1/items"} 1',
      '{"view":"/api/v1/items/:id"} 1',
    ]);
  });
});
