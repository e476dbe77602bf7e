// Traffic helpers and shared assertions of the framework conformance tests.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { valueOf, vectorOf, type Exposition, type Sample } from './exposition.js';
import type { RunningApp } from './processes.js';

/** A client that remembers the body bytes of the non-streaming responses it received. */
export class Client {
  /** Body bytes of non-streaming responses, the in-app scrape excluded. */
  bodyBytes = 0;
  inAppScrapeBytes = 0;

  constructor(private readonly app: RunningApp) {}

  async send(path: string, init?: RequestInit, kind: 'plain' | 'streaming' | 'scrape' = 'plain'): Promise<number> {
    const res = await fetch(this.app.url(path), init);
    const bytes = (await res.arrayBuffer()).byteLength;
    if (kind === 'plain') this.bodyBytes += bytes;
    if (kind === 'scrape') this.inAppScrapeBytes = bytes;
    return res.status;
  }

  /**
   * The shared script's end: 200 unknown URLs, the in-app scrape (its status as `statuses.scrape`),
   * then two dedicated-port scrapes: `after`, and `again` to show those scrapes count nowhere.
   */
  async finishScript(statuses: Record<string, number>): Promise<{ after: Exposition; again: Exposition }> {
    await this.flood(200);
    statuses.scrape = await this.send('/metrics', { headers: { 'Accept-Encoding': 'identity' } }, 'scrape');
    return { after: await this.app.scrape(), again: await this.app.scrape() };
  }

  /** `count` GETs of distinct unknown URLs of one length (so their 404 bodies have one length). */
  async flood(count: number): Promise<void> {
    for (let i = 0; i < count; i++) await this.send(`/flood/${randomBytes(8).toString('hex')}`);
  }
}

/** Latency histograms: their `_sum` and bucket lines depend on timing, their `_count` does not. */
const TIMED = /^django_http_requests_latency_(including_middlewares_seconds|seconds_by_view_method)_(sum|bucket)$/;
const RESPONSE_BODY = 'django_http_responses_body_total_bytes';

/**
 * The HTTP samples of a scrape that must not depend on the HTTP path, as sorted lines: all of
 * them except the timed latency lines, and with the in-app scrape's own observation taken out of
 * the response-body histogram (its size differs with the latency sums it prints).
 */
export function pathIndependentLines(exp: Exposition, inAppScrapeBytes: number): string[] {
  return exp.samples
    .filter((s) => s.name.startsWith('django_http_') && !TIMED.test(s.name))
    .map((s) => `${s.name}${JSON.stringify(Object.entries(s.labels).sort())} ${withoutScrape(s, inAppScrapeBytes)}`)
    .sort();
}

function withoutScrape(s: Sample, bytes: number): number {
  if (s.name === `${RESPONSE_BODY}_sum`) return s.value - bytes;
  if (s.name === `${RESPONSE_BODY}_count`) return s.value - 1;
  if (s.name === `${RESPONSE_BODY}_bucket` && bytes <= Number(s.labels.le!.replace('+Inf', 'Infinity'))) return s.value - 1;
  return s.value;
}

/**
 * The server-level and entry families after the shared 213-request script, which both frameworks
 * must count identically; `proxyTrust` names the framework's own proxy setting in the test title.
 */
export function testEntryFamilies(run: () => { after: Exposition; again: Exposition }, proxyTrust: string): void {
  test('server-level families: 213 requests; dedicated-port scrapes count nowhere', () => {
    const { after, again } = run();
    expect(valueOf(after, 'django_http_requests_before_middlewares_total')).toBe(213);
    expect(valueOf(after, 'django_http_responses_before_middlewares_total')).toBe(213);
    expect(valueOf(after, 'django_http_requests_latency_including_middlewares_seconds_count')).toBe(213);
    expect(valueOf(after, 'django_http_requests_unknown_latency_including_middlewares_total')).toBe(0);
    expect(valueOf(after, 'django_http_requests_unknown_latency_total')).toBe(0);
    const http = (exp: Exposition) => exp.samples.filter((s) => s.name.startsWith('django_http_'));
    expect(http(again)).toEqual(http(after));
  });

  test(`method, transport (${proxyTrust}), ajax and request body`, () => {
    const { after } = run();
    expect(vectorOf(after, 'django_http_requests_total_by_method_total')).toEqual([
      '{"method":"<invalid method>"} 1',
      '{"method":"GET"} 211',
      '{"method":"POST"} 1',
    ]);
    expect(vectorOf(after, 'django_http_requests_total_by_transport_total')).toEqual([
      '{"transport":"http"} 212',
      '{"transport":"https"} 1',
    ]);
    expect(valueOf(after, 'django_http_ajax_requests_total')).toBe(1);
    expect(valueOf(after, 'django_http_requests_body_total_bytes_count')).toBe(213);
    expect(valueOf(after, 'django_http_requests_body_total_bytes_sum')).toBe(300);
    expect(valueOf(after, 'django_http_requests_body_total_bytes_bucket', { le: '256.0' })).toBe(212);
    expect(valueOf(after, 'django_http_requests_body_total_bytes_bucket', { le: '512.0' })).toBe(213);
  });
}

/**
 * The response-body families after the shared 213-request script: one streamed response (`streamed`
 * says which), the 212 others sized with exactly the bytes the client received, one latin-1 charset.
 */
export function testResponseBodies(run: () => { after: Exposition; client: Client }, streamed: string): void {
  test(`response bodies: ${streamed} is streaming; charset`, () => {
    const { after, client } = run();
    expect(valueOf(after, 'django_http_responses_streaming_total')).toBe(1);
    expect(valueOf(after, 'django_http_responses_body_total_bytes_count')).toBe(212);
    expect(valueOf(after, 'django_http_responses_body_total_bytes_sum')).toBe(client.bodyBytes + client.inAppScrapeBytes);
    expect(vectorOf(after, 'django_http_responses_total_by_charset_total')).toEqual([
      '{"charset":"latin-1"} 1',
      '{"charset":"utf-8"} 212',
    ]);
  });
}

/**
 * Plays every variant (HTTP path, loader, ...) once before the file's tests, in parallel, and stops
 * their apps after them. Returns the reader of one variant's run.
 */
export function playEachVariant<V extends readonly string[], R extends { app: RunningApp }>(
  variants: readonly V[],
  play: (...variant: V) => Promise<R>,
): (...variant: V) => R {
  const runs = new Map<string, R>();
  const key = (variant: readonly string[]) => variant.join('/');
  beforeAll(async () => {
    for (const [k, run] of await Promise.all(variants.map(async (v) => [key(v), await play(...v)] as const))) runs.set(k, run);
  });
  afterAll(async () => {
    await Promise.all([...runs.values()].map((r) => r.app.stop()));
  });
  return (...variant) => runs.get(key(variant))!;
}

/** One test: every variant's HTTP vectors equal the first variant's (timed latency lines aside). */
export function testVariantsAgree<V extends readonly string[]>(
  title: string,
  variants: readonly V[],
  runOf: (...variant: V) => { after: Exposition; client: Client },
): void {
  test(title, () => {
    const [reference, ...others] = variants.map((v) => {
      const run = runOf(...v);
      return pathIndependentLines(run.after, run.client.inAppScrapeBytes);
    });
    for (const other of others) expect(other).toEqual(reference);
  });
}
