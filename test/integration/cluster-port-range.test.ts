import { afterEach, describe, expect, test } from 'vitest';
import { freePortRange, logLines, startCluster, traffic, type RunningCluster } from '../fixtures/cluster-harness.js';
import { valueOf } from '../support/exposition.js';

const REQUESTS = 'django_http_requests_before_middlewares_total';

let app: RunningCluster | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

// Before this was built: the two workers shared one port through cluster's listen handle
// (both logged the same port) and scrapes of it alternated between them (50, 51, 50, 51).
describe('node:cluster with a dedicated port range: each process its own port and its own values', () => {
  test('the primary and 2 workers listen on 3 distinct ports; each serves only its own counts, steadily', async () => {
    const range = await freePortRange(4);
    app = await startCluster({ workers: 2, portRange: range });
    const answered = await traffic(app.port, '/', 101);
    expect(answered.total).toBe(101);
    // Workers log their port once their preload has run; the primary logs first.
    const ports = logLines(app.stderr()).map((l) => Number(/^otel-django-metrics: Exporting Prometheus \/metrics\/ on port (\d+)$/.exec(l)?.[1]));
    expect(ports.sort()).toEqual([range[0], range[0] + 1, range[0] + 2]);
    const perPort = [];
    for (const port of ports) {
      const first = valueOf(await app.scrape(port), REQUESTS);
      expect(valueOf(await app.scrape(port), REQUESTS), `port ${port} scraped twice`).toBe(first);
      perPort.push(first);
    }
    expect(perPort.sort((a, b) => a! - b!)).toEqual([0, ...[...answered.byWorker.values()].sort((a, b) => a - b)]);
  });
});
