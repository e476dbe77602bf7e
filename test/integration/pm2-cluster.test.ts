import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseExposition, valueOf, type Exposition } from '../support/exposition.js';
import { freePort, REGISTER, ROOT } from '../support/processes.js';

// PM2 from the npm registry, cluster mode: its daemon is the node:cluster primary and runs no
// preload, so only PROMETHEUS_MULTIPROC_DIR brings the instances together. Every instance listens
// on the app port and on the dedicated metrics port through PM2's cluster (shared handles, round
// robin): whichever answers a scrape serves the merge of all.
const PM2 = join(ROOT, 'node_modules/.bin/pm2');
const APP = join(ROOT, 'test/fixtures/pm2-app.cjs');
const REQUESTS = 'django_http_requests_before_middlewares_total';
const OK = 'django_http_responses_total_by_status_total';
const SETTLE_MS = 15_000;

const home = mkdtempSync(join(tmpdir(), 'odm-pm2-home-'));
const dir = mkdtempSync(join(tmpdir(), 'odm-pm2-state-'));
let appPort = 0;
let metricsPort = 0;
/** Every request the app answered, from the first. */
let answered = 0;

function pm2(...args: string[]): Promise<string> {
  const env = {
    ...process.env,
    PM2_HOME: home,
    PORT: String(appPort),
    PROMETHEUS_MULTIPROC_DIR: dir,
    PROMETHEUS_METRICS_EXPORT_PORT: String(metricsPort),
    PROMETHEUS_METRICS_EXPORT_ADDRESS: '127.0.0.1',
  };
  return promisify(execFile)(PM2, args, { env, cwd: ROOT, timeout: 60_000 }).then((r) => r.stdout);
}

/** One GET on a connection of its own: the answering instance's pid, or `undefined` if it failed. */
function get(port: number, path = '/'): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve(res.statusCode === 200 ? body : undefined));
    });
    // A connection handed to an instance that is stopping may never be answered.
    req.setTimeout(5_000, () => req.destroy());
    req.on('error', () => resolve(undefined)).end();
  });
}

/** A scrape of the dedicated port; retried while no instance holds it (between a reload's stop and start). */
async function scrape(): Promise<Exposition> {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const text = await get(metricsPort, '/metrics');
    if (text !== undefined) return parseExposition(text);
    if (Date.now() > deadline) throw new Error(`no scrape answered on port ${metricsPort} in ${SETTLE_MS} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function scrapeUntil(done: (m: Exposition) => boolean): Promise<Exposition> {
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const m = await scrape();
    if (done(m) || Date.now() > deadline) return m;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Sends `n` requests one after another; the pids that answered them. A few connections fail
 * while a reload stops an instance (cluster had handed them to it): never answered, they must be
 * counted nowhere, and are left out.
 */
async function traffic(n: number): Promise<string[]> {
  const pids: string[] = [];
  for (let i = 0; i < n; i++) {
    const pid = await get(appPort);
    if (pid !== undefined) pids.push(pid);
  }
  answered += pids.length;
  return pids;
}

const holders = () => readdirSync(dir).map((name) => /^(\d+)-\d+\.state$/.exec(name)?.[1] ?? name).sort();

beforeAll(async () => {
  appPort = await freePort();
  metricsPort = await freePort();
  await pm2('start', APP, '-i', '2', '--name', 'odm', `--node-args=--import ${REGISTER}`);
  // Until both instances answer (each request that does is counted in `answered`).
  const deadline = Date.now() + 30_000;
  const up = new Set<string>();
  while (up.size < 2 && Date.now() < deadline) {
    const [pid] = await traffic(1);
    if (pid === undefined) await new Promise((r) => setTimeout(r, 100));
    else up.add(pid);
  }
}, 90_000);

afterAll(async () => {
  // Always: the daemon and its instances must not outlive the test, whatever happened.
  await pm2('kill').catch(() => undefined);
  rmSync(home, { recursive: true, force: true });
  rmSync(dir, { recursive: true, force: true });
}, 90_000);

describe('PM2 cluster mode, 2 instances, PROMETHEUS_MULTIPROC_DIR', () => {
  test('merged counters equal the requests answered, before and after a `pm2 reload` under traffic; no scrape decreases', async () => {
    const started = answered;
    const before = await traffic(60);
    expect(before).toHaveLength(60);
    const pids = new Set(before);
    expect(pids.size).toBe(2);
    // The requests that found the app up were answered too.
    const first = await scrapeUntil((m) => valueOf(m, REQUESTS) === answered);
    expect([valueOf(first, REQUESTS), valueOf(first, OK, { status: '200' })]).toEqual([started + 60, started + 60]);
    expect(holders()).toEqual([...pids].sort());

    // Reload while requests keep coming, and scrapes keep reading.
    const seen: number[] = [];
    let reloading = true;
    const load = (async () => {
      while (reloading) await traffic(5);
    })();
    const scraping = (async () => {
      while (reloading) seen.push(valueOf(await scrape(), REQUESTS)!);
    })();
    await pm2('reload', 'odm');
    reloading = false;
    await Promise.all([load, scraping]);
    expect(answered).toBeGreaterThan(started + 60);
    await traffic(20);

    const after = await scrapeUntil((m) => valueOf(m, REQUESTS) === answered);
    expect([valueOf(after, REQUESTS), valueOf(after, OK, { status: '200' })]).toEqual([answered, answered]);
    // The same on the next scrapes, whichever instance answers them.
    for (let i = 0; i < 4; i++) expect(valueOf(await scrape(), REQUESTS)).toBe(answered);
    expect(seen.length).toBeGreaterThan(0);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
    // The old instances are gone from the directory: folded into the retired state.
    const now = new Set(await traffic(10));
    expect(now.size).toBe(2);
    expect([...now].some((pid) => pids.has(pid))).toBe(false);
    expect(holders()).toEqual([...now, 'retired.state'].sort());
  }, 120_000);
});
