import { afterEach, expect, test } from 'vitest';
import { HTTP } from '../../views/index.js';
import { getEach, pointsOf, pushedAfter, startOtlpReceiver, startPushing, type OtlpReceiver } from '../support/otlp-receiver.js';
import { freePort, REGISTER, type RunningApp, type SpawnOptions } from '../support/processes.js';

const PREFIX = 'otel-django-metrics: ';
const LATER = '; the next exports go on, and further failures of this kind are not logged';

const running: Array<RunningApp | OtlpReceiver> = [];
afterEach(async () => {
  for (const r of running.splice(0)) await ('stop' in r ? r.stop() : r.close());
});

async function receiver(port?: number): Promise<OtlpReceiver> {
  const r = await startOtlpReceiver(port);
  running.push(r);
  return r;
}

async function start(base: string, env: SpawnOptions['env'] = {}, nodeArgs?: string[]): Promise<RunningApp> {
  const app = await startPushing(base, env, { nodeArgs });
  running.push(app);
  return app;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The longest event-loop delay the app saw since the last call (ms). */
async function loopDelay(app: RunningApp): Promise<number> {
  return Number(await (await fetch(app.url('/loop'))).text());
}

/** Milliseconds between consecutive requests. */
const gaps = (r: OtlpReceiver) => r.requests.slice(1).map((q, i) => q.at - r.requests[i]!.at);

test('receiver down, then answering 500, then up: one line per kind, the app serves throughout, and the first push that gets through carries every count', async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/v1/metrics`;
  const app = await start(`http://127.0.0.1:${port}`, { OTEL_EXPORTER_OTLP_TIMEOUT: '500', OTEL_METRIC_EXPORT_INTERVAL: '100' });
  await getEach(app, '/view/a', '/view/a');
  await sleep(1500);
  expect(app.stderr()).toBe(`${PREFIX}OTLP export to ${url} failed: the receiver is unreachable (ECONNREFUSED)${LATER}\n`);

  const up = await receiver(port);
  up.reply = () => ({ status: 500 });
  await getEach(app, '/view/a');
  await up.waitFor((r) => r.length >= 5, 10_000, 'five failed exports');
  // 500 is not retryable (OTLP/HTTP): one request per export, an interval apart.
  expect(Math.min(...gaps(up))).toBeGreaterThanOrEqual(60);
  expect(app.stderr()).toBe(
    `${PREFIX}OTLP export to ${url} failed: the receiver is unreachable (ECONNREFUSED)${LATER}\n` + `${PREFIX}OTLP export to ${url} failed: HTTP 500${LATER}\n`,
  );

  up.reply = () => ({ status: 200 });
  const since = Date.now();
  await getEach(app, '/view/a');
  const byView = (await pushedAfter(up, HTTP.requestsByViewTransportMethod.name, since)).get(HTTP.requestsByViewTransportMethod.name);
  expect(pointsOf(byView)).toEqual(['{"method":"GET","transport":"http","view":"a"} 4']);
  expect(app.stderr().split('\n').length).toBe(3);
});

test('a receiver that never answers: each request ends at OTEL_EXPORTER_OTLP_TIMEOUT, one line, and the app is never held up', async () => {
  const slow = await receiver();
  slow.reply = () => 'hang';
  // The export timeout (at most the interval) outlasts the request's: each export ends by the request's timeout.
  const app = await start(slow.base, { OTEL_EXPORTER_OTLP_TIMEOUT: '300', OTEL_METRIC_EXPORT_INTERVAL: '400' });
  await slow.waitFor((r) => r.length >= 4, 10_000, 'four timed-out exports');
  await loopDelay(app);
  const started = performance.now();
  for (let i = 0; i < 20; i++) await getEach(app, '/view/b');
  expect(performance.now() - started).toBeLessThan(1000);
  expect(await loopDelay(app)).toBeLessThan(50);
  expect(app.stderr()).toBe(`${PREFIX}OTLP export to ${slow.url} failed: no response within 300 ms (OTEL_EXPORTER_OTLP_TIMEOUT)${LATER}\n`);
  // One request at a time: a stalled one ends before the next starts.
  expect(Math.min(...gaps(slow))).toBeGreaterThanOrEqual(250);
});

test('OTEL_METRIC_EXPORT_TIMEOUT shorter than the request timeout: the reader gives up on an export, the next one finds its request still in flight (one line for each kind)', async () => {
  const slow = await receiver();
  slow.reply = () => 'hang';
  const app = await start(slow.base, { OTEL_METRIC_EXPORT_TIMEOUT: '150', OTEL_METRIC_EXPORT_INTERVAL: '400', OTEL_EXPORTER_OTLP_TIMEOUT: '1000' });
  await slow.waitFor((r) => r.length >= 2, 10_000, 'two exports');
  await sleep(1200);
  expect(app.stderr()).toBe(
    `${PREFIX}OTLP export to ${slow.url} failed: the previous export was still in flight${LATER}\n` +
      `${PREFIX}OTLP export to ${slow.url} failed: no response within 1000 ms (OTEL_EXPORTER_OTLP_TIMEOUT)${LATER}\n`,
  );
  // One request in flight at a time, however short the reader's patience.
  expect(Math.min(...gaps(slow))).toBeGreaterThanOrEqual(950);
});

test('503 with Retry-After: 2: retried by the exporter after 2 s, within OTEL_EXPORTER_OTLP_TIMEOUT, then one line', async () => {
  const busy = await receiver();
  busy.reply = () => ({ status: 503, headers: { 'Retry-After': '2' } });
  const app = await start(busy.base, { OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '4500', OTEL_METRIC_EXPORT_INTERVAL: '5000' });
  await busy.waitFor((r) => r.length >= 3, 15_000, 'an export and its two retries');
  const [first, second] = gaps(busy);
  expect(first).toBeGreaterThanOrEqual(1950);
  expect(first).toBeLessThan(2500);
  expect(second).toBeGreaterThanOrEqual(1950);
  await sleep(600);
  // The third retry would come after the timeout: the export fails.
  expect(busy.requests.length).toBe(3);
  expect(app.stderr()).toBe(`${PREFIX}OTLP export to ${busy.url} failed: the receiver kept answering 429, 502, 503 or 504 until the timeout${LATER}\n`);
});

test('hundreds of failed exports: memory stays bounded, the event loop free, one line', async () => {
  const failing = await receiver();
  failing.reply = () => ({ status: 500 });
  const app = await start(failing.base, { OTEL_METRIC_EXPORT_INTERVAL: '10' }, ['--expose-gc', '--import', REGISTER]);
  const heap = async () => Number(await (await fetch(app.url('/heap'))).text());
  await failing.waitFor((r) => r.length >= 50, 10_000, 'fifty failed exports');
  const before = await heap();
  await loopDelay(app);
  await failing.waitFor((r) => r.length >= 350, 20_000, '350 failed exports');
  const after = await heap();
  expect(after - before).toBeLessThan(2 * 1024 * 1024);
  expect(await loopDelay(app)).toBeLessThan(50);
  // At a 10 ms interval a slow export (a loaded machine) can still be in flight when the next one
  // starts: that is a kind of failure of its own, logged once too.
  const http500 = `${PREFIX}OTLP export to ${failing.url} failed: HTTP 500${LATER}`;
  const inFlight = `${PREFIX}OTLP export to ${failing.url} failed: the previous export was still in flight${LATER}`;
  const lines = app.stderr().split('\n').filter((line) => line !== '');
  expect(lines.sort()).toEqual(lines.length === 1 ? [http500] : [http500, inFlight].sort());
}, 40_000);
