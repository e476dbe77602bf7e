// End to end: a real Prometheus scrapes the protected dedicated endpoint (HTTPS, bearer token from
// a mounted file and user:password) and the in-app handler, with the scrape settings a deployment
// uses: `up` is 1 exactly where the credentials and the CA are right, and the data arrives.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { opensslInstalled, selfSignedCertificate } from '../fixtures/protected-certs.mjs';
import { spawnApp, type RunningApp } from '../support/processes.js';
import { installed, PROMETHEUS_BIN, startPrometheus, type RunningPrometheus } from '../support/prometheus.js';

const available = installed(PROMETHEUS_BIN) && opensslInstalled();
// In CI a missing Prometheus or openssl fails the run; locally the suite is skipped.
const required = process.env.CI === 'true';

const TOKEN = 'e2e-T0ken.with/sym+bols=';
const USER = 'prometheus';
const PASSWORD = 'correct horse: battery staple';

describe.skipIf(!available && !required)('a real Prometheus scraping the protected endpoint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'odm-protected-e2e-'));
  let app: RunningApp;
  let prometheus: RunningPrometheus;

  beforeAll(async () => {
    const certificate = selfSignedCertificate(dir, 'metrics');
    const tokenFile = join(dir, 'metrics-token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    app = await spawnApp('test/fixtures/protected-app.mjs', {
      env: {
        PROMETHEUS_METRICS_AUTH_TOKEN_FILE: tokenFile,
        PROMETHEUS_METRICS_AUTH_BASIC: `${USER}:${PASSWORD}`,
        PROMETHEUS_METRICS_TLS_CERT: certificate.cert,
        PROMETHEUS_METRICS_TLS_KEY: certificate.key,
      },
    });
    const dedicated = { address: `127.0.0.1:${app.metricsPort}`, labels: {} };
    const inApp = { address: `127.0.0.1:${app.port}`, labels: {} };
    const https = { scheme: 'https', tls_config: { ca_file: certificate.cert } };
    const job = (target: typeof dedicated, settings: Record<string, unknown>) => ({ targets: [target], settings });
    const jobs = {
      // The README's scrape config: HTTPS with the certificate's CA, the token from a file.
      django: job(dedicated, { ...https, authorization: { credentials_file: tokenFile } }),
      bearer: job(dedicated, { ...https, authorization: { credentials: TOKEN } }),
      basic: job(dedicated, { ...https, basic_auth: { username: USER, password: PASSWORD } }),
      'in-app': job(inApp, { authorization: { credentials: TOKEN } }),
      'no-credentials': job(dedicated, https),
      'wrong-token': job(dedicated, { ...https, authorization: { credentials: `${TOKEN}x` } }),
      'wrong-password': job(dedicated, { ...https, basic_auth: { username: USER, password: 'Correct horse: battery staple' } }),
      'in-app-no-credentials': job(inApp, {}),
      'plain-http': job(dedicated, { authorization: { credentials: TOKEN } }),
      'untrusted-certificate': job(dedicated, { scheme: 'https', authorization: { credentials: TOKEN } }),
    };
    prometheus = await startPrometheus({ jobs });
    await prometheus.waitFor('every target scraped', async () => {
      const targets = await prometheus.targets();
      return targets.length === Object.keys(jobs).length && targets.every((t) => t.health !== 'unknown');
    });
  }, 60_000);

  afterAll(async () => {
    await prometheus?.stop();
    await app?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  test(`${PROMETHEUS_BIN} and openssl are installed`, () => {
    expect(available).toBe(true);
  });

  test('up == 1 with the right credentials and CA, 0 without them, with wrong ones, over plain HTTP or with an untrusted certificate', async () => {
    const up = Object.fromEntries((await prometheus.query('up')).map((s) => [s.metric.job, s.value]));
    expect(up).toStrictEqual({
      django: 1,
      bearer: 1,
      basic: 1,
      'in-app': 1,
      'no-credentials': 0,
      'wrong-token': 0,
      'wrong-password': 0,
      'in-app-no-credentials': 0,
      'plain-http': 0,
      'untrusted-certificate': 0,
    });
  });

  test('each refusal is what the scraper reports: 401 for missing or wrong credentials, a TLS failure otherwise', async () => {
    const errors = Object.fromEntries((await prometheus.targets()).map((t) => [t.labels.job, t.lastError]));
    for (const job of ['no-credentials', 'wrong-token', 'wrong-password', 'in-app-no-credentials']) expect(errors[job]).toBe('server returned HTTP status 401 Unauthorized');
    expect(errors['untrusted-certificate']).toMatch(/: x509: certificate signed by unknown authority$/);
    // The TLS server closes a connection that does not start a handshake.
    expect(errors['plain-http']).toMatch(/^Get "http:\/\/127\.0\.0\.1:\d+\/metrics": (EOF|read: connection reset by peer)$/);
    for (const job of ['django', 'bearer', 'basic', 'in-app']) expect(errors[job]).toBe('');
  });

  test('the families arrive only through the authorized scrapes', async () => {
    const jobs = (await prometheus.query('count by (job) (django_http_requests_before_middlewares_total)')).map((s) => s.metric.job).sort();
    expect(jobs).toStrictEqual(['basic', 'bearer', 'django', 'in-app']);
  });
});
