import { request, type IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { valueOf, vectorOf, type Exposition } from '../support/exposition.js';
import { spawnApp, type RunningApp } from '../support/processes.js';

const APP = 'test/fixtures/node-http-app.mjs';

/** Conformance of a plain node:http app: every family after a known script, on both HTTP paths. */
describe.each([['fast'], ['otel']])('plain node:http, %s path', (path) => {
  let app: RunningApp;
  let before: Exposition;
  let after: Exposition;
  let scrapeAfterInApp: Exposition;
  let inAppScrapeBytes: number;

  beforeAll(async () => {
    app = await spawnApp(APP, { env: { PROMETHEUS_HTTP_INSTRUMENTATION: path } });
    before = await app.scrape();
    const send = (p: string, init?: RequestInit) => fetch(app.url(p), init).then((r) => r.text());
    await send('/text');
    await send('/text', { headers: { 'X-Requested-With': 'XMLHttpRequest' } });
    await send('/json', { method: 'POST', body: 'x'.repeat(300) });
    await send('/chunked');
    await send('/pipe');
    await send('/named');
    await send('/nope', { method: 'PURGE' });
    await send('/throw');
    await send('/reject');
    // fetch asks for gzip; the body family must still record the uncompressed size.
    inAppScrapeBytes = Buffer.byteLength(await send('/metrics'));
    after = await app.scrape();
    scrapeAfterInApp = await app.scrape();
  });
  afterAll(() => app?.stop());

  test('unlabelled families read zero before any traffic (E8)', () => {
    for (const name of [
      'django_http_requests_before_middlewares_total',
      'django_http_responses_before_middlewares_total',
      'django_http_requests_latency_including_middlewares_seconds_count',
      'django_http_requests_unknown_latency_including_middlewares_total',
      'django_http_requests_unknown_latency_total',
      'django_http_ajax_requests_total',
      'django_http_requests_body_total_bytes_count',
      'django_http_responses_body_total_bytes_count',
      'django_http_responses_streaming_total',
    ]) {
      expect(valueOf(before, name), name).toBe(0);
    }
    expect(before.samples.filter((s) => s.name === 'django_http_requests_latency_including_middlewares_seconds_bucket')).toHaveLength(17);
    expect(before.samples.filter((s) => s.name === 'django_http_requests_body_total_bytes_bucket')).toHaveLength(32);
    expect(vectorOf(before, 'django_http_responses_total_by_status_total')).toEqual([]);
  });

  test('server-level families: 10 requests, the in-app scrape counted in #1 only until it completes', () => {
    expect(valueOf(after, 'django_http_requests_before_middlewares_total')).toBe(10);
    expect(valueOf(after, 'django_http_responses_before_middlewares_total')).toBe(10);
    expect(valueOf(after, 'django_http_requests_latency_including_middlewares_seconds_count')).toBe(10);
    expect(valueOf(after, 'django_http_requests_unknown_latency_including_middlewares_total')).toBe(0);
    expect(valueOf(after, 'django_http_requests_unknown_latency_total')).toBe(0);
    // Dedicated-port scrapes count nowhere: two scrapes without traffic have identical django families
    // (the runtime families move on their own).
    const django = (raw: string) => raw.split('\n').filter((line) => line.includes('django_') && !line.includes('_sum')).join('\n');
    expect(django(scrapeAfterInApp.raw)).toBe(django(after.raw));
  });

  test('method, transport, ajax and body sizes', () => {
    expect(vectorOf(after, 'django_http_requests_total_by_method_total')).toEqual([
      '{"method":"<invalid method>"} 1',
      '{"method":"GET"} 8',
      '{"method":"POST"} 1',
    ]);
    expect(vectorOf(after, 'django_http_requests_total_by_transport_total')).toEqual(['{"transport":"http"} 10']);
    expect(valueOf(after, 'django_http_ajax_requests_total')).toBe(1);
    expect(valueOf(after, 'django_http_requests_body_total_bytes_count')).toBe(10);
    expect(valueOf(after, 'django_http_requests_body_total_bytes_sum')).toBe(300);
    expect(valueOf(after, 'django_http_requests_body_total_bytes_bucket', { le: '256.0' })).toBe(9);
    expect(valueOf(after, 'django_http_requests_body_total_bytes_bucket', { le: '512.0' })).toBe(10);
  });

  test('views: plain requests are <unnamed view>; setViewName and the metrics handler match', () => {
    expect(vectorOf(after, 'django_http_requests_total_by_view_transport_method_total')).toEqual([
      '{"method":"GET","transport":"http","view":"named:view"} 1',
      '{"method":"GET","transport":"http","view":"prometheus-django-metrics"} 1',
    ]);
    expect(vectorOf(after, 'django_http_requests_latency_seconds_by_view_method_count')).toEqual([
      '{"method":"GET","view":"<unnamed view>"} 6',
      '{"method":"GET","view":"named:view"} 1',
      '{"method":"GET","view":"prometheus-django-metrics"} 1',
      '{"method":"POST","view":"<unnamed view>"} 1',
      '{"method":"PURGE","view":"<unnamed view>"} 1',
    ]);
  });

  test('responses by status, view and method', () => {
    expect(vectorOf(after, 'django_http_responses_total_by_status_total')).toEqual([
      '{"status":"200"} 6',
      '{"status":"201"} 1',
      '{"status":"404"} 1',
      '{"status":"500"} 2',
    ]);
    expect(vectorOf(after, 'django_http_responses_total_by_status_view_method_total')).toEqual([
      '{"method":"<invalid method>","status":"404","view":"<unnamed view>"} 1',
      '{"method":"GET","status":"200","view":"<unnamed view>"} 4',
      '{"method":"GET","status":"200","view":"named:view"} 1',
      '{"method":"GET","status":"200","view":"prometheus-django-metrics"} 1',
      '{"method":"GET","status":"500","view":"<unnamed view>"} 2',
      '{"method":"POST","status":"201","view":"<unnamed view>"} 1',
    ]);
  });

  test('response bodies, streaming and charset', () => {
    // Non-streaming: text 5+5, json 13 (header), named 5, nope 9, throw 4, reject 4, the in-app scrape;
    // chunked and pipe stream.
    expect(valueOf(after, 'django_http_responses_streaming_total')).toBe(2);
    expect(valueOf(after, 'django_http_responses_body_total_bytes_count')).toBe(8);
    expect(valueOf(after, 'django_http_responses_body_total_bytes_sum')).toBe(5 + 5 + 13 + 5 + 9 + 4 + 4 + inAppScrapeBytes);
    expect(vectorOf(after, 'django_http_responses_total_by_charset_total')).toEqual([
      '{"charset":"latin-1"} 2',
      '{"charset":"utf-8"} 8',
    ]);
  });

  test('scrapes are gzipped when the scraper accepts it, plain text otherwise', async () => {
    const get = (encoding: string) => new Promise<IncomingMessage>((resolve, reject) => {
      request({ host: '127.0.0.1', port: app.metricsPort, path: '/metrics', headers: { 'Accept-Encoding': encoding } }, resolve).on('error', reject).end();
    });
    const zipped = await get('gzip');
    const chunks: Buffer[] = [];
    for await (const c of zipped) chunks.push(c as Buffer);
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(gunzipSync(Buffer.concat(chunks)).toString()).toContain('# TYPE django_http_requests_before_middlewares_total counter\n');
    const plain = await get('identity');
    plain.resume();
    expect(plain.headers['content-encoding']).toBeUndefined();
  });

  test('exceptions from the listener: a throw and a rejection, re-raised to the app', () => {
    expect(vectorOf(after, 'django_http_exceptions_total_by_type_total')).toEqual(['{"type":"RangeError"} 1', '{"type":"TypeError"} 1']);
    expect(vectorOf(after, 'django_http_exceptions_total_by_view_total')).toEqual(['{"view":"<unnamed view>"} 2']);
  });
});
