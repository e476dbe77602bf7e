import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, test, vi } from 'vitest';
import { enableNestAdapter } from '../../src/http/frameworks/nestjs.js';
import type { HttpRecorder } from '../../src/http/recorder.js';
import { describeFaultModes, playAndStop, type Exchange, type Observed } from '../support/faults.js';
import { Client, playEachVariant, testEntryFamilies, testResponseBodies, testVariantsAgree } from '../support/framework-traffic.js';
import { vectorOf, type Exposition } from '../support/exposition.js';
import { ROOT, spawnApp, type RunningApp } from '../support/processes.js';

const APP = 'test/fixtures/nestjs-app.mjs';
/** The same app on Nest's fastify platform, for the fault suite (which passes no environment). */
const FASTIFY_APP = 'test/fixtures/nestjs-fastify-app.mjs';
/** NestJS 10 has its own install (`npm ci --prefix test/frameworks/nest10`): the root's is NestJS 11. */
const NEST10 = 'test/frameworks/nest10';
const nest10Installed = existsSync(`${ROOT}${NEST10}/node_modules/@nestjs/core/package.json`);
/** In CI a missing NestJS 10 install fails its variants instead of leaving them out. */
const nest10Required = process.env.CI === 'true';
/** ESM import with import-in-the-middle's loader registered (PROMETHEUS_ESM_HOOK=true). */
const IMPORT_WITH_LOADER = 'import with the ESM loader';

/** NestJS major, platform, HTTP path, and how the app loads Nest (ESM import or CommonJS require). */
type Variant = readonly [major: '10' | '11', platform: 'express' | 'fastify', path: 'fast' | 'otel', loader: string];
const NEST11: Variant[] = [
  ['11', 'express', 'fast', 'import'],
  ['11', 'express', 'otel', 'import'],
  ['11', 'express', 'fast', 'require'],
  ['11', 'express', 'fast', IMPORT_WITH_LOADER],
  ['11', 'fastify', 'fast', 'import'],
  ['11', 'fastify', 'otel', 'require'],
];
const NEST10_VARIANTS: Variant[] = [
  ['10', 'express', 'fast', 'import'],
  ['10', 'express', 'otel', 'require'],
  ['10', 'fastify', 'fast', 'require'],
  ['10', 'fastify', 'otel', 'import'],
];
const VARIANTS = nest10Installed || nest10Required ? [...NEST11, ...NEST10_VARIANTS] : NEST11;
/** The versions each major runs on: Nest 11 on express 5 and fastify 5, Nest 10 on express 4 and fastify 4. */
const FRAMEWORK_MAJOR = { '11': '5', '10': '4' } as const;

/** A body ValidationPipe refuses (`name` must be a string), of exactly 300 bytes as the shared script wants. */
const INVALID_ITEM = `{"name":42,"note":"${'x'.repeat(279)}"}`;

interface Run {
  app: RunningApp;
  statuses: Record<string, number>;
  after: Exposition;
  again: Exposition;
  client: Client;
}

function variantEnv(major: string, platform: string, path: string, loader: string): Record<string, string | undefined> {
  return {
    NEST_PLATFORM: platform,
    NEST_LOADER: loader === 'require' ? 'require' : 'import',
    NEST_PACKAGES: major === '10' ? NEST10 : undefined,
    PROMETHEUS_HTTP_INSTRUMENTATION: path,
    PROMETHEUS_ESM_HOOK: loader === IMPORT_WITH_LOADER ? 'true' : undefined,
  };
}

/** Starts the fixture in one variant; several start at once, so each gets more time than one app's default. */
async function startApp(major: string, platform: string, path: string, loader: string): Promise<RunningApp> {
  if (major === '10' && !nest10Installed) throw new Error(`NestJS 10 is not installed: run npm ci --prefix ${NEST10}`);
  return spawnApp(APP, { env: variantEnv(major, platform, path, loader), timeoutMs: 60_000 });
}

/** Starts the fixture in one variant and plays the shared script of 213 requests. */
async function play(major: '10' | '11', platform: string, path: string, loader: string): Promise<Run> {
  const app = await startApp(major, platform, path, loader);
  const client = new Client(app);
  const statuses: Record<string, number> = {
    users: await client.send('/api/users/1', { headers: { 'X-Requested-With': 'XMLHttpRequest' } }),
    proxied: await client.send('/api/users/3', { headers: { 'X-Forwarded-Proto': 'https' } }),
    item: await client.send('/api/v1/items/9'),
    missingItem: await client.send('/api/v1/items/0'),
    guarded: await client.send('/api/guarded'),
    throw: await client.send('/api/throw'),
    conflict: await client.send('/api/conflict'),
    teapot: await client.send('/api/teapot'),
    intercepted: await client.send('/api/intercepted'),
    stream: await client.send('/api/stream', undefined, 'streaming'),
    invalid: await client.send('/api/v1/items', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: INVALID_ITEM }),
    purge: await client.send('/api/users/1', { method: 'PURGE' }),
  };
  const { after, again } = await client.finishScript(statuses);
  return { app, statuses, after, again, client };
}

// Ten Nest apps start and play the script at once, on a machine that may be busy with other suites.
vi.setConfig({ hookTimeout: 120_000 });
const runOf = playEachVariant(VARIANTS, play);

if (!nest10Installed && !nest10Required) test.skip(`NestJS 10 variants: not installed (npm ci --prefix ${NEST10})`, () => {});

/** Conformance of a NestJS app (global prefix, URI versioning, a guard, ValidationPipe, an interceptor, app filters): every HTTP family after a known script. */
describe.each(VARIANTS)('NestJS %s on %s, %s path, Nest loaded by %s', (major, platform, path, loader) => {
  const run = (): Run => runOf(major, platform, path, loader);

  test('the app runs on the NestJS and framework majors of its variant', () => {
    expect(run().app.stdout()).toMatch(new RegExp(`@nestjs/core ${major}\\.\\d+\\.\\d+ ${platform} ${FRAMEWORK_MAJOR[major]}\\.`));
  });

  test("the script got the responses the app gives: Nest's not-found route answers unknown URLs and PURGE (404)", () => {
    expect(run().statuses).toEqual({
      users: 200, proxied: 200, item: 200, missingItem: 404, guarded: 403, throw: 500, conflict: 409, teapot: 418, intercepted: 500,
      stream: 200, invalid: 400, purge: 404, scrape: 200,
    });
  });

  testEntryFamilies(run, 'the platform\'s trust proxy + X-Forwarded-Proto');

  test("views: the route template with the global prefix, the URI version and the controller path; Nest's not-found route is <unnamed view>", () => {
    const { after } = run();
    expect(vectorOf(after, 'django_http_requests_total_by_view_transport_method_total')).toEqual([
      '{"method":"GET","transport":"http","view":"/api/conflict"} 1',
      '{"method":"GET","transport":"http","view":"/api/guarded"} 1',
      '{"method":"GET","transport":"http","view":"/api/intercepted"} 1',
      '{"method":"GET","transport":"http","view":"/api/stream"} 1',
      '{"method":"GET","transport":"http","view":"/api/teapot"} 1',
      '{"method":"GET","transport":"http","view":"/api/throw"} 1',
      '{"method":"GET","transport":"http","view":"/api/users/:id"} 1',
      '{"method":"GET","transport":"http","view":"/api/v1/items/:id"} 2',
      '{"method":"GET","transport":"http","view":"prometheus-django-metrics"} 1',
      '{"method":"GET","transport":"https","view":"/api/users/:id"} 1',
      '{"method":"POST","transport":"http","view":"/api/v1/items"} 1',
    ]);
    expect(vectorOf(after, 'django_http_requests_latency_seconds_by_view_method_count')).toEqual([
      '{"method":"GET","view":"/api/conflict"} 1',
      '{"method":"GET","view":"/api/guarded"} 1',
      '{"method":"GET","view":"/api/intercepted"} 1',
      '{"method":"GET","view":"/api/stream"} 1',
      '{"method":"GET","view":"/api/teapot"} 1',
      '{"method":"GET","view":"/api/throw"} 1',
      '{"method":"GET","view":"/api/users/:id"} 2',
      '{"method":"GET","view":"/api/v1/items/:id"} 2',
      '{"method":"GET","view":"<unnamed view>"} 200',
      '{"method":"GET","view":"prometheus-django-metrics"} 1',
      '{"method":"POST","view":"/api/v1/items"} 1',
      '{"method":"PURGE","view":"<unnamed view>"} 1',
    ]);
    // The flood of unknown URLs adds no series of its own anywhere.
    expect(after.samples.filter((s) => Object.values(s.labels).some((v) => v.includes('flood')))).toEqual([]);
  });

  test('responses by status, view and method', () => {
    const { after } = run();
    expect(vectorOf(after, 'django_http_responses_total_by_status_total')).toEqual([
      '{"status":"200"} 5',
      '{"status":"400"} 1',
      '{"status":"403"} 1',
      '{"status":"404"} 202',
      '{"status":"409"} 1',
      '{"status":"418"} 1',
      '{"status":"500"} 2',
    ]);
    expect(vectorOf(after, 'django_http_responses_total_by_status_view_method_total')).toEqual([
      '{"method":"<invalid method>","status":"404","view":"<unnamed view>"} 1',
      '{"method":"GET","status":"200","view":"/api/stream"} 1',
      '{"method":"GET","status":"200","view":"/api/users/:id"} 2',
      '{"method":"GET","status":"200","view":"/api/v1/items/:id"} 1',
      '{"method":"GET","status":"200","view":"prometheus-django-metrics"} 1',
      '{"method":"GET","status":"403","view":"/api/guarded"} 1',
      '{"method":"GET","status":"404","view":"/api/v1/items/:id"} 1',
      '{"method":"GET","status":"404","view":"<unnamed view>"} 200',
      '{"method":"GET","status":"409","view":"/api/conflict"} 1',
      '{"method":"GET","status":"418","view":"/api/teapot"} 1',
      '{"method":"GET","status":"500","view":"/api/intercepted"} 1',
      '{"method":"GET","status":"500","view":"/api/throw"} 1',
      '{"method":"POST","status":"400","view":"/api/v1/items"} 1',
    ]);
  });

  testResponseBodies(run, 'the StreamableFile');

  test("exceptions: by the thrown object's class, from a guard, a handler, ValidationPipe and an interceptor, also when the app's filters answer; Nest's not-found route none", () => {
    const { after } = run();
    expect(vectorOf(after, 'django_http_exceptions_total_by_type_total')).toEqual([
      '{"type":"BadRequestException"} 1',
      '{"type":"ConflictException"} 1',
      '{"type":"ForbiddenException"} 1',
      '{"type":"NotFoundException"} 1',
      '{"type":"RangeError"} 1',
      '{"type":"TeapotError"} 1',
      '{"type":"TypeError"} 1',
    ]);
    expect(vectorOf(after, 'django_http_exceptions_total_by_view_total')).toEqual([
      '{"view":"/api/conflict"} 1',
      '{"view":"/api/guarded"} 1',
      '{"view":"/api/intercepted"} 1',
      '{"view":"/api/teapot"} 1',
      '{"view":"/api/throw"} 1',
      '{"view":"/api/v1/items"} 1',
      '{"view":"/api/v1/items/:id"} 1',
    ]);
  });
});

for (const platform of ['express', 'fastify'] as const) {
  const variants = VARIANTS.filter((v) => v[1] === platform);
  testVariantsAgree(`NestJS on ${platform}: every variant exposes the same HTTP vectors as the first (timed latency lines aside)`, variants, runOf);
}

/** The first variant of each NestJS major and platform. */
const PER_PLATFORM = VARIANTS.filter((v, i) => VARIANTS.findIndex((w) => w[0] === v[0] && w[1] === v[1]) === i);
/** Errors raised before a Nest handler runs: a Nest middleware's, and the platform's own for a body it cannot parse. */
const BEFORE_HANDLER: Exchange[] = [{ path: '/api/refused' }, { method: 'POST', path: '/api/v1/items', headers: { 'Content-Type': 'application/json' }, body: '{bad' }];
/**
 * Where each platform counts them: express runs app.use middleware and its body parser before
 * routing (no view yet), fastify routes before its hooks and body parser.
 */
const COUNTED_BEFORE_HANDLER = {
  express: {
    byView: ['{"view":"<unnamed view>"} 2'],
    byStatus: ['{"method":"GET","status":"401","view":"<unnamed view>"} 1', '{"method":"POST","status":"400","view":"<unnamed view>"} 1'],
  },
  fastify: {
    byView: ['{"view":"/api/refused"} 1', '{"view":"/api/v1/items"} 1'],
    byStatus: ['{"method":"GET","status":"401","view":"/api/refused"} 1', '{"method":"POST","status":"400","view":"/api/v1/items"} 1'],
  },
} as const;
/** The class of the platform's JSON parse error: fastify 5 wraps JSON.parse's SyntaxError in a FastifyError. */
const parseErrorOf = (major: string, platform: string) => (platform === 'fastify' && major === '11' ? 'FastifyError' : 'SyntaxError');

describe.each(PER_PLATFORM)('NestJS %s on %s: errors before the handler (a script of its own)', (major, platform, path, loader) => {
  let played: { seen: Observed[]; exp: Exposition };
  beforeAll(async () => {
    const { seen, exp } = await playAndStop(await startApp(major, platform, path, loader), BEFORE_HANDLER, true);
    played = { seen, exp: exp! };
  });

  test("a Nest middleware's exception and an unparsable body count by class, under the view the platform had matched then", () => {
    const counted = COUNTED_BEFORE_HANDLER[platform];
    expect(played.seen.map((o) => o.status)).toEqual([401, 400]);
    expect(vectorOf(played.exp, 'django_http_exceptions_total_by_type_total')).toEqual([`{"type":"${parseErrorOf(major, platform)}"} 1`, '{"type":"UnauthorizedException"} 1']);
    expect(vectorOf(played.exp, 'django_http_exceptions_total_by_view_total')).toEqual(counted.byView);
    expect(vectorOf(played.exp, 'django_http_responses_total_by_status_view_method_total')).toEqual(counted.byStatus);
  });
});

const FAULT_STEPS: Exchange[] = [
  '/api/users/7',
  '/api/v1/items/3',
  '/api/v1/items/0',
  '/api/guarded',
  '/api/throw',
  '/api/conflict',
  '/api/teapot',
  '/api/intercepted',
  '/api/stream',
  '/api/refused',
  '/nowhere',
].map((path) => ({ path }));
FAULT_STEPS.push(
  { method: 'POST', path: '/api/v1/items', headers: { 'Content-Type': 'application/json' }, body: '{"name":"ok"}' },
  { method: 'POST', path: '/api/v1/items', headers: { 'Content-Type': 'application/json' }, body: INVALID_ITEM },
  { path: '/nowhere', headers: { 'X-Requested-With': 'XMLHttpRequest', 'X-Forwarded-Proto': 'https' } },
  { method: 'HEAD', path: '/api/users/7' },
  { method: 'BREW', path: '/nowhere' },
);

/** Without the preload, each platform answers the fault script as the routes say (BREW is refused by Node's parser: 400). */
const checkBare = (bare: Observed[]) => {
  expect(bare.map((o) => o.status)).toEqual([200, 200, 404, 403, 500, 409, 418, 500, 200, 401, 404, 201, 400, 404, 200, 400]);
};
describeFaultModes("NestJS 11 on express: the package's failures never reach the app", APP, FAULT_STEPS, ['NestJS adapter ExceptionsHandler.next'], checkBare);
describeFaultModes("NestJS 11 on fastify: the package's failures never reach the app", FASTIFY_APP, FAULT_STEPS, ['NestJS adapter ExceptionsHandler.next'], checkBare);

test("the adapter wraps Nest's ExceptionsHandler, RoutesResolver and RouterExceptionFilters when @nestjs/core loads, and disabling restores them", () => {
  type Wrappable = { __wrapped?: boolean };
  const require = createRequire(import.meta.url);
  const disable = enableNestAdapter(undefined as unknown as HttpRecorder);
  const file = <T>(path: string) => require(`@nestjs/core/${path}`) as Record<string, { prototype: Record<string, Wrappable> }> as T;
  const prototypes = () => [
    file<{ ExceptionsHandler: { prototype: { next: Wrappable } } }>('exceptions/exceptions-handler.js').ExceptionsHandler.prototype.next,
    file<{ RoutesResolver: { prototype: { registerNotFoundHandler: Wrappable } } }>('router/routes-resolver.js').RoutesResolver.prototype.registerNotFoundHandler,
    file<{ RouterExceptionFilters: { prototype: { create: Wrappable } } }>('router/router-exception-filters.js').RouterExceptionFilters.prototype.create,
  ].map((method) => method.__wrapped === true);
  expect(prototypes()).toEqual([true, true, true]);
  disable();
  expect(prototypes()).toEqual([false, false, false]);
  // A restarted distribution re-enables the same module hooks, which re-patch the loaded files.
  const again = enableNestAdapter(undefined as unknown as HttpRecorder);
  expect(prototypes()).toEqual([true, true, true]);
  again();
  expect(prototypes()).toEqual([false, false, false]);
});
