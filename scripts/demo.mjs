// `npm run demo`: starts the express example under the preload, as users run their apps
// (`node --import otel-django-metrics/register app.mjs`), sends it some traffic so the metrics page
// has something to show, then forwards the app's output until Ctrl-C. No services needed: the
// example's database and cache are embedded unless DATABASE_URL (etc.) say otherwise.
// `--smoke`: the same, then one scrape checked for the 19 HTTP families; prints OK and exits 0.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REGISTER = `${ROOT}dist/register.js`;
const APP = `${ROOT}examples/express/app.mjs`;
const START_TIMEOUT_MS = 60_000;
const PROGRESS_MS = 5_000;
const smoke = process.argv.includes('--smoke');

/**
 * A few dozen requests over every kind of route: hits and misses, a 404 with and without a route,
 * the 500, and one item created, updated and deleted through the registered model.
 */
const TRAFFIC = [
  ...repeat(3, '/'),
  ...repeat(3, '/api/items/1', '/api/items/2', '/api/items/3', '/api/items/4', '/api/items/5'),
  '/api/items/42',
  ...repeat(2, '/api/slow?ms=150'),
  ...repeat(2, '/api/boom'),
  ...repeat(3, '/health'),
  ...repeat(2, '/no/such/page'),
  ...repeat(2, { path: '/api/items/2', headers: { 'X-Requested-With': 'XMLHttpRequest' } }),
  { method: 'POST', path: '/api/items', json: { id: 6, name: 'speaker' } },
  { method: 'PATCH', path: '/api/items/6', json: { stock: 3 } },
  { method: 'DELETE', path: '/api/items/6' },
  '/metrics',
];

function repeat(times, ...requests) {
  return Array.from({ length: times }, () => requests).flat();
}

if (!existsSync(REGISTER)) {
  console.error('dist/register.js is missing: run `npm run build` first (`npm run demo` does).');
  process.exit(1);
}

const env = {
  ...process.env,
  PORT: process.env.PORT ?? '8000',
  PROMETHEUS_METRICS_EXPORT_PORT: process.env.PROMETHEUS_METRICS_EXPORT_PORT ?? '9464',
  // The migration gauges are opt-in, as in django-prometheus: the demo shows them.
  PROMETHEUS_EXPORT_MIGRATIONS: process.env.PROMETHEUS_EXPORT_MIGRATIONS ?? 'true',
};
const metricsUrl = `http://localhost:${env.PROMETHEUS_METRICS_EXPORT_PORT}/metrics`;

// The embedded database takes 10-30 s to start: say so at once, and keep saying so, or the demo looks hung.
console.log('demo: starting the express example under the preload; its embedded PostgreSQL database takes 10-30 s to start...');
const starting = Date.now();
const progress = setInterval(() => console.log(`demo: still starting (${Math.round((Date.now() - starting) / 1000)} s)...`), PROGRESS_MS);
const app = spawn(process.execPath, ['--import', REGISTER, APP], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
app.stdout.pipe(process.stdout);
app.stderr.pipe(process.stderr);
// Never leave the app running behind us, whatever ends this process.
process.on('exit', () => app.kill('SIGTERM'));

const appPort = await listeningPort(app);
clearInterval(progress);
if (appPort === undefined) {
  console.error(`demo: the app did not start (exit code ${app.exitCode ?? 'none'})`);
  process.exit(1);
}
const appUrl = `http://localhost:${appPort}`;
for (const request of TRAFFIC) await send(appUrl, request);

console.log(`
demo: the express example is running, with ${TRAFFIC.length} requests of traffic already sent.
  app:      ${appUrl}/
  metrics:  ${metricsUrl}   (dedicated port; the app also serves ${appUrl}/metrics)
  try:      curl -s ${metricsUrl} | grep ^django_http_responses_total_by_status_view_method_total
`);

if (smoke) {
  const problems = await checkMetrics();
  console.log(problems.length ? `FAILED: ${problems.join('; ')}` : 'OK');
  await stopApp();
  process.exit(problems.length ? 1 : 0);
}

console.log('Press Ctrl-C to stop.');
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, async () => {
    stopping = true;
    await stopApp();
    process.exit(0);
  });
}
app.once('exit', (code, signal) => {
  if (stopping) return;
  console.error(`demo: the app exited (${signal ?? `code ${code}`})`);
  process.exit(code ?? 1);
});

/** Resolves with the port from the app's `listening <port>` line, or undefined if it exits or times out first. */
function listeningPort(child) {
  return new Promise((resolve) => {
    let out = '';
    const timer = setTimeout(() => resolve(undefined), START_TIMEOUT_MS);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

async function send(base, request) {
  const { method = 'GET', path, headers = {}, json } = typeof request === 'string' ? { path: request } : request;
  const body = json === undefined ? undefined : JSON.stringify(json);
  const res = await fetch(base + path, { method, body, headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' } });
  await res.arrayBuffer();
}

/**
 * What is wrong with one scrape of the dedicated port: missing HTTP families, traffic not counted,
 * or the model's writes and the migrations not shown.
 */
async function checkMetrics() {
  const { HTTP } = await import('../dist/views/index.js');
  let text;
  try {
    text = await (await fetch(metricsUrl)).text();
  } catch (err) {
    return [`cannot fetch ${metricsUrl}: ${err.cause?.message ?? err.message}`];
  }
  const types = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
  const problems = Object.values(HTTP)
    .filter((family) => !types.has(family.name))
    .map((family) => `missing ${family.name}`);
  const expected = {
    django_http_requests_before_middlewares_total: TRAFFIC.length,
    'django_model_inserts_total{model="item"}': 1,
    'django_model_updates_total{model="item"}': 1,
    'django_model_deletes_total{model="item"}': 1,
    'django_migrations_applied_total{connection="default"}': 3,
    'django_migrations_unapplied_total{connection="default"}': 0,
  };
  for (const [series, value] of Object.entries(expected)) {
    const found = text.split('\n').find((line) => line.startsWith(`${series} `))?.slice(series.length + 1);
    if (Number(found) !== value) problems.push(`${series} is ${found}, expected ${value}`);
  }
  return problems;
}

function stopApp() {
  if (app.exitCode !== null || app.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    app.once('exit', resolve);
    app.kill('SIGTERM');
  });
}
