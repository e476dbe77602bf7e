// Plain node:http helpers for the scrape phase: driving a fixed list of distinct requests
// (autocannon cycles a list per connection, so it cannot send each one exactly once) and timing scrapes.
import http from 'node:http';
import { performance } from 'node:perf_hooks';

/** Sends every request once, `concurrency` at a time over keep-alive sockets; rejects on the first failure. */
export async function driveRequests(port, requests, { concurrency = 16, timeoutMs = 10_000 } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  const one = (req) => new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port, method: req.method, path: req.path, agent, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', resolve);
      res.on('error', reject);
    });
    r.on('timeout', () => r.destroy(new Error(`timeout on ${req.method} ${req.path}`)));
    r.on('error', reject);
    r.end();
  });
  const lane = async () => {
    while (next < requests.length) await one(requests[next++]);
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
  } finally {
    agent.destroy();
  }
}

/** GET a URL fully; returns { status, body, ms } with ms from request start to last byte. */
export function fetchText(url, timeoutMs = 120_000) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0 }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout fetching ${url}`)));
    req.on('error', reject);
  });
}
