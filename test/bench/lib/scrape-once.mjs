// One timed scrape of a bench server, in the format and encoding a scraper asks for, with what the
// server went through meanwhile: its longest event-loop block, its CPU time, and how long it
// waited for a CPU. Shared by the scrape phase and the OpenMetrics scrape bench.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { createGunzip } from 'node:zlib';

/** The Accept header Prometheus 2.x sends when it may store exemplars (OpenMetrics first). */
export const PROMETHEUS_OPENMETRICS_ACCEPT = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,'
  + 'text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/**
 * GET `url` with the given request headers; the body is decompressed as it arrives when the
 * server gzipped it, as a scraper does. `ms` runs from the request to the last decoded byte.
 */
function get(url, headers, timeoutMs = 120_000) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.get(url, { agent: false, timeout: timeoutMs, headers }, (res) => {
      let wireBytes = 0;
      res.on('data', (c) => { wireBytes += c.length; });
      const encoding = res.headers['content-encoding'];
      const body = encoding === 'gzip' ? res.pipe(createGunzip()) : res;
      const chunks = [];
      body.on('data', (c) => chunks.push(c));
      body.on('end', () => resolve({
        status: res.statusCode,
        contentType: res.headers['content-type'],
        encoding: encoding ?? 'identity',
        wireBytes,
        body: Buffer.concat(chunks).toString('utf8'),
        ms: performance.now() - t0,
      }));
      body.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout fetching ${url}`)));
    req.on('error', reject);
  });
}

/** Sample lines: HELP/TYPE/UNIT comments and OpenMetrics' `# EOF` are not counted. */
export function sampleLines(body) {
  let lines = 0;
  for (const line of body.split('\n')) if (line && line[0] !== '#') lines++;
  return lines;
}

/**
 * Scrapes `server.metricsUrl` once. `accept`: the Accept header (none when undefined); `gzip`:
 * ask for gzip, as Prometheus always does. Throws unless the answer is 200.
 */
export async function scrapeOnce(server, { accept, gzip = false } = {}) {
  const headers = { ...(accept === undefined ? {} : { accept }), ...(gzip ? { 'accept-encoding': 'gzip' } : {}) };
  const waitBefore = server.cpuWaitMs();
  const { cpu: cpuBefore } = await server.snapshot();
  await server.control('loop-start');
  const res = await get(server.metricsUrl, headers);
  const { maxBlockMs } = await server.control('loop-stop');
  const { cpu: cpuAfter } = await server.snapshot();
  const cpuWaitMs = waitBefore === null ? NaN : server.cpuWaitMs() - waitBefore;
  if (res.status !== 200) throw new Error(`GET ${server.metricsUrl}: HTTP ${res.status}`);
  return {
    ms: res.ms,
    bytes: Buffer.byteLength(res.body),
    wireBytes: res.wireBytes,
    contentType: res.contentType,
    encoding: res.encoding,
    lines: sampleLines(res.body),
    maxBlockMs,
    cpuWaitMs,
    serverCpuMs: (cpuAfter.user - cpuBefore.user + cpuAfter.system - cpuBefore.system) / 1000,
    body: res.body,
  };
}
