import { describe, expect, test } from 'vitest';
import { vectorOf } from '../support/exposition.js';
import { REGISTER, spawnApp } from '../support/processes.js';

// configure({ viewName }) on every framework adapter: it is given the framework and the matched
// route's template, and its name is the view of every per-view family.
const HOOK = 'test/fixtures/view-name-hook.mjs';

const CASES: Array<[label: string, app: string, env: Record<string, string>, path: string, view: string]> = [
  ['express 5', 'test/fixtures/express5-app.mjs', {}, '/users/7', 'express /users/:id'],
  ['fastify 5', 'test/fixtures/fastify-app.mjs', {}, '/users/7', 'fastify /users/:id'],
  ['koa 3', 'test/fixtures/koa-app.mjs', {}, '/users/7', 'koa /users/:id'],
  ['hapi 21', 'test/fixtures/hapi-app.mjs', {}, '/users/7', 'hapi /users/{id}'],
  ['NestJS 11 on express', 'test/fixtures/nestjs-app.mjs', { NEST_PLATFORM: 'express' }, '/api/users/7', 'express /api/users/:id'],
  ['NestJS 11 on fastify', 'test/fixtures/nestjs-app.mjs', { NEST_PLATFORM: 'fastify' }, '/api/users/7', 'fastify /api/users/:id'],
];

describe.each(CASES)('viewName on %s', (_label, script, env, path, view) => {
  test('named from the framework and the route template, in the per-view families', async () => {
    const app = await spawnApp(script, { env, nodeArgs: ['--import', REGISTER, '--import', `./${HOOK}`], timeoutMs: 60_000 });
    try {
      expect((await fetch(app.url(path))).status).toBe(200);
      await (await fetch(app.url('/nope-nothing-here'))).arrayBuffer();
      const exp = await app.scrape();
      expect(vectorOf(exp, 'django_http_requests_total_by_view_transport_method_total')).toEqual([`{"method":"GET","transport":"http","view":${JSON.stringify(view)}} 1`]);
      expect(vectorOf(exp, 'django_http_responses_total_by_status_view_method_total')).toEqual([
        `{"method":"GET","status":"200","view":${JSON.stringify(view)}} 1`,
        '{"method":"GET","status":"404","view":"<unnamed view>"} 1',
      ]);
    } finally {
      await app.stop();
    }
  });
});
