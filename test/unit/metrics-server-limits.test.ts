import { request, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { CHUNK_PARTS } from '../../src/exposition/scrape-body.js';
import { scrapeFunction, type ScrapeSource } from '../../src/exposition/scrape-source.js';
import { SERVER_LIMITS, type ServerLimits } from '../../src/exposition/server-limits.js';
import { startMetricsServer } from '../../src/exposition/server.js';

/** The dedicated server's limits, made short through startMetricsServer's non-public parameter. */
const SHORT: ServerLimits = { headersMs: 300, keepAliveMs: 1_000, responseMs: 600, concurrentScrapes: 3 };

let servers: Server[] = [];
let sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  servers = [];
  sockets = [];
});

/** The dedicated server on a free loopback port, serving `source`, with `limits`. */
async function serve(source: ScrapeSource, limits: ServerLimits = SHORT): Promise<{ port: number; server: Server; responses: ServerResponse[] }> {
  const { server, port } = startMetricsServer({ port: 0, portRange: undefined, address: '127.0.0.1' }, scrapeFunction(source), () => {}, limits);
  servers.push(server);
  await port;
  const responses: ServerResponse[] = [];
  server.on('request', (_req, res: ServerResponse) => responses.push(res));
  return { port: (server.address() as { port: number }).port, server, responses };
}

/** A raw connection; `paused`: it never reads what the server sends (the kernel buffers fill, then the server's writes wait). */
function rawConnection(port: number, paused = false): Promise<{ socket: Socket; received: () => string; closed: Promise<number> }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    sockets.push(socket);
    let received = '';
    const opened = Date.now();
    const closed = new Promise<number>((done) => socket.once('close', () => done(Date.now() - opened)));
    socket.on('error', () => {});
    if (paused) socket.pause();
    else socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
    socket.once('connect', () => resolve({ socket, received: () => received, closed }));
  });
}

const GET = 'GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';

/** GET /metrics on a fresh connection: status, Retry-After and body. */
function scrape(port: number): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'], body }));
    });
    req.on('error', reject).end();
  });
}

async function until(what: string, predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !predicate(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!predicate()) throw new Error(`timed out waiting for ${what}`);
}

/** A source that writes exposition lines until its response stops taking them; counts what it produced. */
function endless() {
  const state = { produced: 0, calls: 0, stoppedBy: undefined as unknown };
  const source: ScrapeSource = async (out, take) => {
    state.calls++;
    try {
      for (let n = 0; ; n++) {
        const line = `endless_total{n="${n}",padding="${'x'.repeat(60)}"} 1.0\n`;
        state.produced += line.length;
        out.push(line);
        await take!(out);
        if (n % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      state.stoppedBy = err;
      throw err;
    }
  };
  return { source, state };
}

describe('the dedicated server cuts off stalled scrapers', () => {
  test('the defaults: headers 10 s, keep-alive 5 s, a response 60 s, 4 scrapes at once', () => {
    expect(SERVER_LIMITS).toEqual({ headersMs: 10_000, keepAliveMs: 5_000, responseMs: 60_000, concurrentScrapes: 4 });
  });

  test('a client that connects and sends nothing is answered 408 and closed after the headers timeout', async () => {
    const { port } = await serve(endless().source);
    const client = await rawConnection(port);
    const after = await client.closed;
    expect(after).toBeGreaterThanOrEqual(SHORT.headersMs - 20);
    expect(after).toBeLessThan(SHORT.headersMs + 1_000);
    expect(client.received()).toBe('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
  });

  test('a client that sends half a request is closed after the headers timeout', async () => {
    const { port } = await serve(endless().source);
    const client = await rawConnection(port);
    client.socket.write('GET /metrics HTTP/1.1\r\nHost: 127');
    const after = await client.closed;
    expect(after).toBeGreaterThanOrEqual(SHORT.headersMs - 20);
    expect(after).toBeLessThan(SHORT.headersMs + 1_000);
  });

  test('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
    const { port } = await serve(async (out) => void out.push('small_total 1.0\n'));
    const client = await rawConnection(port);
    client.socket.write(GET);
    await until('the response', () => client.received().endsWith('0\r\n\r\n'));
    const answered = Date.now();
    await client.closed;
    expect(client.received()).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*Keep-Alive: timeout=1\r\n/);
    // Node closes the socket up to a second after the timeout it announces.
    expect(Date.now() - answered).toBeGreaterThanOrEqual(SHORT.keepAliveMs - 50);
    expect(Date.now() - answered).toBeLessThan(SHORT.keepAliveMs + 3_000);
  });

  test('a scraper that never reads is cut off at the response deadline; the writer stops, having held back at most a chunk', async () => {
    const { source, state } = endless();
    const { port, responses } = await serve(source);
    const client = await rawConnection(port, true);
    const sent = Date.now();
    client.socket.write(GET);
    await until('the response', () => responses.length === 1);
    const res = responses[0]!;
    // While the scraper stalls, what waits in the process (not the kernel) stays within a chunk or two.
    let heldBack = 0;
    const sampler = setInterval(() => (heldBack = Math.max(heldBack, res.socket?.writableLength ?? 0)), 5);
    const closedAt = await new Promise<number>((resolve) => res.once('close', () => resolve(Date.now() - sent)));
    clearInterval(sampler);
    expect(closedAt).toBeGreaterThanOrEqual(SHORT.responseMs - 20);
    expect(closedAt).toBeLessThan(SHORT.responseMs + 1_000);
    await until('the writer to stop', () => state.stoppedBy !== undefined);
    const produced = state.produced;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(state.produced).toBe(produced);
    // Far more than a chunk went out into the socket; far less than that was ever held back.
    expect(produced).toBeGreaterThan(20 * CHUNK_PARTS * 80);
    expect(heldBack).toBeLessThan(4 * CHUNK_PARTS * 80);
  });

  test('N+1 concurrent scrapes: N are written, one is answered 503 at once without being written; then slots free up', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const { port } = await serve(async (out) => {
      calls++;
      await gate;
      out.push('gated_total 1.0\n');
    });
    const admitted = Array.from({ length: SHORT.concurrentScrapes }, () => scrape(port));
    await until('N scrapes in progress', () => calls === SHORT.concurrentScrapes);
    expect(await scrape(port)).toEqual({ status: 503, retryAfter: '1', body: 'Too many concurrent scrapes\n' });
    expect(calls).toBe(SHORT.concurrentScrapes);
    release();
    expect(await Promise.all(admitted)).toEqual(admitted.map(() => ({ status: 200, retryAfter: undefined, body: 'gated_total 1.0\n' })));
    expect(await scrape(port)).toEqual({ status: 200, retryAfter: undefined, body: 'gated_total 1.0\n' });
    expect(calls).toBe(SHORT.concurrentScrapes + 1);
  });

  test('a slot held by a scraper that never reads is freed by the deadline', async () => {
    const { source } = endless();
    const { port, responses } = await serve(source, { ...SHORT, concurrentScrapes: 1 });
    const stalled = await rawConnection(port, true);
    stalled.socket.write(GET);
    await until('the stalled response', () => responses.length === 1);
    expect((await scrape(port)).status).toBe(503);
    await new Promise((resolve) => responses[0]!.once('close', resolve));
    // The endless source never finishes, so a free slot shows as a 200 whose body keeps coming.
    const next = await new Promise<number>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
        resolve(res.statusCode!);
        req.destroy();
      });
      req.on('error', () => {}).end();
    });
    expect(next).toBe(200);
  });
});
