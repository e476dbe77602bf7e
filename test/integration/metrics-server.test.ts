import { readdir, readFile, readlink } from 'node:fs/promises';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { SERVER_LIMITS } from '../../src/exposition/server-limits.js';
import { parseExposition } from '../support/exposition.js';
import { containedFailures, exchange, spawnBare, spawnFaulty, type Exchange } from '../support/faults.js';
import { spawnApp, type RunningApp } from '../support/processes.js';

/** The dedicated metrics server of a real app under the preload, with its default limits. */
const APP = 'test/fixtures/settings-app.mjs';

let running: RunningApp[] = [];
let sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(running.map((app) => app.stop()));
  running = [];
  sockets = [];
});

function track(app: RunningApp): RunningApp {
  running.push(app);
  return app;
}

/** GET `url` on a connection of its own (closed after the response): status, Retry-After, body. */
function get(url: string): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'], body }));
    });
    req.on('error', reject).end();
  });
}

/** Open sockets of a process, from /proc. */
async function openSockets(pid: number): Promise<number> {
  let n = 0;
  for (const fd of await readdir(`/proc/${pid}/fd`)) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
    if (target.startsWith('socket:')) n++;
  }
  return n;
}

/** Resident memory of a process, in bytes. */
async function rss(pid: number): Promise<number> {
  const kb = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'))![1]!;
  return Number(kb) * 1024;
}

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 250; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The app's own traffic: what it answers must not change whatever the package's scrapes do. */
const TRAFFIC: Exchange[] = [
  { path: '/' },
  { path: '/view/home' },
  { path: '/db-observe' },
  { method: 'POST', path: '/form', body: 'a=1' },
  { path: '/view/home?again=1' },
];

describe('a scrape writer that throws (ODM_FAULTS=scrape)', () => {
  test('every scrape is a 500 before any chunk, one ODM001 line in all; the app answers exactly as without the preload; nothing leaks', async () => {
    const bare = track(await spawnBare(APP));
    const faulty = track(await spawnFaulty(APP, ['scrape']));
    const expected = await exchange(bare, TRAFFIC);
    expect(await exchange(faulty, TRAFFIC)).toEqual(expected);

    const failed = { status: 500, retryAfter: undefined, body: 'metrics collection failed\n' };
    const dedicated = `http://127.0.0.1:${faulty.metricsPort}/metrics`;
    expect(await get(dedicated)).toEqual(failed);
    expect(await get(faulty.url('/metrics'))).toEqual(failed);
    const sockets = await openSockets(faulty.child.pid!);

    for (let i = 0; i < 20; i++) {
      expect(await get(dedicated)).toEqual(failed);
      expect(await get(faulty.url('/metrics'))).toEqual(failed);
    }
    expect(await exchange(faulty, TRAFFIC)).toEqual(expected);
    // Every failed scrape's connection is closed again: the process holds what it held after the first.
    expect(await until('closed connections', () => openSockets(faulty.child.pid!), (n) => n <= sockets)).toBe(sockets);
    expect(faulty.child.exitCode).toBeNull();
    expect(containedFailures(faulty.stderr())).toEqual([
      'otel-django-metrics: ODM001 metrics scrape failed; the measurement is dropped and the app is unaffected: Error: injected fault: snapshot',
    ]);
    expect(faulty.stderr()).toBe(`${containedFailures(faulty.stderr())[0]}\n`);
  });
});

describe('scrapers that stall', () => {
  /** A scrape that has received its first bytes and then never reads again. */
  function stalledScrape(port: number): Promise<Socket> {
    return new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
      sockets.push(socket);
      socket.on('error', () => {});
      socket.once('data', (first: Buffer) => {
        socket.pause();
        expect(first.toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
        resolve(socket);
      });
    });
  }

  test(`${SERVER_LIMITS.concurrentScrapes} stalled scrapes of a 30 MB exposition: one more is answered 503 at once, the app answers, memory stays flat; their slots free when they go`, async () => {
    const app = track(await spawnApp(APP, { env: { PROMETHEUS_MAX_SERIES_PER_METRIC: '20000' } }));
    expect((await exchange(app, [{ path: '/series?n=15000' }]))[0]!.status).toBe(200);
    const dedicated = `http://127.0.0.1:${app.metricsPort}/metrics`;
    const full = await get(dedicated);
    expect(full.body.length).toBeGreaterThan(25_000_000);
    const before = await rss(app.child.pid!);

    const stalled = [];
    for (let i = 0; i < SERVER_LIMITS.concurrentScrapes; i++) stalled.push(await stalledScrape(app.metricsPort));
    const asked = Date.now();
    expect(await get(dedicated)).toEqual({ status: 503, retryAfter: '1', body: 'Too many concurrent scrapes\n' });
    expect(Date.now() - asked).toBeLessThan(1_000);
    expect(await exchange(app, TRAFFIC)).toEqual(await exchange(app, TRAFFIC));
    expect((await exchange(app, [{ path: '/' }]))[0]).toMatchObject({ status: 200, body: 'ok' });
    // Each stalled scrape waits on its socket with at most a chunk in hand, not its 30 MB.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await rss(app.child.pid!)) - before).toBeLessThan(full.body.length / 3);

    for (const socket of stalled) socket.destroy();
    const next = await until('a free slot', () => get(dedicated), (r) => r.status === 200);
    expect(parseExposition(next.body).samples.length).toBeGreaterThan(parseExposition(full.body).samples.length);
  });
});
