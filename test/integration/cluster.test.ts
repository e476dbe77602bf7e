import { afterEach, describe, expect, test } from 'vitest';
import { logLines, startCluster, traffic, type RunningCluster } from '../fixtures/cluster-harness.js';
import { valueOf } from '../support/exposition.js';

const REQUESTS = 'django_http_requests_before_middlewares_total';
const RESPONSES = 'django_http_responses_before_middlewares_total';

let app: RunningCluster | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

// Before this was built: the primary took the metrics port, each worker logged "cannot listen on
// 127.0.0.1:<port> (in use)", and the endpoint reported 0 after 101 requests; with a port range the
// two workers shared one port through cluster's listen handle and scrapes alternated (50, 51, 50).
describe('node:cluster with the default settings: one endpoint, the workers merged', () => {
  for (const preload of ['execArgv', 'NODE_OPTIONS'] as const) {
    test(`preload in ${preload}: 101 requests over 2 workers read 101 on the dedicated port, no port fight`, async () => {
      app = await startCluster({ workers: 2, preload });
      const answered = await traffic(app.port, '/', 101);
      expect(answered.total).toBe(101);
      expect(answered.byWorker.size).toBe(2);
      const m = await app.scrape();
      expect(valueOf(m, REQUESTS)).toBe(101);
      expect(valueOf(m, RESPONSES)).toBe(101);
      // A scrape again reads the same: no alternation between processes.
      expect(valueOf(await app.scrape(), REQUESTS)).toBe(101);
      expect(logLines(app.stderr())).toEqual([]);
    });
  }
});
