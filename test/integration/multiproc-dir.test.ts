import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { parseExposition, valueOf, type Exposition } from '../support/exposition.js';
import { containedFailures, exchange, spawnBare, spawnFaulty, type FaultMode } from '../support/faults.js';
import { spawnApp, type RunningApp } from '../support/processes.js';

// Several plain processes started by hand with the preload and one PROMETHEUS_MULTIPROC_DIR: each
// publishes its state there, each serves the merge of all on its own dedicated port and in its
// in-app handler. The dedicated server's scrapes are never counted, so the merged counters must
// equal the requests the processes answered.
const APP = 'test/fixtures/multiproc-app.mjs';
const REQUESTS = 'django_http_requests_before_middlewares_total';
const RESPONSES = 'django_http_responses_total_by_status_total';
/** A process publishes what it recorded within 1 s; the waits allow for a loaded machine. */
const SETTLE_MS = 10_000;

const dir = mkdtempSync(join(tmpdir(), 'odm-multiproc-dir-'));
let running: RunningApp[] = [];
afterEach(async () => {
  await Promise.all(running.map((app) => kill(app, 'SIGKILL')));
  running = [];
  for (const name of readdirSync(dir)) rmSync(join(dir, name), { recursive: true, force: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function start(env: Record<string, string> = {}): Promise<RunningApp> {
  const app = await spawnApp(APP, { env: { PROMETHEUS_MULTIPROC_DIR: dir, ...env }, timeoutMs: 45_000 });
  running.push(app);
  return app;
}

async function hit(app: RunningApp, n: number, path = '/hit'): Promise<void> {
  for (let i = 0; i < n; i++) expect(await (await fetch(app.url(path))).text()).toBe('ok');
}

function kill(app: RunningApp, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (app.child.exitCode !== null || app.child.signalCode !== null) return resolve();
    app.child.once('exit', () => resolve());
    app.child.kill(signal);
  });
}

/** Asks a process to exit gracefully (`/exit` answers, then `process.exit`), and waits for it. */
async function exitGracefully(app: RunningApp): Promise<void> {
  const exited = new Promise((resolve) => app.child.once('exit', resolve));
  expect(await (await fetch(app.url('/exit'))).text()).toBe('bye');
  await exited;
}

/** Scrapes until `done` holds (publication takes up to 1 s), then returns that scrape. */
async function scrapeUntil(app: RunningApp, done: (m: Exposition) => boolean): Promise<Exposition> {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const m = await app.scrape();
    if (done(m) || Date.now() > deadline) return m;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const requests = (m: Exposition) => valueOf(m, REQUESTS);
const ok = (m: Exposition) => valueOf(m, RESPONSES, { status: '200' });
/** Whose files the directory holds: a process's pid for its state file, `retired` for the retired state, the name for anything else. */
const holders = () =>
  readdirSync(dir)
    .map((name) => /^(\d+)-\d+\.state$/.exec(name)?.[1] ?? (name === 'retired.state' ? 'retired' : name))
    .sort();
const pids = (...apps: RunningApp[]) => apps.map((app) => String(app.child.pid));

describe('PROMETHEUS_MULTIPROC_DIR: three processes started by hand', () => {
  test('merged counts are exact under traffic and after a graceful exit; never decrease after a SIGKILL; exited processes fold into one retired file', async () => {
    const [a, b, c] = [await start(), await start(), await start()];
    await hit(a, 5);
    await hit(b, 7);
    await hit(c, 9);
    // Every process serves the same merge on its own dedicated port.
    for (const app of [a, b, c]) {
      const m = await scrapeUntil(app, (x) => requests(x) === 21);
      expect([requests(m), ok(m)]).toEqual([21, 21]);
    }
    expect(holders()).toEqual(pids(a, b, c).sort());

    // Graceful: /exit is answered (one more request), then process.exit: its 'exit' event writes its last state.
    await exitGracefully(b);
    const afterExit = await a.scrape();
    expect([requests(afterExit), ok(afterExit)]).toEqual([22, 22]);
    expect(holders()).toEqual([...pids(a, c), 'retired'].sort());

    // SIGKILL right after 4 more requests: what c recorded since its last write may be lost, never more.
    await hit(c, 4);
    await kill(c, 'SIGKILL');
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) seen.push(requests(await a.scrape())!);
    const kept = seen[0]! - 22;
    expect(kept).toBeGreaterThanOrEqual(0);
    expect(kept).toBeLessThanOrEqual(4);
    expect(seen).toEqual(seen.map(() => 22 + kept));
    expect(holders()).toEqual([...pids(a), 'retired'].sort());

    // The survivor goes on counting over what the exited ones left.
    await hit(a, 3);
    const later = await scrapeUntil(a, (x) => requests(x) === 25 + kept);
    expect(requests(later)).toBe(25 + kept);
    // No process label of any kind.
    expect(later.samples.filter((s) => 'pid' in s.labels || 'worker' in s.labels)).toEqual([]);

    // The in-app handler serves the same merge (counting itself, as an in-app scrape does).
    const inApp = parseExposition(await (await fetch(a.url('/metrics'))).text());
    expect(requests(inApp)).toBe(26 + kept);
  }, 120_000);

  test('processes restarted again and again: the directory holds the live processes and one retired file; the totals stay exact', async () => {
    const server = await start();
    let expected = 0;
    for (let round = 0; round < 6; round++) {
      const worker = await start();
      await hit(worker, 2);
      expected += 2;
      if (round % 2 === 0) {
        // SIGTERM, which the app handles by exiting: its last state is written on the way out.
        await kill(worker, 'SIGTERM');
      } else {
        // SIGKILL once its requests are published: nothing is lost.
        await scrapeUntil(server, (m) => requests(m) === expected);
        await kill(worker, 'SIGKILL');
      }
      const m = await scrapeUntil(server, (x) => requests(x) === expected);
      expect(requests(m)).toBe(expected);
      expect(holders()).toEqual([...pids(server), 'retired'].sort());
    }
  }, 180_000);
});

describe('PROMETHEUS_MULTIPROC_DIR not usable', () => {
  test('a missing directory: one line, and the process runs alone (its own values, no files anywhere)', async () => {
    const missing = join(dir, 'missing');
    const app = await spawnApp(APP, { env: { PROMETHEUS_MULTIPROC_DIR: missing }, timeoutMs: 45_000 });
    running.push(app);
    await hit(app, 2);
    const m = await app.scrape();
    expect(requests(m)).toBe(2);
    expect(m.raw).not.toContain('otel_django_metrics_multiprocess_timeouts_total');
    expect(app.stderr()).toBe(`otel-django-metrics: invalid PROMETHEUS_MULTIPROC_DIR="${missing}" (no such directory); using default\n`);
    expect(readdirSync(dir)).toEqual([]);
  }, 60_000);
});

describe('never breaks the app', () => {
  const script = [{ path: '/hit' }, { path: '/hit' }, { path: '/nope' }, { path: '/hit' }];

  // With snapshots broken, publishing fails (once; the merge then has no state of this process,
  // and the scrape goes on); broken recordings fail where the request is first recorded.
  test.each<[FaultMode, string[]]>([
    ['scrape', ['multiprocess publish']],
    ['store', ['http.server.request.start subscriber']],
    ['recorders', ['collector migrations', 'http.server.request.start subscriber']],
  ])('%s faults: the same answers as without the preload, the process alive, each failing site reported once', async (mode, expectedSites) => {
    const bare = await spawnBare(APP, { env: { PROMETHEUS_MULTIPROC_DIR: dir }, timeoutMs: 45_000 });
    running.push(bare);
    const expected = await exchange(bare, script);
    const faulty = await spawnFaulty(APP, [mode], { env: { PROMETHEUS_MULTIPROC_DIR: dir }, timeoutMs: 45_000 });
    running.push(faulty);
    expect(await exchange(faulty, script)).toEqual(expected);
    // Past a publication tick and a scrape: the publisher and the merge ran under the fault.
    await new Promise((r) => setTimeout(r, 1200));
    await fetch(`http://127.0.0.1:${faulty.metricsPort}/metrics`);
    await exitGracefully(faulty);
    expect(faulty.child.exitCode).toBe(0);
    const sites = containedFailures(faulty.stderr()).map((line) => /ODM001 (.+?) failed;/.exec(line)?.[1]);
    expect(sites.sort()).toEqual(expectedSites);
  }, 120_000);

  test('the state directory removed under a running process: requests answered as before, the scrape a 500, one line per site', async () => {
    const own = mkdtempSync(join(tmpdir(), 'odm-multiproc-gone-'));
    const app = await spawnApp(APP, { env: { PROMETHEUS_MULTIPROC_DIR: own }, timeoutMs: 45_000 });
    running.push(app);
    rmSync(own, { recursive: true, force: true });
    await hit(app, 3);
    await new Promise((r) => setTimeout(r, 1200));
    expect((await fetch(`http://127.0.0.1:${app.metricsPort}/metrics`)).status).toBe(500);
    expect((await fetch(`http://127.0.0.1:${app.metricsPort}/metrics`)).status).toBe(500);
    await hit(app, 1);
    const sites = containedFailures(app.stderr()).map((line) => /ODM001 (.+?) failed;/.exec(line)?.[1]);
    expect(sites.sort()).toEqual(['metrics scrape', 'multiprocess publish']);
  }, 60_000);
});
