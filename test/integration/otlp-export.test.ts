import { afterEach, describe, expect, test } from 'vitest';
import { BODY_BUCKETS, DEFAULT_LATENCY_BUCKETS, HTTP } from '../../views/index.js';
import { formatFloat } from '../../src/exposition/format.js';
import { valueOf } from '../support/exposition.js';
import { getEach, OTLP_APP as APP, pointsOf, pushedAfter, startOtlpReceiver, startPushing, type OtlpReceiver, type ReceivedMetric } from '../support/otlp-receiver.js';
import { spawnApp, type RunningApp, type SpawnOptions } from '../support/processes.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const running: Array<{ stop(): Promise<void> } | { close(): Promise<void> }> = [];
afterEach(async () => {
  for (const r of running.splice(0)) await ('stop' in r ? r.stop() : r.close());
});

async function receiver(): Promise<OtlpReceiver> {
  const r = await startOtlpReceiver();
  running.push(r);
  return r;
}

async function start(to: OtlpReceiver, env: SpawnOptions['env'] = {}, options: Omit<SpawnOptions, 'env'> = {}): Promise<RunningApp> {
  const app = await startPushing(to.base, env, options);
  running.push(app);
  return app;
}

/** Known traffic: 3 home, 2 cart, 1 not found (404), 2 orders (the app's own instruments). */
const TRAFFIC = ['/view/home', '/view/home', '/view/home', '/view/cart', '/view/cart', '/status/404', '/order', '/order'];

const refused = (port: number) => expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toMatchObject({ cause: { code: 'ECONNREFUSED' } });

describe.each([
  ['http/protobuf', 'OTEL_EXPORTER_OTLP_PROTOCOL'],
  ['http/json', 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL'],
] as const)('OTEL_METRICS_EXPORTER=otlp over %s (%s), decoded with the opentelemetry-proto definitions', (protocol, variable) => {
  test('exact counts after known traffic, the catalog bounds, the app instruments in the same push, the resource', async () => {
    const to = await receiver();
    const app = await start(to, { [variable]: protocol, OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test,service.name=overridden' });
    await getEach(app, ...TRAFFIC);
    const after = Date.now();
    const pushed = await pushedAfter(to, HTTP.requestsByViewTransportMethod.name, after);
    const byView = pushed.get(HTTP.requestsByViewTransportMethod.name)!;
    expect(to.rejected).toEqual([]);
    expect(new Set(to.requests.map((r) => r.protocol))).toEqual(new Set([protocol]));

    expect(pointsOf(byView).filter((p) => p.includes('"home"') || p.includes('"cart"'))).toEqual([
      '{"method":"GET","transport":"http","view":"cart"} 2',
      '{"method":"GET","transport":"http","view":"home"} 3',
    ]);
    const metric = (name: string) => pushed.get(name);
    expect(pointsOf(metric(HTTP.responsesByStatus.name))).toEqual(['{"status":"200"} 7', '{"status":"404"} 1']);
    expect(pointsOf(metric(HTTP.requestsBefore.name))).toEqual(['{} 8']);
    expect(metric(HTTP.requestsBefore.name)).toMatchObject({ type: 'sum', monotonic: true, temporality: 2, unit: '', scope: 'otel-django-metrics', description: HTTP.requestsBefore.help });
    expect(metric(HTTP.responsesByStatus.name)).toMatchObject({ type: 'sum', monotonic: false, temporality: 2 });

    const latency = metric(HTTP.latencyByViewMethod.name)!;
    const home = latency.points.find((p) => p.attributes.view === 'home')!;
    expect({ type: latency.type, temporality: latency.temporality, unit: latency.unit, count: home.count, bounds: home.explicitBounds }).toEqual({
      type: 'histogram',
      temporality: 2,
      unit: '',
      count: 3,
      bounds: [...DEFAULT_LATENCY_BUCKETS],
    });
    expect(home.bucketCounts!.length).toBe(DEFAULT_LATENCY_BUCKETS.length + 1);
    expect(home.bucketCounts!.reduce((a, b) => a + b)).toBe(3);
    expect(metric(HTTP.responseBodyBytes.name)!.points.map((p) => [p.count, p.explicitBounds])).toEqual([[8, [...BODY_BUCKETS]]]);
    expect(metric('process_cpu_seconds_total')).toMatchObject({ type: 'sum', monotonic: true, scope: 'otel-django-metrics' });

    expect(metric('shop_orders')).toMatchObject({ scope: 'shop', type: 'sum', monotonic: true, temporality: 2, description: 'Orders placed.' });
    expect(pointsOf(metric('shop_orders'))).toEqual(['{"channel":"web"} 2']);
    const checkout = metric('shop_checkout_duration')!;
    expect([checkout.unit, checkout.points.map((p) => [p.count, p.explicitBounds, p.bucketCounts])]).toEqual(['s', [[2, [0.1, 0.5, 1], [0, 2, 0, 0]]]]);

    const resources = new Set(to.requests.flatMap((r) => r.metrics.map((m) => JSON.stringify(m.resource))));
    expect(resources.size).toBe(1);
    const resource = byView.resource;
    expect(resource).toEqual({
      'service.name': 'django',
      'service.instance.id': resource['service.instance.id'],
      'deployment.environment': 'test',
      'telemetry.sdk.language': 'nodejs',
      'telemetry.sdk.name': 'opentelemetry',
      'telemetry.sdk.version': '2.12.0',
    });
    expect(resource['service.instance.id']).toMatch(UUID);
    // OTEL_METRICS_EXPORTER=otlp alone: no Prometheus endpoint, and nothing said about it (no port was set).
    expect(app.stderr()).toBe('');
  });
});

test('each process start has its own service.instance.id; OTEL_RESOURCE_ATTRIBUTES can set it', async () => {
  const to = await receiver();
  const instanceOf = async (env: SpawnOptions['env']) => {
    const app = await start(to, env);
    const since = Date.now();
    const pushed = await pushedAfter(to, HTTP.requestsBefore.name, since);
    await app.stop();
    return pushed.get(HTTP.requestsBefore.name)!.resource['service.instance.id'];
  };
  const [a, b] = [await instanceOf({}), await instanceOf({})];
  expect(a).not.toBe(b);
  expect(await instanceOf({ OTEL_RESOURCE_ATTRIBUTES: 'service.instance.id=pod-7' })).toBe('pod-7');
});

test('prometheus,otlp: both outputs at once, and the push agrees with the scrape on every django series', async () => {
  const to = await receiver();
  // spawnApp's dedicated port serves the endpoint.
  const app = await start(to, { OTEL_METRICS_EXPORTER: 'prometheus,otlp' });
  await getEach(app, ...TRAFFIC);
  const pushed = [...(await pushedAfter(to, HTTP.requestsBefore.name, Date.now())).values()].filter((m) => m.name.startsWith('django_'));
  const scrape = await app.scrape();
  const compared = pushed.flatMap((m) => comparisons(m, (name, labels) => valueOf(scrape, name, labels)));
  expect(compared.filter(([, pushedValue, scraped]) => pushedValue !== scraped)).toEqual([]);
  expect(app.stderr()).toBe('');
  // Every django series of the scrape was pushed.
  const scrapedDjango = scrape.samples.filter((s) => s.name.startsWith('django_')).length;
  expect(compared.length).toBe(scrapedDjango);
  expect(compared.length).toBeGreaterThan(100);
});

/** [sample, pushed value, scraped value] for every sample the scrape writes of a pushed metric. */
function comparisons(metric: ReceivedMetric, scraped: (name: string, labels: Record<string, string>) => number | undefined): Array<[string, number, number | undefined]> {
  return metric.points.flatMap((p) => {
    const labels = Object.fromEntries(Object.entries(p.attributes).map(([k, v]) => [k, String(v)]));
    const at = (name: string, extra: Record<string, string> = {}) => `${name}${JSON.stringify({ ...labels, ...extra })}`;
    if (p.count === undefined) return [[at(metric.name), p.value!, scraped(metric.name, labels)]];
    let cumulative = 0;
    const buckets = p.bucketCounts!.map((n, i): [string, number, number | undefined] => {
      cumulative += n;
      const le = i < p.explicitBounds!.length ? String(p.explicitBounds![i]) : '+Inf';
      const scrapedLe = scraped(`${metric.name}_bucket`, { ...labels, le: i < p.explicitBounds!.length ? formatFloat(p.explicitBounds![i]!) : '+Inf' });
      return [at(`${metric.name}_bucket`, { le }), cumulative, scrapedLe];
    });
    return [...buckets, [at(`${metric.name}_count`), p.count, scraped(`${metric.name}_count`, labels)], [at(`${metric.name}_sum`), p.sum!, scraped(`${metric.name}_sum`, labels)]];
  });
}

test('the metrics endpoint is used as it is, over the general one; gzip (the metrics setting winning) and headers from both header lists reach the receiver', async () => {
  const to = await receiver();
  await start(to, {
    OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9/elsewhere',
    OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: to.url,
    OTEL_EXPORTER_OTLP_COMPRESSION: 'none',
    OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: 'gzip',
    OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20t0ken,x-scope=general',
    OTEL_EXPORTER_OTLP_METRICS_HEADERS: 'x-scope=metrics',
  });
  await pushedAfter(to, HTTP.requestsBefore.name, Date.now());
  const { headers } = to.requests.at(-1)!;
  expect([headers['content-encoding'], headers['content-type'], headers.authorization, headers['x-scope']]).toEqual(['gzip', 'application/x-protobuf', 'Bearer t0ken', 'metrics']);
});

test('a process that never listens pushes too, once the SDK loads a second after the start', async () => {
  const to = await receiver();
  const started = Date.now();
  await start(to, { OTLP_APP_LISTEN: '0' }, { readyText: 'ready' });
  const orders = (await pushedAfter(to, 'shop_orders', started)).get('shop_orders');
  expect(pointsOf(orders)).toEqual(['{"channel":"batch"} 1']);
  expect(to.requests[0]!.at - started).toBeLessThan(5000);
});

describe('outputs', () => {
  test('OTEL_METRICS_EXPORTER=otlp: no dedicated server even where a port is set (one line says so)', async () => {
    const to = await receiver();
    const app = await spawnApp(APP, { env: { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_ENDPOINT: to.base, OTEL_METRIC_EXPORT_INTERVAL: '200' } });
    running.push(app);
    await pushedAfter(to, HTTP.requestsBefore.name, Date.now());
    await refused(app.metricsPort);
    expect(app.stderr()).toBe('otel-django-metrics: OTEL_METRICS_EXPORTER=otlp serves no Prometheus endpoint: the metrics port settings are not used (prometheus,otlp serves both)\n');
  });

  test.each([['none'], ['prometheus'], [undefined]])('OTEL_METRICS_EXPORTER=%s: nothing pushed', async (exporter) => {
    const to = await receiver();
    const app = await spawnApp(APP, { env: { OTEL_METRICS_EXPORTER: exporter, OTEL_EXPORTER_OTLP_ENDPOINT: to.base, OTEL_METRIC_EXPORT_INTERVAL: '100' } });
    running.push(app);
    await getEach(app, '/view/home');
    // Ten intervals, and the SDK has loaded (the app listens).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(to.requests).toEqual([]);
    if (exporter === 'none') await refused(app.metricsPort);
    else expect(valueOf(await app.scrape(), HTTP.requestsBefore.name)).toBe(1);
  });
});
