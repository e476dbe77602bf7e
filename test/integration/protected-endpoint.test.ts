// The protected endpoint of real apps under the preload: the dedicated server and the in-app
// handlers of node:http, express, fastify and koa, with bearer and Basic credentials from the
// settings or the handler's options, invalid settings, and TLS with certificates rotated on disk.
import { mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync, copyFileSync, readFileSync, mkdirSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { opensslInstalled, selfSignedCertificate } from '../fixtures/protected-certs.mjs';
import { parseExposition, valueOf, type Exposition } from '../support/exposition.js';
import { REGISTER, ROOT, spawnApp, type RunningApp, type SpawnOptions } from '../support/processes.js';

const APP = 'test/fixtures/protected-app.mjs';
const PROBE = `${ROOT}test/fixtures/protected-compare-probe.mjs`;
const LOG = 'otel-django-metrics: ';
const BEARER_CHALLENGE = 'Bearer realm="metrics"';
const BASIC_CHALLENGE = 'Basic realm="metrics", charset="UTF-8"';

let running: RunningApp[] = [];
afterEach(async () => {
  await Promise.all(running.map((app) => app.stop()));
  running = [];
});

async function start(env: Record<string, string>, options: SpawnOptions = {}): Promise<RunningApp> {
  const app = await spawnApp(APP, { ...options, env: { FIXTURE_FRAMEWORK: 'node', ...env, ...options.env } });
  running.push(app);
  return app;
}

interface Answer {
  status: number;
  /** Every WWW-Authenticate header line, in order. */
  challenges: string[];
  body: string;
  /** HTTPS: the SHA-256 fingerprint of the certificate the server presented. */
  certificate?: string;
}

/** GET `url` on a connection of its own (so each HTTPS request is a new handshake), trusting `ca`. */
function get(url: string, authorization?: string, ca?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const options = { headers: authorization === undefined ? {} : { Authorization: authorization }, agent: false, ca };
    const onResponse = (res: IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        const challenges: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) if (res.rawHeaders[i]!.toLowerCase() === 'www-authenticate') challenges.push(res.rawHeaders[i + 1]!);
        const answer: Answer = { status: res.statusCode!, challenges, body };
        if (url.startsWith('https:')) answer.certificate = (res.socket as TLSSocket).getPeerX509Certificate()!.fingerprint256;
        resolve(answer);
      });
    };
    (url.startsWith('https:') ? httpsRequest(url, options, onResponse) : httpRequest(url, options, onResponse)).on('error', reject).end();
  });
}

const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;
const dedicated = (app: RunningApp, scheme = 'http') => `${scheme}://127.0.0.1:${app.metricsPort}/metrics`;
const unauthorized = (...challenges: string[]): Answer => ({ status: 401, challenges, body: 'Unauthorized\n' });
const forbidden: Answer = { status: 403, challenges: [], body: 'Forbidden\n' };

function exposition(answer: Answer): Exposition {
  expect(answer.status).toBe(200);
  return parseExposition(answer.body);
}

const dir = mkdtempSync(join(tmpdir(), 'odm-protected-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the dedicated server', () => {
  test('PROMETHEUS_METRICS_AUTH_TOKEN_FILE: only the holder of the mounted token scrapes; every presented credential is one timingSafeEqual over two 32-byte digests', async () => {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'mounted-s3cret\n');
    const app = await start({ PROMETHEUS_METRICS_AUTH_TOKEN_FILE: tokenFile }, { nodeArgs: ['--import', PROBE, '--import', REGISTER] });
    const probed = () => app.stdout().split('\n').filter((line) => line.startsWith('timingSafeEqual'));

    expect(await get(dedicated(app))).toStrictEqual(unauthorized(BEARER_CHALLENGE));
    expect(probed()).toStrictEqual([]);
    const presented = ['Bearer mounted-s3cret', 'Bearer mounted-s3cret\\n', 'Bearer m', `Bearer ${'m'.repeat(2000)}`, basic('mounted:s3cret')];
    const statuses = [];
    for (const authorization of presented) statuses.push((await get(dedicated(app), authorization)).status);
    expect(statuses).toStrictEqual([200, 401, 401, 401, 401]);
    // No Basic credential is configured: a Basic header is refused without a comparison.
    expect(probed()).toStrictEqual(presented.slice(0, 4).map(() => 'timingSafeEqual 32 32'));
    expect(valueOf(exposition(await get(dedicated(app), 'Bearer mounted-s3cret')), 'django_http_requests_before_middlewares_total')).toBe(0);
    expect(app.stderr()).toBe('');
  });

  test('PROMETHEUS_METRICS_AUTH_BASIC: only user:password scrapes, a refusal carries the Basic challenge; the dedicated scrapes, refused or not, are never counted', async () => {
    const app = await start({ PROMETHEUS_METRICS_AUTH_BASIC: 'prometheus:correct horse' });
    expect(await get(dedicated(app))).toStrictEqual(unauthorized(BASIC_CHALLENGE));
    expect(await get(dedicated(app), basic('prometheus:battery staple'))).toStrictEqual(unauthorized(BASIC_CHALLENGE));
    expect(await get(dedicated(app), 'Bearer prometheus:correct horse')).toStrictEqual(unauthorized(BASIC_CHALLENGE));
    const scraped = exposition(await get(dedicated(app), basic('prometheus:correct horse')));
    expect(valueOf(scraped, 'django_http_requests_before_middlewares_total')).toBe(0);
  });

  test('PROMETHEUS_METRICS_AUTH_TOKEN with PROMETHEUS_METRICS_AUTH_BASIC_FILE: either credential scrapes; a refusal offers both challenges', async () => {
    const basicFile = join(dir, 'basic');
    writeFileSync(basicFile, 'u:p\n');
    const app = await start({ PROMETHEUS_METRICS_AUTH_TOKEN: 'tok', PROMETHEUS_METRICS_AUTH_BASIC_FILE: basicFile });
    expect((await get(dedicated(app), 'Bearer tok')).status).toBe(200);
    expect((await get(dedicated(app), basic('u:p'))).status).toBe(200);
    expect(await get(dedicated(app), basic('u:tok'))).toStrictEqual(unauthorized(BEARER_CHALLENGE, BASIC_CHALLENGE));
  });

  test('an invalid setting: exactly its line (never the secret), and the endpoint and in-app handler refuse everything; the app runs on', async () => {
    const app = await start({ PROMETHEUS_METRICS_AUTH_BASIC: 'no-colon-secret', FIXTURE_HANDLER_OPTIONS: '{"token":"own"}' });
    expect(app.stderr()).toBe(`${LOG}invalid PROMETHEUS_METRICS_AUTH_BASIC (expected user:password); the metrics endpoints refuse every request\n`);
    for (const authorization of [undefined, basic('no-colon-secret'), 'Bearer no-colon-secret']) {
      expect(await get(dedicated(app), authorization)).toStrictEqual(forbidden);
      expect(await get(app.url('/metrics'), authorization)).toStrictEqual(forbidden);
    }
    expect(await get(app.url('/'))).toStrictEqual({ status: 200, challenges: [], body: 'ok' });
    // A handler given its own credentials does not depend on the settings.
    expect((await get(app.url('/metrics-own'), 'Bearer own')).status).toBe(200);
  });
});

describe.each(['node', 'express', 'fastify', 'koa'])('the in-app handler in %s', (framework) => {
  test('PROMETHEUS_METRICS_AUTH_TOKEN protects it unless it is given options (they win); a refused scrape is one 401 response of the app, under the handler view', async () => {
    const app = await start({ FIXTURE_FRAMEWORK: framework, PROMETHEUS_METRICS_AUTH_TOKEN: 'settings-token', FIXTURE_HANDLER_OPTIONS: '{"basic":"own:pass"}' });
    expect(await get(app.url('/metrics'))).toStrictEqual(unauthorized(BEARER_CHALLENGE));
    expect(await get(app.url('/metrics'), 'Bearer wrong')).toStrictEqual(unauthorized(BEARER_CHALLENGE));
    expect(valueOf(exposition(await get(app.url('/metrics'), 'Bearer settings-token')), 'django_http_requests_before_middlewares_total')).toBe(3);
    expect(await get(app.url('/metrics-own'), 'Bearer settings-token')).toStrictEqual(unauthorized(BASIC_CHALLENGE));
    expect((await get(app.url('/metrics-own'), basic('own:pass'))).status).toBe(200);
    expect(await get(app.url('/'))).toStrictEqual({ status: 200, challenges: [], body: 'ok' });

    const scraped = exposition(await get(dedicated(app), 'Bearer settings-token'));
    const view = 'prometheus-django-metrics';
    const responses = (status: string) => valueOf(scraped, 'django_http_responses_total_by_status_view_method_total', { method: 'GET', status, view });
    expect([responses('401'), responses('200')]).toStrictEqual([3, 2]);
    expect(valueOf(scraped, 'django_http_requests_total_by_view_transport_method_total', { method: 'GET', transport: 'http', view })).toBe(5);
    expect(app.stderr()).toBe('');
  });

  test('invalid options: their line, and that handler refuses every request while the other serves', async () => {
    const app = await start({ FIXTURE_FRAMEWORK: framework, FIXTURE_HANDLER_OPTIONS: '{"token":""}' });
    expect(app.stderr()).toBe(`${LOG}invalid metricsHandler option token (empty); this handler refuses every request\n`);
    expect(await get(app.url('/metrics-own'))).toStrictEqual(forbidden);
    expect(await get(app.url('/metrics-own'), 'Bearer ')).toStrictEqual(forbidden);
    expect((await get(app.url('/metrics'))).status).toBe(200);
  });
});

const opensslAvailable = opensslInstalled();
const opensslRequired = process.env.CI === 'true';

describe.skipIf(!opensslAvailable && !opensslRequired)('TLS on the dedicated server', () => {
  test('the openssl CLI is installed (it makes the test certificates)', () => {
    expect(opensslAvailable).toBe(true);
  });

  /** A directory of its own with certificates `names`, made in it. */
  function certificates(...names: string[]) {
    const where = mkdtempSync(join(dir, 'tls-'));
    return { where, made: names.map((name) => selfSignedCertificate(where, name)) };
  }

  test('PROMETHEUS_METRICS_TLS_CERT and PROMETHEUS_METRICS_TLS_KEY: HTTPS from the PEM files, with the credentials checked inside it; a plain-HTTP request gets nothing', async () => {
    const { made: [a] } = certificates('a');
    const app = await start({ PROMETHEUS_METRICS_TLS_CERT: a!.cert, PROMETHEUS_METRICS_TLS_KEY: a!.key, PROMETHEUS_METRICS_AUTH_TOKEN: 'tok' });
    expect(await get(dedicated(app, 'https'), undefined, a!.pem)).toStrictEqual({ ...unauthorized(BEARER_CHALLENGE), certificate: a!.fingerprint });
    // Its own scrapes are not the app's traffic, over HTTPS as over HTTP.
    expect(valueOf(exposition(await get(dedicated(app, 'https'), 'Bearer tok', a!.pem)), 'django_http_requests_before_middlewares_total')).toBe(0);
    await expect(get(dedicated(app), 'Bearer tok')).rejects.toMatchObject({ code: 'ECONNRESET' });
    // The app's own server is the app's: the in-app handler stays on it.
    expect((await get(app.url('/metrics'), 'Bearer tok')).status).toBe(200);
    expect(app.stderr()).toBe('');
  });

  test('rotated files are served from the next handshake, without a restart; half a rotation keeps the pair loaded before (one line)', async () => {
    const { where, made: [a, b] } = certificates('a', 'b');
    const cert = join(where, 'cert.pem');
    const key = join(where, 'key.pem');
    copyFileSync(a!.cert, cert);
    copyFileSync(a!.key, key);
    const app = await start({ PROMETHEUS_METRICS_TLS_CERT: cert, PROMETHEUS_METRICS_TLS_KEY: key });
    const ca = a!.pem + b!.pem;
    const served = async () => (await get(dedicated(app, 'https'), undefined, ca)).certificate;
    expect(await served()).toBe(a!.fingerprint);

    // The key is written first: until the certificate follows, the two do not match.
    writeFileSync(key, readFileSync(b!.key));
    expect([await served(), await served(), await served()]).toStrictEqual([a!.fingerprint, a!.fingerprint, a!.fingerprint]);
    const pair = `TLS certificate ${cert} and key ${key}`;
    expect(app.stderr()).toMatch(new RegExp(`^${LOG}cannot load the ${pair} \\([^\\n]*key values mismatch\\); serving the pair loaded before\\n$`));

    writeFileSync(cert, readFileSync(b!.cert));
    expect([await served(), await served()]).toStrictEqual([b!.fingerprint, b!.fingerprint]);
    expect(app.stderr().split('\n').slice(1)).toStrictEqual([`${LOG}reloaded the ${pair}`, '']);
    expect(app.child.exitCode).toBeNull();
  });

  test('a Kubernetes secret volume (files behind a ..data symlink swapped at once) is followed too', async () => {
    const { where, made: [a, b] } = certificates('a', 'b');
    const version = (name: string, source: { cert: string; key: string }) => {
      mkdirSync(join(where, name));
      copyFileSync(source.cert, join(where, name, 'tls.crt'));
      copyFileSync(source.key, join(where, name, 'tls.key'));
    };
    version('..v1', a!);
    symlinkSync('..v1', join(where, '..data'));
    symlinkSync('..data/tls.crt', join(where, 'tls.crt'));
    symlinkSync('..data/tls.key', join(where, 'tls.key'));
    const app = await start({ PROMETHEUS_METRICS_TLS_CERT: join(where, 'tls.crt'), PROMETHEUS_METRICS_TLS_KEY: join(where, 'tls.key') });
    const served = async () => (await get(dedicated(app, 'https'), undefined, a!.pem + b!.pem)).certificate;
    expect(await served()).toBe(a!.fingerprint);

    version('..v2', b!);
    symlinkSync('..v2', join(where, '..data_tmp'));
    renameSync(join(where, '..data_tmp'), join(where, '..data'));
    expect(await served()).toBe(b!.fingerprint);
    expect(app.stderr()).toBe(`${LOG}reloaded the TLS certificate ${join(where, 'tls.crt')} and key ${join(where, 'tls.key')}\n`);
  });

  test('files missing at the start: one line, every handshake fails (never plain HTTP), and HTTPS once they appear', async () => {
    const { where, made: [a] } = certificates('a');
    const cert = join(where, 'later-cert.pem');
    const key = join(where, 'later-key.pem');
    const app = await start({ PROMETHEUS_METRICS_TLS_CERT: cert, PROMETHEUS_METRICS_TLS_KEY: key });
    expect(app.stderr()).toBe(`${LOG}cannot load the TLS certificate ${cert} and key ${key} (ENOENT: no such file or directory, open '${cert}'); refusing every TLS handshake until they load\n`);
    await expect(get(dedicated(app, 'https'), undefined, a!.pem)).rejects.toMatchObject({ code: 'EPROTO', message: expect.stringContaining('alert handshake failure') });
    await expect(get(dedicated(app))).rejects.toMatchObject({ code: 'ECONNRESET' });

    copyFileSync(a!.key, key);
    copyFileSync(a!.cert, cert);
    expect((await get(dedicated(app, 'https'), undefined, a!.pem)).certificate).toBe(a!.fingerprint);
    expect(app.stderr().split('\n').slice(1)).toStrictEqual([`${LOG}reloaded the TLS certificate ${cert} and key ${key}`, '']);
  });

  test.each([
    ['PROMETHEUS_METRICS_TLS_CERT', 'PROMETHEUS_METRICS_TLS_KEY'],
    ['PROMETHEUS_METRICS_TLS_KEY', 'PROMETHEUS_METRICS_TLS_CERT'],
  ])('only %s: one line and no dedicated server; the app and its in-app handler run on', async (set, unset) => {
    const app = await start({ [set]: join(dir, 'whatever.pem') });
    expect(app.stderr()).toBe(`${LOG}${set} is set without ${unset}; serving no dedicated /metrics endpoint\n`);
    await expect(get(dedicated(app))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect((await get(app.url('/metrics'))).status).toBe(200);
  });
});
