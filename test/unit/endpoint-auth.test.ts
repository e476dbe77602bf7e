import { createRequire, syncBuiltinESMExports } from 'node:module';
import { request, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { readEndpointSettings } from '../../src/exposition/endpoint-settings.js';
import { scrapeFunction } from '../../src/exposition/scrape-source.js';
import { startMetricsServer } from '../../src/exposition/server.js';

const EXPOSITION = '# HELP up_total A counter.\n# TYPE up_total counter\nup_total 1.0\n';

let servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  servers = [];
});

/** The dedicated server on a free loopback port, protected as `env` says; its port. */
async function serve(env: Record<string, string>): Promise<number> {
  const log = (line: string) => expect.unreachable(line);
  const endpoint = readEndpointSettings(env, log);
  const { server, port } = startMetricsServer({ port: 0, portRange: undefined, address: '127.0.0.1', endpoint }, scrapeFunction(async (out) => void out.push(EXPOSITION)), log);
  servers.push(server as Server);
  await port;
  return (server.address() as { port: number }).port;
}

interface Answer {
  status: number;
  /** Every WWW-Authenticate header line, in order. */
  challenges: string[];
  contentType: string | undefined;
  body: string;
}

function ask(port: number, authorization?: string, { method = 'GET', path = '/metrics' } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = authorization === undefined ? {} : { Authorization: authorization };
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        const challenges: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) if (res.rawHeaders[i]!.toLowerCase() === 'www-authenticate') challenges.push(res.rawHeaders[i + 1]!);
        resolve({ status: res.statusCode!, challenges, contentType: res.headers['content-type'], body });
      });
    });
    req.on('error', reject).end();
  });
}

const basic = (credentials: string, encoding: BufferEncoding = 'utf8') => `Basic ${Buffer.from(credentials, encoding).toString('base64')}`;
const BEARER_CHALLENGE = 'Bearer realm="metrics"';
const BASIC_CHALLENGE = 'Basic realm="metrics", charset="UTF-8"';
const TEXT = 'text/plain; charset=utf-8';
const unauthorized = (...challenges: string[]): Answer => ({ status: 401, challenges, contentType: TEXT, body: 'Unauthorized\n' });

describe('a bearer token', () => {
  const env = { PROMETHEUS_METRICS_AUTH_TOKEN: 'tok-3n/+=' };

  test.each(['Bearer tok-3n/+=', 'bearer tok-3n/+=', 'BEARER   tok-3n/+=  '])('%j: the scrape', async (authorization) => {
    const answer = await ask(await serve(env), authorization);
    expect([answer.status, answer.body]).toStrictEqual([200, EXPOSITION]);
  });

  test.each([undefined, 'Bearer tok-3n/+', 'Bearer tok-3n/+==', 'Bearer TOK-3N/+=', 'Bearer', 'Bearer  ', 'Bearer tok-3n/+= x', 'Token tok-3n/+=', 'tok-3n/+=', basic('tok-3n/+=:x')])(
    '%j: 401 with the Bearer challenge and no detail',
    async (authorization) => {
      expect(await ask(await serve(env), authorization)).toStrictEqual(unauthorized(BEARER_CHALLENGE));
    },
  );

  test('any path and method is refused alike without it: nothing tells a prober what is there; with it the server answers as before', async () => {
    const port = await serve(env);
    expect(await ask(port, undefined, { path: '/other' })).toStrictEqual(unauthorized(BEARER_CHALLENGE));
    expect(await ask(port, undefined, { method: 'POST' })).toStrictEqual(unauthorized(BEARER_CHALLENGE));
    expect(await ask(port, undefined, { method: 'HEAD' })).toStrictEqual({ ...unauthorized(BEARER_CHALLENGE), body: '' });
    expect(await ask(port, 'Bearer tok-3n/+=', { path: '/other' })).toMatchObject({ status: 404, body: 'Not Found\n' });
    expect(await ask(port, 'Bearer tok-3n/+=', { method: 'POST' })).toMatchObject({ status: 405, body: 'Method Not Allowed\n' });
    expect(await ask(port, 'Bearer tok-3n/+=', { method: 'HEAD' })).toMatchObject({ status: 200, body: '' });
  });
});

describe('user:password', () => {
  const env = { PROMETHEUS_METRICS_AUTH_BASIC: 'prom:pa:ss ç' };

  test.each([basic('prom:pa:ss ç'), basic('prom:pa:ss ç').replace('Basic', 'basic'), basic('prom:pa:ss ç').replace(/=+$/, '')])('%j: the scrape', async (authorization) => {
    expect(await ask(await serve(env), authorization)).toMatchObject({ status: 200, body: EXPOSITION });
  });

  test.each([
    undefined,
    basic('prom:pa:ss'),
    basic('Prom:pa:ss ç'),
    basic('prom:pa:ss ç\n'),
    // The same text in Latin-1: the challenge says UTF-8.
    basic('prom:pa:ss ç', 'latin1'),
    'Basic prom:pa:ss ç',
    'Basic !!!!',
    'Bearer prom:pa:ss',
  ])('%j: 401 with the Basic challenge and no detail', async (authorization) => {
    expect(await ask(await serve(env), authorization)).toStrictEqual(unauthorized(BASIC_CHALLENGE));
  });
});

test('both set: either credential is accepted, and a refusal offers both schemes', async () => {
  const port = await serve({ PROMETHEUS_METRICS_AUTH_TOKEN: 'tok', PROMETHEUS_METRICS_AUTH_BASIC: 'u:p' });
  expect(await ask(port, 'Bearer tok')).toMatchObject({ status: 200, body: EXPOSITION });
  expect(await ask(port, basic('u:p'))).toMatchObject({ status: 200, body: EXPOSITION });
  for (const authorization of [undefined, 'Bearer u:p', basic('tok'), 'Bearer tokk']) {
    expect(await ask(port, authorization)).toStrictEqual(unauthorized(BEARER_CHALLENGE, BASIC_CHALLENGE));
  }
});

test('invalid settings: every request is refused (403, no challenge: no credential can help), whatever it presents', async () => {
  const env = { PROMETHEUS_METRICS_AUTH_TOKEN: '' };
  const lines: string[] = [];
  const endpoint = readEndpointSettings(env, (l) => lines.push(l));
  expect(lines).toHaveLength(1);
  const { server, port } = startMetricsServer({ port: 0, portRange: undefined, address: '127.0.0.1', endpoint }, scrapeFunction(async (out) => void out.push(EXPOSITION)), () => {});
  servers.push(server as Server);
  await port;
  const listening = (server.address() as { port: number }).port;
  const forbidden: Answer = { status: 403, challenges: [], contentType: TEXT, body: 'Forbidden\n' };
  for (const authorization of [undefined, 'Bearer ', 'Bearer x', basic('a:b')]) expect(await ask(listening, authorization)).toStrictEqual(forbidden);
  expect(await ask(listening, undefined, { path: '/other' })).toStrictEqual(forbidden);
});

describe('the comparison', () => {
  const crypto = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
  const original = crypto.timingSafeEqual;
  const calls: [number, number][] = [];
  beforeAll(() => {
    crypto.timingSafeEqual = (a: NodeJS.ArrayBufferView, b: NodeJS.ArrayBufferView) => {
      calls.push([a.byteLength, b.byteLength]);
      return original(a, b);
    };
    syncBuiltinESMExports();
  });
  afterAll(() => {
    crypto.timingSafeEqual = original;
    syncBuiltinESMExports();
  });

  test('is one timingSafeEqual over two 32-byte digests per presented credential, whatever its length, right or wrong', async () => {
    const port = await serve({ PROMETHEUS_METRICS_AUTH_TOKEN: 'a-token-of-some-length', PROMETHEUS_METRICS_AUTH_BASIC: 'user:password' });
    const presented = ['Bearer a-token-of-some-length', 'Bearer a', `Bearer ${'x'.repeat(4000)}`, basic('user:password'), basic('u:p'), basic(`user:${'p'.repeat(3000)}`)];
    const statuses = [];
    for (const authorization of presented) statuses.push((await ask(port, authorization)).status);
    expect(statuses).toStrictEqual([200, 401, 401, 200, 401, 401]);
    expect(calls).toStrictEqual(presented.map(() => [32, 32]));
  });
});
