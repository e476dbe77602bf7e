import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { vectorOf, type Exposition } from '../support/exposition.js';
import { spawnApp, type RunningApp } from '../support/processes.js';

/** Transport (metrics.md section 2): TLS sockets, and X-Forwarded-Proto exactly when express trusts the proxy. */
const APP = 'test/fixtures/express5-app.mjs';
const TRANSPORT = 'django_http_requests_total_by_transport_total';
const VIEW_TRANSPORT = 'django_http_requests_total_by_view_transport_method_total';

describe.each([['fast'], ['otel']])('express over https.createServer, %s path', (httpPath) => {
  let dir: string;
  let app: RunningApp;
  let after: Exposition;
  const statuses: number[] = [];

  /** A GET verified against the test's own self-signed certificate. */
  function get(path: string, headers: Record<string, string> = {}): Promise<number> {
    const ca = readFileSync(join(dir, 'cert.pem'));
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: app.port, path, headers, ca }, (res) => {
        res.resume().on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject).end();
    });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'otel-django-metrics-tls-'));
    execFileSync('/usr/bin/openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    app = await spawnApp(APP, { env: { FIXTURE_TLS_DIR: dir, PROMETHEUS_HTTP_INSTRUMENTATION: httpPath, PROMETHEUS_TRUST_PROXY: undefined } });
    statuses.push(await get('/users/1'));
    // TLS decides, whatever a (here untrusted) proxy header claims.
    statuses.push(await get('/users/2', { 'X-Forwarded-Proto': 'http' }));
    statuses.push(await get('/nope'));
    after = await app.scrape();
  });
  afterAll(async () => {
    await app?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('every request counts as https in #9, and matched ones in #10', () => {
    expect(statuses).toEqual([200, 200, 404]);
    expect(vectorOf(after, TRANSPORT)).toEqual(['{"transport":"https"} 3']);
    expect(vectorOf(after, VIEW_TRANSPORT)).toEqual(['{"method":"GET","transport":"https","view":"/users/:id"} 2']);
  });
});

describe.each([
  ['trusts', 'true'],
  ['does not trust', undefined],
])('plain http express that %s the proxy', (_, trustProxy) => {
  let app: RunningApp;
  let after: Exposition;

  beforeAll(async () => {
    app = await spawnApp(APP, { env: { FIXTURE_TRUST_PROXY: trustProxy, PROMETHEUS_TRUST_PROXY: undefined } });
    const get = (path: string, headers?: Record<string, string>) => fetch(app.url(path), { headers }).then((r) => r.text());
    await get('/users/1', { 'X-Forwarded-Proto': 'https' });
    await get('/users/2', { 'X-Forwarded-Proto': 'https, http' }); // the first value counts
    await get('/users/3');
    await get('/nope', { 'X-Forwarded-Proto': 'https' });
    after = await app.scrape();
  });
  afterAll(() => app?.stop());

  test(`X-Forwarded-Proto: https counts as ${trustProxy ? 'https' : 'http'} in #9 and #10`, () => {
    if (trustProxy) {
      expect(vectorOf(after, TRANSPORT)).toEqual(['{"transport":"http"} 1', '{"transport":"https"} 3']);
      expect(vectorOf(after, VIEW_TRANSPORT)).toEqual([
        '{"method":"GET","transport":"http","view":"/users/:id"} 1',
        '{"method":"GET","transport":"https","view":"/users/:id"} 2',
      ]);
    } else {
      expect(vectorOf(after, TRANSPORT)).toEqual(['{"transport":"http"} 4']);
      expect(vectorOf(after, VIEW_TRANSPORT)).toEqual(['{"method":"GET","transport":"http","view":"/users/:id"} 3']);
    }
  });
});
