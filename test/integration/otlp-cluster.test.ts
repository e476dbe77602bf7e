import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { HTTP } from '../../views/index.js';
import { startCluster, traffic, type RunningCluster } from '../fixtures/cluster-harness.js';
import { valueOf } from '../support/exposition.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedRequest } from '../support/otlp-receiver.js';

let app: RunningCluster | undefined;
let receiver: OtlpReceiver | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await app?.stop();
  await receiver?.close();
  app = receiver = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const NAME = HTTP.requestsBefore.name;

/** Each pushing process's latest value of `name` collected after `since`, by service.instance.id. */
function latestByInstance(requests: readonly ReceivedRequest[], name: string, since: number): Map<string, number> {
  const latest = new Map<string, number>();
  for (const request of requests) {
    for (const metric of request.metrics) {
      const point = metric.points[0];
      if (metric.name !== name || point === undefined || point.timeUnixNano <= BigInt(since) * 1_000_000n) continue;
      latest.set(String(metric.resource['service.instance.id']), point.value!);
    }
  }
  return latest;
}

async function pushingCluster(env: Record<string, string> = {}): Promise<{ cluster: RunningCluster; to: OtlpReceiver }> {
  const to = (receiver = await startOtlpReceiver());
  const cluster = (app = await startCluster({
    workers: 2,
    env: { OTEL_METRICS_EXPORTER: 'prometheus,otlp', OTEL_EXPORTER_OTLP_ENDPOINT: to.base, OTEL_METRIC_EXPORT_INTERVAL: '200', ...env },
  }));
  return { cluster, to };
}

describe('node:cluster: which process pushes what, so that nothing counts twice', () => {
  test('the primary pushes the merge of every process (its scrape, too); the workers push none of the families', async () => {
    const { cluster, to } = await pushingCluster();
    const answered = await traffic(cluster.port, '/', 101);
    expect([answered.total, answered.failed, answered.byWorker.size]).toEqual([101, 0, 2]);
    const since = Date.now();
    // A merge may use a worker's previous state when it did not publish within 1 s (a loaded machine): the next one catches up.
    await to.waitFor((r) => [...latestByInstance(r, NAME, since).values()].includes(101), 15_000, 'a push of the 101 requests');
    const latest = latestByInstance(to.requests, NAME, since);
    expect([...latest.values()]).toEqual([101]);
    expect(valueOf(await cluster.scrape(), NAME)).toBe(101);
    // Three processes with the preload, one pushing the families: no request from the workers carries one.
    const familyPushers = new Set(to.requests.filter((q) => q.metrics.some((m) => m.name.startsWith('django_') || m.name.startsWith('nodejs_'))).flatMap((q) => q.metrics.map((m) => m.resource['service.instance.id'])));
    expect(familyPushers.size).toBe(1);
  });

  test('with PROMETHEUS_MULTIPROC_DIR any process may serve the merge: each pushes its own, under its own instance id, and they add up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'odm-otlp-cluster-'));
    dirs.push(dir);
    const { cluster, to } = await pushingCluster({ PROMETHEUS_MULTIPROC_DIR: dir });
    await traffic(cluster.port, '/', 101);
    const since = Date.now();
    const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    await to.waitFor((r) => latestByInstance(r, NAME, since).size === 3 && sum(latestByInstance(r, NAME, since)) === 101, 15_000, 'a push from each of the three processes');
    const latest = latestByInstance(to.requests, NAME, since);
    expect(latest.size).toBe(3);
    expect(sum(latest)).toBe(101);
    // The primary serves no request: one of the three pushes 0, the workers share the rest.
    expect([...latest.values()].filter((v) => v === 0).length).toBe(1);
    expect(valueOf(await cluster.scrape(), NAME)).toBe(101);
  });
});
