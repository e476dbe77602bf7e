import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { readConfig } from '../../src/config.js';
import { metricsHandler } from '../../src/exposition/handler.js';
import { writeExposition } from '../../src/exposition/prometheus-text.js';
import { respondWithMetrics } from '../../src/exposition/respond.js';
import { CHUNK_PARTS } from '../../src/exposition/scrape-body.js';
import { scrapeFunction, sourceOf, type ScrapeSource } from '../../src/exposition/scrape-source.js';
import { start } from '../../src/start.js';
import type { Distribution, RunningDistribution } from '../../src/state.js';
import { Registry } from '../../src/store/registry.js';
import { HTTP } from '../../views/index.js';
import { parseExposition, valueOf } from '../support/exposition.js';
import { captureStderr } from '../support/stderr.js';

const SERIES = 20_000; // ~2 MB of text: dozens of chunks

/** A registry with SERIES counter series and as many histogram series, as a scrape source. */
function registrySource(): ScrapeSource {
  const registry = new Registry({ namespace: '', latencyBuckets: [0.1, 1], maxSeriesPerMetric: 1_000_000 });
  const counter = registry.counter(HTTP.requestsByViewTransportMethod);
  const histogram = registry.histogram(HTTP.latencyByViewMethod);
  for (let i = 0; i < SERIES; i++) {
    counter.add([`/r${i}`, 'http', 'GET'], i);
    histogram.observeWith([`/r${i}`, 'GET'], i / SERIES);
  }
  return (out, take) => writeExposition(registry.collect(), out, take);
}

interface Reply {
  status: number | undefined;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Whether the whole body arrived (false: the response was cut short). */
  complete: boolean;
}

/** GET (or `method`) /metrics; `hangUp`: close the connection at the first body bytes, as a scraper timing out. */
function get(port: number, options: { method?: string; gzip?: boolean; hangUp?: boolean } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers = options.gzip ? { 'Accept-Encoding': 'gzip' } : {};
    const req = request({ host: '127.0.0.1', port, path: '/metrics', method: options.method ?? 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        if (options.hangUp) req.destroy();
      });
      res.on('error', () => {}); // a cut-short body; `complete` tells
      res.on('close', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), complete: res.complete }));
    });
    req.on('error', (err) => (options.hangUp ? undefined : reject(err)));
    req.end();
  });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

function serve(source: ScrapeSource): { port: Promise<number>; server: Server } {
  const server = createServer((req, res) => respondWithMetrics(source, req, res));
  return { server, port: listen(server) };
}

/** Reads until `done` holds of the value (at most ~5 s); returns the last value read. */
async function eventually<T>(read: () => T | Promise<T>, done: (value: T) => boolean): Promise<T> {
  let value = await read();
  for (let i = 0; i < 500 && !done(value); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    value = await read();
  }
  return value;
}

const stderr = captureStderr();

describe('a large scrape is streamed in bounded chunks', () => {
  const source = registrySource();
  let text: string;
  let largestBuffered = 0;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    text = await scrapeFunction(source)();
    // What the response holds back at most: a chunk's worth of parts, plus one histogram series.
    const watched: ScrapeSource = (out, take) => source(out, (parts) => {
      largestBuffered = Math.max(largestBuffered, parts.length);
      return take!(parts);
    });
    const served = serve(watched);
    server = served.server;
    port = await served.port;
  });
  afterAll(() => server?.close());

  test('plain: chunked, byte-identical to the joined text, never more than a chunk held back', async () => {
    const reply = await get(port);
    expect(reply.status).toBe(200);
    expect(reply.headers['transfer-encoding']).toBe('chunked');
    expect(reply.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(reply.headers['content-encoding']).toBeUndefined();
    expect(reply.body.length).toBeGreaterThan(20 * CHUNK_PARTS * 50);
    expect(reply.body.toString()).toBe(text);
    expect(largestBuffered).toBeGreaterThanOrEqual(CHUNK_PARTS);
    expect(largestBuffered).toBeLessThan(CHUNK_PARTS + 20);
  });

  test('gzip: a streamed gzip body that decompresses to the same text', async () => {
    const reply = await get(port, { gzip: true });
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect(reply.headers.vary).toBe('Accept-Encoding, Accept');
    expect(reply.body.length).toBeLessThan(text.length / 5);
    expect(gunzipSync(reply.body).toString()).toBe(text);
  });

  test('HEAD: the same headers, no body', async () => {
    const reply = await get(port, { method: 'HEAD', gzip: true });
    expect(reply.status).toBe(200);
    expect(reply.headers['content-encoding']).toBe('gzip');
    expect(reply.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(reply.body.length).toBe(0);
    expect(reply.complete).toBe(true);
  });

  test('scrapeFunction joins the same text, and endpoints stream it through sourceOf', async () => {
    const scrape = scrapeFunction(source);
    expect(sourceOf(scrape)).toBe(source);
    expect(await scrape()).toBe(text);
  });
});

/** The contained-failure line of a failing scrape. */
const scrapeFailed = (message: string) =>
  `otel-django-metrics: ODM001 metrics scrape failed; the measurement is dropped and the app is unaffected: Error: ${message}\n`;

/**
 * `serve` over a fresh copy of the exposition modules: containment reports a site once per
 * process, and each test here shows the report of its own first failure.
 */
async function serveFresh(source: ScrapeSource): Promise<{ port: Promise<number>; server: Server }> {
  vi.resetModules();
  const fresh = await import('../../src/exposition/respond.js');
  const server = createServer((req, res) => fresh.respondWithMetrics(source, req, res));
  return { server, port: listen(server) };
}

describe.each([['plain'], ['gzip']])('failures, %s', (encoding) => {
  const gzip = encoding === 'gzip';

  test('a scrape that fails before its first chunk: a 500 and one log line', async () => {
    const { server, port } = await serveFresh(async () => {
      throw new Error('registry unavailable');
    });
    try {
      const reply = await get(await port, { gzip });
      expect(reply.status).toBe(500);
      expect(reply.body.toString()).toBe('metrics collection failed\n');
      expect(stderr).toEqual([scrapeFailed('registry unavailable')]);
      // The same failure again: the same 500, reported once.
      const again = await get(await port, { gzip });
      expect([again.status, again.body.toString()]).toEqual([500, 'metrics collection failed\n']);
      expect(stderr).toEqual([scrapeFailed('registry unavailable')]);
    } finally {
      server.close();
    }
  });

  test('a source that throws at once, not through its promise: the same 500 and line', async () => {
    const { server, port } = await serveFresh(() => {
      throw new Error('sync failure');
    });
    try {
      const reply = await get(await port, { gzip });
      expect([reply.status, reply.body.toString()]).toEqual([500, 'metrics collection failed\n']);
      expect(stderr).toEqual([scrapeFailed('sync failure')]);
    } finally {
      server.close();
    }
  });

  test('a scrape that fails mid-stream: the 200 is cut short, one log line, the server serves on', async () => {
    const source = registrySource();
    let fail = true;
    const { server, port } = await serveFresh(async (out, take) => {
      await source(out, take);
      if (fail) throw new Error('SDK collection failed');
    });
    try {
      const cut = await get(await port, { gzip });
      expect(cut.status).toBe(200);
      expect(cut.complete).toBe(false);
      expect(cut.body.length).toBeGreaterThan(0);
      expect(stderr).toEqual([scrapeFailed('SDK collection failed')]);
      fail = false;
      const next = await get(await port, { gzip });
      expect(next.complete).toBe(true);
      expect(next.status).toBe(200);
    } finally {
      server.close();
    }
  });

  test('a scraper that goes away mid-stream stops the scrape, silently', async () => {
    let stoppedBy: unknown;
    let written = 0;
    const { server, port } = serve(async (out, take) => {
      try {
        for (;;) {
          out.push(`endless_total{n="${written++}"} 1.0\n`);
          await take!(out);
          if (written % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
        }
      } catch (err) {
        stoppedBy = err;
        throw err;
      }
    });
    try {
      await get(await port, { gzip, hangUp: true });
      expect(await eventually(() => stoppedBy, (e) => e !== undefined)).toBeInstanceOf(Error);
      expect(stderr).toEqual([]);
    } finally {
      server.close();
    }
  });
});

describe('the in-app handler', () => {
  let distribution: Distribution;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    const config = readConfig({ PROMETHEUS_METRICS_EXPORT_PORT: 'off', PROMETHEUS_MAX_SERIES_PER_METRIC: '100000' }, () => {});
    distribution = (await start({ config }))!;
    const byView = distribution.registry.counter(HTTP.requestsByViewTransportMethod);
    for (let i = 0; i < SERIES; i++) byView.add([`/r${i}`, 'http', 'GET']);
    server = createServer(metricsHandler());
    port = await listen(server);
  });
  afterAll(async () => {
    server?.close();
    await distribution?.shutdown();
  });

  test('a streamed gzip scrape counts as one non-streaming response of its uncompressed size', async () => {
    const reply = await get(port, { gzip: true });
    expect(reply.headers['transfer-encoding']).toBe('chunked');
    const size = gunzipSync(reply.body).length;
    expect(size).toBeGreaterThan(20 * CHUNK_PARTS * 50);
    // The response is counted at the server's `finish`, which may come just after the client's end.
    const exp = await eventually(
      async () => parseExposition(await distribution.scrape()),
      (e) => valueOf(e, 'django_http_responses_body_total_bytes_count') === 1,
    );
    expect(valueOf(exp, 'django_http_responses_body_total_bytes_count')).toBe(1);
    expect(valueOf(exp, 'django_http_responses_body_total_bytes_sum')).toBe(size);
    expect(valueOf(exp, 'django_http_responses_streaming_total')).toBe(0);
    expect(valueOf(exp, 'django_http_responses_total_by_status_view_method_total', { status: '200', view: 'prometheus-django-metrics', method: 'GET' })).toBe(1);
  });

  test('a route match that throws drops only the scrape\'s own view: the scrape is served, one contained failure', async () => {
    vi.spyOn((distribution as RunningDistribution).http, 'servingMetrics').mockImplementation(() => {
      throw new Error('recorder broken');
    });
    const reply = await get(port);
    expect([reply.status, reply.complete]).toEqual([200, true]);
    expect(parseExposition(reply.body.toString()).families.has('django_http_requests_before_middlewares_total')).toBe(true);
    expect(stderr).toEqual([
      'otel-django-metrics: ODM001 metrics handler route match failed; the measurement is dropped and the app is unaffected: Error: recorder broken\n',
    ]);
  });
});
